"""Every write about money: donations, expenses, gifts in kind and corrections.

Each runs in one transaction with its ledger entry. Nothing is edited: a mistake is reversed by
a correction entry and, where there is a right version, recorded again.
"""

import enum
import hashlib
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from aidhub import audit, clock
from aidhub.uploads import CleanFile
from hubs import services as hub_services
from hubs.models import Hub, Item
from ledger import schemas
from ledger import services as ledger
from ledger.models import Evidence
from ledger.money import MINOR_UNITS, format_amount, parse_amount
from notifications import services as notifications

from . import qrcheck
from .models import (
    Donation,
    Expense,
    ExpenseLine,
    ExpenseReceiptOriginal,
    Fundraiser,
    FundraiserTotal,
    GiftInKind,
    PaymentMethod,
)
from .queries import may_organise, supplied_hubs
from .rates import convert, rate_for

RATE_PLACES = Decimal("0.00000001")


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str


def _money(amount: Decimal | str, currency: str) -> Money:
    return Money(parse_amount(amount, currency), currency)


def _rate_text(rate: Decimal) -> str:
    return f"{rate.normalize():f}"


def _check_open(fundraiser: Fundraiser) -> None:
    if fundraiser.status != Fundraiser.Status.ACTIVE:
        raise ValidationError(
            _("“%(title)s” is closed: it takes no new money.") % {"title": fundraiser.title},
            code="closed",
        )


def _when(moment: datetime) -> datetime:
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    if moment > timezone.now() + timedelta(minutes=5):
        raise ValidationError(_("That time is in the future."), code="future")
    return moment


def _convert(money: Money, fundraiser: Fundraiser, on: datetime, manual_rate: Decimal | None):
    rate = rate_for(
        base=money.currency, quote=fundraiser.currency, on=clock.local_day(on),
        manual=manual_rate,
    )  # fmt: skip
    value = rate.value.quantize(RATE_PLACES)
    if value <= 0:
        raise ValidationError(_("That exchange rate is too small to record."), code="rate")
    return value, rate.source, convert(money.amount, value, fundraiser.currency)


def _mask(reference: str) -> str:
    reference = "".join(reference.split())
    return f"•••• {reference[-4:]}" if reference else ""


def _money_payload(fundraiser: Fundraiser, money: Money, rate: Decimal, source: str,
                   converted: Decimal) -> dict:  # fmt: skip
    return {
        "fundraiser": fundraiser.ledger_ref(),
        "money": {"amount": format_amount(money.amount, money.currency),
                  "currency": money.currency},
        "converted": {"amount": format_amount(converted, fundraiser.currency),
                      "currency": fundraiser.currency},
        "rate": _rate_text(rate),
        "rate_source": source,
    }  # fmt: skip


@transaction.atomic
def donation_record(
    *,
    fundraiser: Fundraiser,
    amount: Decimal | str,
    currency: str,
    received_at: datetime,
    channel: str,
    by: AbstractBaseUser | None,
    public_name: str = "",
    donor_contact: str = "",
    bank_reference: str = "",
    evidence: CleanFile | None = None,
    evidence_covered: bool = False,
    manual_rate: Decimal | None = None,
) -> Donation:
    """Record money received. The donor is anonymous unless `public_name` is given; their
    contact and bank reference stay private. Returns the donation with its receipt code."""
    _check_open(fundraiser)
    money = _money(amount, currency)
    received_at = _when(received_at)
    if channel not in Donation.Channel.values:
        raise ValidationError(_("Unknown channel."), code="channel")
    rate, source, converted = _convert(money, fundraiser, received_at, manual_rate)
    payload = _money_payload(fundraiser, money, rate, source, converted) | {
        "channel": channel,
        "received_at": ledger.utc_timestamp(received_at),
    }
    if public_name.strip():
        payload["public_name"] = public_name.strip()
    evidence_sha = ""
    if evidence is not None:
        if not evidence_covered:
            raise ValidationError(
                _("Confirm that account numbers and names on the screenshot are covered."),
                code="evidence_not_covered",
            )
        evidence_sha = ledger.evidence_store(
            data=evidence.data, content_type=evidence.content_type
        ).sha256
        payload["evidence"] = [evidence_sha]
    entry = ledger.append(kind="donation", payload=payload)
    donation = Donation.objects.create(
        fundraiser=fundraiser,
        amount=money.amount,
        currency=money.currency,
        rate=rate,
        rate_source=source,
        converted_amount=converted,
        received_at=received_at,
        channel=channel,
        public_name=public_name.strip(),
        donor_contact=donor_contact.strip(),
        bank_reference=_mask(bank_reference),
        evidence_sha256=evidence_sha,
        ledger_index=entry.index,
        receipt_code=ledger.receipt_code_issue(entry=entry),
        created_by=_user(by),
    )
    fundraiser_total_add(
        fundraiser=fundraiser, currency=money.currency, raised=money.amount,
        raised_converted=converted, donations=1,
    )  # fmt: skip
    # Read after the write, under the ledger head's lock that every money write holds: two
    # donations at once see each other, so no milestone between them is skipped.
    _announce_milestones(fundraiser, before=_raised(fundraiser) - converted, added=converted)
    audit.record(actor=by, action="donation recorded", target=donation, ledger=entry.index)
    if donation.donor_contact:
        from .tasks import receipt_code_send

        # The receipt is worded in the language the donation was recorded in: the organiser
        # works with the donor in it (the worker's own default would be English for everyone).
        receipt_code_send.delay_on_commit(donation.pk, get_language() or "")
    return donation


@transaction.atomic
def donor_contacts_purge(*, now: datetime | None = None) -> int:
    """Erase donors' contacts DONOR_CONTACT_DAYS after their donation was recorded: the contact
    is kept only to send the receipt code, which went out long before. Returns how many."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.DONOR_CONTACT_DAYS)
    old = Donation.objects.filter(created_at__lt=cutoff).exclude(donor_contact="")
    return old.update(donor_contact="")


MILESTONES = (25, 50, 75, 100)


def _raised(fundraiser: Fundraiser) -> Decimal:
    rows = FundraiserTotal.objects.filter(fundraiser=fundraiser)
    return rows.aggregate(total=Sum("raised_converted"))["total"] or Decimal(0)


def fundraiser_total_add(
    *,
    fundraiser: Fundraiser,
    currency: str,
    raised: Decimal = Decimal(0),
    raised_converted: Decimal = Decimal(0),
    donations: int = 0,
    spent: Decimal = Decimal(0),
    spent_converted: Decimal = Decimal(0),
    expenses: int = 0,
) -> None:
    """Add to the fundraiser's totals in `currency` (negative figures take away), in the
    caller's transaction: every write of money calls it beside its ledger entry. A transfer
    between fundraisers calls it twice, once for each side. The UPDATE with F() adds to what is
    committed, so concurrent writers never lose each other's sums; the CHECK constraint refuses
    a total below zero."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("fundraiser totals change only in the transaction of their money")
    deltas = {
        "raised": raised, "raised_converted": raised_converted, "donations": donations,
        "spent": spent, "spent_converted": spent_converted, "expenses": expenses,
    }  # fmt: skip
    deltas = {name: value for name, value in deltas.items() if value}
    if not deltas:
        return
    rows = FundraiserTotal.objects.filter(fundraiser=fundraiser, currency=currency)
    if rows.update(**{name: F(name) + value for name, value in deltas.items()}):
        return
    try:
        with transaction.atomic():
            FundraiserTotal.objects.create(fundraiser=fundraiser, currency=currency, **deltas)
    except IntegrityError:  # a concurrent write created the row first: add to it
        if not rows.update(**{name: F(name) + value for name, value in deltas.items()}):
            raise


def _announce_milestones(fundraiser: Fundraiser, *, before: Decimal, added: Decimal) -> None:
    """25, 50, 75 and 100 % of the goal: each told once (the event key is unique)."""
    after = before + added
    for percent in MILESTONES:
        mark = fundraiser.goal_amount * percent / 100
        if before < mark <= after:
            notifications.notify(
                event=f"milestone:{fundraiser.slug}:{percent}",
                kind="milestone",
                scopes=[("fundraiser", fundraiser.slug)],
                context={
                    "fundraiser": notifications.in_languages(lambda: fundraiser.title),
                    "percent": percent,
                    # Whole numbers, written in each reader's format when sent.
                    "raised": f"{after:.0f}",
                    "goal": f"{fundraiser.goal_amount:.0f}",
                    "currency": fundraiser.currency,
                    "path": fundraiser.get_absolute_url(),
                },
            )


def _user(by: AbstractBaseUser | None):
    return by if by is not None and by.is_authenticated else None


@transaction.atomic
def expense_record(
    *,
    fundraiser: Fundraiser,
    vendor: str,
    amount: Decimal | str,
    currency: str,
    paid_at: datetime,
    receipt: CleanFile,
    by: AbstractBaseUser | None,
    lines: Sequence[tuple[Item, Decimal]] = (),
    hub: Hub | None = None,
    manual_rate: Decimal | None = None,
) -> Expense:
    """Record money spent, with its receipt. Goods bought go into `hub`'s stock when given, or
    straight onto a delivery when not."""
    if receipt is None:
        raise ValidationError(_("An expense needs its receipt."), code="receipt")
    if not vendor.strip():
        raise ValidationError(_("Say who was paid."), code="vendor")
    money = _money(amount, currency)
    paid_at = _when(paid_at)
    checked = hub_services.check_lines(lines) if lines else []
    if hub is not None and not checked:
        raise ValidationError(_("List the goods that went into the hub."), code="no_lines")
    if hub is not None and not supplied_hubs(fundraiser).filter(pk=hub.pk).exists():
        # Goods in a hub's stock are that hub's to hand out: only hubs linked to the
        # fundraiser take its purchases (groups and their consent come later).
        raise ValidationError(
            _("%(hub)s is not a hub this fundraiser supplies. Choose one of its own hubs.")
            % {"hub": hub.name},
            code="hub_not_supplied",
        )
    rate, source, converted = _convert(money, fundraiser, paid_at, manual_rate)
    stored = ledger.evidence_store(data=receipt.data, content_type=receipt.content_type)
    payload = _money_payload(fundraiser, money, rate, source, converted) | {
        "vendor": vendor.strip(),
        "paid_at": ledger.utc_timestamp(paid_at),
        "evidence": [stored.sha256],
    }
    if checked:
        payload["items"] = [item.ledger_line(q) for item, q in checked]
    if hub is not None:
        payload["hub"] = hub.ledger_ref()
    entry = ledger.append(kind="expense", payload=payload)
    expense = Expense.objects.create(
        fundraiser=fundraiser,
        vendor=vendor.strip(),
        amount=money.amount,
        currency=money.currency,
        rate=rate,
        rate_source=source,
        converted_amount=converted,
        paid_at=paid_at,
        hub=hub,
        receipt_sha256=stored.sha256,
        ledger_index=entry.index,
        created_by=_user(by),
    )
    ExpenseLine.objects.bulk_create(
        ExpenseLine(expense=expense, item=item, quantity=q) for item, q in checked
    )
    fundraiser_total_add(
        fundraiser=fundraiser, currency=money.currency, spent=money.amount,
        spent_converted=converted, expenses=1,
    )  # fmt: skip
    if receipt.private_original:
        ExpenseReceiptOriginal.objects.create(
            expense=expense,
            data=receipt.private_original,
            sha256=hashlib.sha256(receipt.private_original).hexdigest(),
        )
    if hub is not None:
        hub_services.hub_receive_goods(
            hub=hub, lines=checked, by=by, fundraiser=fundraiser.ledger_ref(), purchase=True
        )
    audit.record(actor=by, action="expense recorded", target=expense, ledger=entry.index)
    return expense


@transaction.atomic
def gift_in_kind_record(
    *, hub: Hub, lines: Sequence[tuple[Item, Decimal]], by: AbstractBaseUser | None,
    public_name: str = "",
) -> GiftInKind:  # fmt: skip
    index = hub_services.hub_receive_goods(hub=hub, lines=lines, by=by, public_name=public_name)
    return GiftInKind.objects.create(
        hub=hub, public_name=public_name.strip(), ledger_index=index, created_by=_user(by)
    )


@transaction.atomic
def correction_record(*, row: Donation | Expense, reason: str, by: AbstractBaseUser | None) -> int:
    """Reverse a donation or an expense in the ledger. Goods an expense put into a hub are
    taken back out, so recording the right expense again does not count them twice."""
    if not reason.strip():
        raise ValidationError(_("Say what was wrong."), code="reason")
    if type(row).objects.filter(pk=row.pk, corrected_by_index__isnull=False).exists():
        raise ValidationError(_("This was already corrected."), code="already_corrected")
    entry = ledger.append(
        kind="correction",
        payload={
            "reverses": row.ledger_index,
            "reason": reason.strip(),
            "fundraiser": row.fundraiser.ledger_ref(),
        },
    )
    claimed = (
        type(row)
        .objects.filter(pk=row.pk, corrected_by_index__isnull=True)
        .update(corrected_by_index=entry.index)
    )
    if not claimed:
        raise ValidationError(_("This was already corrected."), code="already_corrected")
    if isinstance(row, Expense):
        fundraiser_total_add(
            fundraiser=row.fundraiser, currency=row.currency, spent=-row.amount,
            spent_converted=-row.converted_amount, expenses=-1,
        )  # fmt: skip
    else:
        fundraiser_total_add(
            fundraiser=row.fundraiser, currency=row.currency, raised=-row.amount,
            raised_converted=-row.converted_amount, donations=-1,
        )  # fmt: skip
    if isinstance(row, Expense) and row.hub_id:
        for line in row.lines.select_related("item"):
            hub_services.stock_adjust(
                hub=row.hub, item=line.item, delta=-line.quantity, by=by,
                reason=_("correction of ledger entry %(index)s") % {"index": row.ledger_index},
            )  # fmt: skip
    row.corrected_by_index = entry.index
    audit.record(
        actor=by,
        action="correction recorded",
        target=row,
        ledger=entry.index,
        reason=reason.strip(),
    )
    return entry.index


def _check_organiser_of(fundraiser: Fundraiser, by: AbstractBaseUser) -> None:
    if not may_organise(by, fundraiser):
        raise ValidationError(
            _("Only the organiser of “%(title)s” can do this.") % {"title": fundraiser.title},
            code="not_organiser",
        )


@transaction.atomic
def donor_contact_erase(*, donation: Donation, by: AbstractBaseUser) -> bool:
    """Erase a donor's contact at their request, before `donor_contacts_purge` would. The
    ledger and the donation's money are untouched; the audit trail notes that it was erased,
    never what it was. True if there was a contact to erase."""
    _check_organiser_of(donation.fundraiser, by)
    erased = (
        Donation.objects.filter(pk=donation.pk).exclude(donor_contact="").update(donor_contact="")
    )
    donation.donor_contact = ""
    if erased:
        audit.record(actor=by, action="donor contact erased", target=donation)
    return bool(erased)


@transaction.atomic
def expense_receipt_original_delete(*, expense: Expense, by: AbstractBaseUser) -> bool:
    """Delete the PDF kept as an expense's receipt came (`ExpenseReceiptOriginal`). What the
    ledger published, the image of its pages (`Expense.receipt_sha256`), stays as it is. True
    if there was an original to delete."""
    _check_organiser_of(expense.fundraiser, by)
    original = ExpenseReceiptOriginal.objects.filter(expense=expense).values("pk", "sha256")
    kept = original.first()
    if kept is None or not ExpenseReceiptOriginal.objects.filter(pk=kept["pk"]).delete()[0]:
        return False
    audit.record(actor=by, action="receipt original deleted", target=expense, sha256=kept["sha256"])
    return True


# Ways to pay. Each change appends a `payment_details` entry with the full list shown after
# it, so anyone can see when an account number changed, from what and to what. A change
# approved by a second organiser comes with groups (a later issue); until then the
# fundraiser's organiser (or a superuser) makes it alone, and the ledger makes it public.

PAYMENT_FIELDS = ("kind", "label", "details", "recipient_name", "currency", "order", "active")
# What the page shows but the ledger does not keep (see PaymentMethod.ledger_line).
PAGE_ONLY_FIELDS = ("recipient_name",)


class PaymentChange(enum.IntEnum):
    """What `payment_method_change` did; false when nothing changed."""

    NOTHING = 0
    PAGE_ONLY = 1  # only the recipient name: the page changed, no ledger entry
    LEDGER = 2  # a `payment_details` entry was appended


def _has_hidden_or_digits(name: str) -> bool:
    return schemas.has_hidden_characters(name) or any(unicodedata.category(c) == "Nd" for c in name)


def payment_method_check(method: PaymentMethod) -> None:
    """Clear errors, per field, before the ledger's own checks. The details are NFKC-normalised
    first, so a look-alike digit such as １ becomes 1 and duplicates are found as typed."""
    errors: dict[str, str] = {}
    details = unicodedata.normalize("NFKC", method.details)
    method.label, method.details = method.label.strip(), " ".join(details.split())
    method.recipient_name = method.recipient_name.strip()
    if method.kind not in PaymentMethod.Kind.values:
        errors["kind"] = _("Choose how donors pay: bank transfer, card, e-wallet or cash.")
    if not method.label:
        errors["label"] = _("Name the bank, wallet or hub, e.g. Kaspi or MBank.")
    else:
        try:
            schemas.check_label(method.label, "label")
        except ValidationError:
            errors["label"] = _("Put numbers in the details, not in the name.")
    if not method.details:
        errors["details"] = _("Give the account, card number, phone number or hub.")
    elif not schemas.PAYMENT_DETAILS.match(method.details) or schemas.has_hidden_characters(
        details
    ):
        errors["details"] = _(
            "Details may hold only letters, digits, spaces and . , : ; / ( ) - + # "
            "(no e-mail addresses or links)."
        )
    elif not schemas.PAYMENT_DETAILS_PLAIN.match(method.details):
        errors["details"] = _(
            "Write the details with Latin letters A–Z and the digits 0–9 only: other "
            "alphabets and look-alike digits are refused, so donors pay what they read."
        )
    if _has_hidden_or_digits(method.recipient_name):
        errors["recipient_name"] = _(
            "Write the recipient's name as the bank shows it, without digits or invisible "
            "characters."
        )
    if method.currency not in MINOR_UNITS:
        errors["currency"] = _("Choose the currency these details take.")
    if errors:
        raise ValidationError(errors)
    duplicate = PaymentMethod.objects.filter(
        fundraiser=method.fundraiser_id, kind=method.kind, details=method.details,
        currency=method.currency, active=True,
    ).exclude(pk=method.pk)  # fmt: skip
    if method.active and duplicate.exists():
        raise ValidationError(
            {"details": _("These details are already listed for this fundraiser.")},
            code="duplicate",
        )


def _payment_details_publish(
    fundraiser: Fundraiser, *, by: AbstractBaseUser, action: str, method: PaymentMethod | str
) -> int:
    """Append the list of ways to pay as it now stands; audit who changed it. Its index."""
    shown = list(fundraiser.payment_methods.filter(active=True).order_by("order", "id"))
    payload: dict = {
        "fundraiser": fundraiser.ledger_ref(),
        "methods": [m.ledger_line() for m in shown],
    }
    qr_codes = sorted({m.qr_sha256 for m in shown if m.qr_sha256})
    if qr_codes:
        payload["evidence"] = qr_codes
    entry = ledger.append(kind="payment_details", payload=payload)
    audit.record(
        actor=by, action=action, target=method, ledger=entry.index, fundraiser=fundraiser.slug
    )
    return entry.index


def _locked_fundraiser(fundraiser: Fundraiser, by: AbstractBaseUser) -> Fundraiser:
    # One change at a time per fundraiser, so each entry lists what was really shown after it.
    _check_organiser_of(fundraiser, by)
    return Fundraiser.objects.select_for_update().get(pk=fundraiser.pk)


def _qr_store(qr: CleanFile | None) -> str:
    if qr is None:
        return ""
    return ledger.evidence_store(data=qr.data, content_type=qr.content_type).sha256


def payment_qr_check(
    *, kind: str, details: str, qr: CleanFile | None = None, kept_sha256: str = ""
) -> None:
    """Refuse a QR code that does not pay `details` (donations.qrcheck): the new `qr`, or else
    the one already on file (`kept_sha256`) when the details it was checked against change.
    `details` as payment_method_check leaves them. Errors are keyed "qr"."""
    if qr is not None:
        qrcheck.qr_check(kind=kind, details=details, data=qr.data)
        return
    if not kept_sha256:
        return
    evidence = Evidence.objects.filter(sha256=kept_sha256).first()
    data = b""
    if evidence is not None:
        with evidence.file.open("rb") as stored:
            data = stored.read()
    try:
        qrcheck.qr_check(kind=kind, details=details, data=data)
    except ValidationError:
        raise ValidationError(
            {"qr": _("The QR code on file does not pay these details. Upload the QR code of "
                     "the new details, or remove the QR code.")},
            code="qr_kept_mismatch",
        ) from None  # fmt: skip


@transaction.atomic
def payment_method_add(
    *,
    fundraiser: Fundraiser,
    by: AbstractBaseUser,
    kind: str,
    label: str,
    details: str,
    currency: str,
    recipient_name: str = "",
    qr: CleanFile | None = None,
    order: int | None = None,
    active: bool = True,
) -> PaymentMethod:
    """List a new way to pay. `qr` comes from aidhub.uploads.clean_image (re-encoded, no
    metadata). Appends a `payment_details` ledger entry with the full list."""
    fundraiser = _locked_fundraiser(fundraiser, by)
    if order is None:
        last = fundraiser.payment_methods.order_by("-order").values_list("order", flat=True)
        order = (last.first() or 0) + 1
    method = PaymentMethod(
        fundraiser=fundraiser, kind=kind, label=label, details=details, currency=currency,
        recipient_name=recipient_name, order=order, active=active,
    )  # fmt: skip
    payment_method_check(method)
    payment_qr_check(kind=method.kind, details=method.details, qr=qr)
    method.qr_sha256, method.qr_checked = _qr_store(qr), qr is not None
    method.save()
    _payment_details_publish(fundraiser, by=by, action="payment method added", method=method)
    return method


@transaction.atomic
def payment_method_change(
    *,
    method: PaymentMethod,
    by: AbstractBaseUser,
    qr: CleanFile | None = None,
    qr_remove: bool = False,
    **changes: object,
) -> PaymentChange:
    """Change a way to pay (any of PAYMENT_FIELDS; a new `qr`, or `qr_remove`). Appends a
    ledger entry when what the ledger lists changed; a change of the recipient name alone
    (not in the ledger) is saved without one. False if nothing changed."""
    unknown = set(changes) - set(PAYMENT_FIELDS)
    if unknown:
        raise TypeError(f"not a field of a way to pay: {sorted(unknown)}")
    fundraiser = _locked_fundraiser(method.fundraiser, by)
    method = PaymentMethod.objects.get(pk=method.pk, fundraiser=fundraiser)
    before = {name: getattr(method, name) for name in (*PAYMENT_FIELDS, "qr_sha256")}
    for name, value in changes.items():
        setattr(method, name, value)
    payment_method_check(method)
    if qr is not None:
        payment_qr_check(kind=method.kind, details=method.details, qr=qr)
        method.qr_sha256, method.qr_checked = _qr_store(qr), True
    elif qr_remove:
        method.qr_sha256, method.qr_checked = "", False
    elif method.qr_sha256 and (method.kind, method.details) != (before["kind"], before["details"]):
        # The QR code kept must still pay what the page now shows beside it.
        payment_qr_check(kind=method.kind, details=method.details, kept_sha256=method.qr_sha256)
        method.qr_checked = True
    after = {name: getattr(method, name) for name in before}
    if after == before:
        return PaymentChange.NOTHING
    method.save()
    changed = {name for name in before if after[name] != before[name]}
    if changed <= set(PAGE_ONLY_FIELDS):
        audit.record(actor=by, action="payment method recipient changed", target=method,
                     fundraiser=fundraiser.slug)  # fmt: skip
        return PaymentChange.PAGE_ONLY
    _payment_details_publish(fundraiser, by=by, action="payment method changed", method=method)
    return PaymentChange.LEDGER


@transaction.atomic
def payment_method_remove(*, method: PaymentMethod, by: AbstractBaseUser) -> int:
    """Take a way to pay off the fundraiser. The ledger keeps every earlier list; the new entry
    lists what is left. Returns the entry's index."""
    fundraiser = _locked_fundraiser(method.fundraiser, by)
    method = PaymentMethod.objects.get(pk=method.pk, fundraiser=fundraiser)
    label = str(method)
    method.delete()
    return _payment_details_publish(
        fundraiser, by=by, action="payment method removed", method=label
    )
