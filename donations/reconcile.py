"""Raised + received − sent − spent equals balance, computed twice: from the public ledger's
entries and from the database's rows. Any difference is flagged with the entries involved. The
fundraiser's stored totals (`FundraiserTotal`, what its page shows) are checked against both.
`reconcile_group` does it for every fundraiser of a group (money passed between groups is
received by one and sent by another)."""

import json
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ledger.models import LedgerEntry, LedgerRef

from .models import Donation, Expense, Fundraiser, FundraiserTotal, MoneyTransfer

# The figures a totals row keeps, in the words a reconciliation report uses for them.
FIGURES = {
    "raised": gettext_lazy("raised"),
    "raised_converted": gettext_lazy("raised, in the fundraiser's currency"),
    "donations": gettext_lazy("donations"),
    "spent": gettext_lazy("spent"),
    "spent_converted": gettext_lazy("spent, in the fundraiser's currency"),
    "expenses": gettext_lazy("expenses"),
    "received": gettext_lazy("received from other groups"),
    "received_converted": gettext_lazy("received, in the fundraiser's currency"),
    "transfers_in": gettext_lazy("transfers received"),
    "sent": gettext_lazy("passed on to other groups"),
    "sent_converted": gettext_lazy("passed on, in the fundraiser's currency"),
    "transfers_out": gettext_lazy("transfers passed on"),
}
# Which figures each kind of money adds to: (amount, converted, count).
KIND_FIGURES = {
    "donation": ("raised", "raised_converted", "donations"),
    "expense": ("spent", "spent_converted", "expenses"),
    "received": ("received", "received_converted", "transfers_in"),
    "sent": ("sent", "sent_converted", "transfers_out"),
}


@dataclass
class Side:
    raised: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    spent: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    received: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    sent: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    raised_converted: Decimal = Decimal(0)
    spent_converted: Decimal = Decimal(0)
    received_converted: Decimal = Decimal(0)
    sent_converted: Decimal = Decimal(0)
    entries: dict[int, tuple[str, Decimal, str, Decimal]] = field(default_factory=dict)

    @property
    def balance(self) -> Decimal:
        return (
            self.raised_converted + self.received_converted - self.sent_converted
            - self.spent_converted
        )  # fmt: skip

    def per_currency(self) -> list[tuple[str, Decimal, Decimal]]:
        """(currency, in, out) rows for templates, which cannot iterate a defaultdict."""
        currencies = sorted(set(self.raised) | set(self.spent))
        return [(c, self.raised.get(c, Decimal(0)), self.spent.get(c, Decimal(0)))
                for c in currencies]  # fmt: skip


@dataclass
class Report:
    fundraiser: Fundraiser
    ledger: Side
    database: Side
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def _from_ledger(fundraiser: Fundraiser) -> Side:
    """Live money entries of the fundraiser: donations and expenses no correction reversed."""
    side = Side()
    indexes = LedgerRef.objects.filter(scope="fundraiser", ref=fundraiser.slug).values("entry_id")
    entries = LedgerEntry.objects.filter(index__in=indexes).order_by("index")
    money: dict[int, tuple[str, Decimal, str, Decimal]] = {}
    reversed_indexes: set[int] = set()
    for entry in entries.only("index", "kind", "leaf").iterator(chunk_size=2000):
        payload = json.loads(bytes(entry.leaf))["payload"]
        if entry.kind in ("donation", "expense"):
            money[entry.index] = (
                entry.kind,
                Decimal(payload["money"]["amount"]),
                payload["money"]["currency"],
                Decimal(payload["converted"]["amount"]),
            )
        elif entry.kind == "money_transfer":
            # The sender counts it in its own currency, the receiver converted into its own.
            sent = payload["from_fundraiser"]["id"] == fundraiser.slug
            amount = Decimal(payload["money"]["amount"])
            money[entry.index] = (
                "sent" if sent else "received",
                amount,
                payload["money"]["currency"],
                amount if sent else Decimal(payload["converted"]["amount"]),
            )
        elif entry.kind == "correction":
            reversed_indexes.add(payload["reverses"])
    for index, (kind, amount, currency, converted) in money.items():
        if index not in reversed_indexes:
            _add(side, kind, amount, currency, converted)
            side.entries[index] = (kind, amount, currency, converted)
    return side


def _add(side: Side, kind: str, amount: Decimal, currency: str, converted: Decimal) -> None:
    name = KIND_FIGURES[kind][0]
    getattr(side, name)[currency] += amount
    setattr(side, f"{name}_converted", getattr(side, f"{name}_converted") + converted)


def _from_database(fundraiser: Fundraiser) -> Side:
    side = Side()
    for model, kind in ((Donation, "donation"), (Expense, "expense")):
        rows = model.objects.filter(fundraiser=fundraiser, corrected_by_index__isnull=True)
        for row in rows.only("amount", "currency", "converted_amount", "ledger_index"):
            _add(side, kind, row.amount, row.currency, row.converted_amount)
            side.entries[row.ledger_index] = (kind, row.amount, row.currency, row.converted_amount)
    accepted = MoneyTransfer.objects.filter(acceptance=MoneyTransfer.Acceptance.ACCEPTED)
    for row in accepted.filter(fundraiser=fundraiser):
        _add(side, "sent", row.amount, row.currency, row.amount)
        side.entries[row.ledger_index] = ("sent", row.amount, row.currency, row.amount)
    for row in accepted.filter(to_fundraiser=fundraiser):
        _add(side, "received", row.amount, row.currency, row.converted_amount)
        side.entries[row.ledger_index] = ("received", row.amount, row.currency,
                                          row.converted_amount)  # fmt: skip
    return side


def _figures(side: Side) -> dict[str, dict[str, Decimal]]:
    """Per original currency, the figures a totals row keeps, summed from a side's entries."""
    figures: dict[str, dict[str, Decimal]] = defaultdict(lambda: dict.fromkeys(FIGURES, Decimal(0)))
    for kind, amount, currency, converted in side.entries.values():
        for name, value in zip(KIND_FIGURES[kind], (amount, converted, 1), strict=True):
            figures[currency][name] += value
    return figures


def _stored_problems(fundraiser: Fundraiser, from_ledger: Side, from_db: Side) -> list[str]:
    """Each stored total that differs from what the ledger or the money rows add up to."""
    stored = {
        row["currency"]: row
        for row in FundraiserTotal.objects.filter(fundraiser=fundraiser).values(
            "currency", *FIGURES
        )
    }
    ledger, records = _figures(from_ledger), _figures(from_db)
    zero = dict.fromkeys(FIGURES, Decimal(0))
    problems = []
    for currency in sorted(set(stored) | set(ledger) | set(records)):
        row = stored.get(currency, zero)
        for name, label in FIGURES.items():
            said = (row[name], ledger.get(currency, zero)[name], records.get(currency, zero)[name])
            if said[0] != said[1] or said[0] != said[2]:
                problems.append(
                    _(
                        "Stored totals in %(currency)s: %(figure)s %(stored)s, but the ledger "
                        "says %(ledger)s and the records %(records)s."
                    )
                    % {
                        "currency": currency,
                        "figure": label,
                        "stored": said[0],
                        "ledger": said[1],
                        "records": said[2],
                    }
                )
    return problems


def reconcile(fundraiser: Fundraiser) -> Report:
    from_ledger, from_db = _from_ledger(fundraiser), _from_database(fundraiser)
    problems = []
    for label, a, b in (("raised", from_ledger.raised, from_db.raised),
                        ("received", from_ledger.received, from_db.received),
                        ("sent", from_ledger.sent, from_db.sent),
                        ("spent", from_ledger.spent, from_db.spent)):  # fmt: skip
        for currency in sorted(set(a) | set(b)):
            if a.get(currency, 0) != b.get(currency, 0):
                problems.append(
                    f"{label} in {currency}: ledger {a.get(currency, 0)}, "
                    f"database {b.get(currency, 0)}"
                )
    if from_ledger.balance != from_db.balance:
        problems.append(
            f"balance in {fundraiser.currency}: ledger {from_ledger.balance}, "
            f"database {from_db.balance}"
        )
    live_ledger = set(from_ledger.entries)
    for index in sorted(live_ledger ^ set(from_db.entries)):
        where = "only in the ledger" if index in live_ledger else "only in the database"
        problems.append(f"entry {index}: {where}")
    for index in sorted(live_ledger & set(from_db.entries)):
        if from_ledger.entries[index] != from_db.entries[index]:
            problems.append(
                f"entry {index}: ledger says {from_ledger.entries[index][1:]}, "
                f"database says {from_db.entries[index][1:]}"
            )
    problems += _stored_problems(fundraiser, from_ledger, from_db)
    return Report(fundraiser, from_ledger, from_db, problems)


@dataclass
class GroupReport:
    group: object
    fundraisers: list[Report]

    @property
    def ok(self) -> bool:
        return all(report.ok for report in self.fundraisers)

    def balances(self) -> dict[str, tuple[Decimal, Decimal]]:
        """Per currency of the group's fundraisers: (balance from the ledger, from the rows)."""
        sums: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
        for report in self.fundraisers:
            pair = sums[report.fundraiser.currency]
            pair[0] += report.ledger.balance
            pair[1] += report.database.balance
        return {currency: (a, b) for currency, (a, b) in sorted(sums.items())}


def reconcile_group(group) -> GroupReport:
    """`reconcile` for each fundraiser of `group`."""
    fundraisers = Fundraiser.objects.filter(group=group).order_by("slug")
    return GroupReport(group, [reconcile(fundraiser) for fundraiser in fundraisers])
