"""Every write about money: donations, expenses, gifts in kind and corrections.

Each runs in one transaction with its ledger entry. Nothing is edited: a mistake is reversed by
a correction entry and, where there is a right version, recorded again.
"""

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
from django.db.models import F, Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from aidhub import audit, clock
from aidhub.uploads import CleanFile
from groups import queries as group_queries
from groups import services as group_services
from groups.models import Member
from groups.queries import MONEY_ROLES
from hubs import queries as hub_queries
from hubs import services as hub_services
from hubs.models import Hub, Item
from ledger import schemas
from ledger import services as ledger
from ledger.models import Evidence
from ledger.money import MINOR_UNITS, format_amount, parse_amount
from notifications import queries as notification_queries
from notifications import services as notifications

from . import qrcheck
from .models import (
    Donation,
    Expense,
    ExpenseLine,
    ExpenseProposal,
    ExpenseReceiptOriginal,
    Fundraiser,
    FundraiserHandover,
    FundraiserTotal,
    GiftInKind,
    GoodsOffer,
    MoneyTransfer,
    PaymentMethod,
    PaymentMethodProposal,
    Proposal,
)
from .queries import goods_need_consent, may_organise, supplied_hubs
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
    received: Decimal = Decimal(0),
    received_converted: Decimal = Decimal(0),
    transfers_in: int = 0,
    sent: Decimal = Decimal(0),
    sent_converted: Decimal = Decimal(0),
    transfers_out: int = 0,
) -> None:
    """Add to the fundraiser's totals in `currency` (negative figures take away), in the
    caller's transaction: every write of money calls it beside its ledger entry. A transfer
    between fundraisers calls it twice, once for each side. The row is locked (select_for_update)
    before it is added to, so concurrent writers never lose each other's sums; the CHECK
    constraint refuses a total below zero."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("fundraiser totals change only in the transaction of their money")
    deltas = {
        "raised": raised, "raised_converted": raised_converted, "donations": donations,
        "spent": spent, "spent_converted": spent_converted, "expenses": expenses,
        "received": received, "received_converted": received_converted,
        "transfers_in": transfers_in, "sent": sent, "sent_converted": sent_converted,
        "transfers_out": transfers_out,
    }  # fmt: skip
    deltas = {name: value for name, value in deltas.items() if value}
    if not deltas:
        return
    rows = FundraiserTotal.objects.filter(fundraiser=fundraiser, currency=currency)
    # Added in Python under the row's lock, not with F(): SQLite adds decimals as floats, and
    # 0.1 + 0.2 - 0.3 came out below zero and broke the CHECK (test_balances found it).
    row = rows.select_for_update().first()
    if row is not None:
        for name, value in deltas.items():
            setattr(row, name, getattr(row, name) + value)
        row.save(update_fields=list(deltas))
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


def _expense_check(
    *, fundraiser: Fundraiser, vendor: str, amount: Decimal | str, currency: str,
    paid_at: datetime, receipt: CleanFile | None, lines: Sequence[tuple[Item, Decimal]],
    hub: Hub | None, manual_rate: Decimal | None,
) -> tuple[Money, datetime, list, tuple[Decimal, str, Decimal]]:  # fmt: skip
    """What an expense must be, checked when it is proposed and again when it is approved:
    (money, paid_at, checked lines, (rate, source, converted))."""
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
    return money, paid_at, checked, _convert(money, fundraiser, paid_at, manual_rate)


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
    approved_by: str,
    lines: Sequence[tuple[Item, Decimal]] = (),
    hub: Hub | None = None,
    manual_rate: Decimal | None = None,
) -> Expense:
    """Write the public expense: its ledger entry, its receipt as evidence, its goods into
    `hub`'s stock when given (or straight onto a delivery when not). The one writer of a public
    expense, called only by `expense_approve` once a second person approved it: `by` is who
    proposed it, `approved_by` the role of who approved it (the ledger names the role)."""
    if approved_by not in MONEY_ROLES:
        raise ValueError(f"an expense is approved by an organiser or treasurer: {approved_by!r}")
    money, paid_at, checked, (rate, source, converted) = _expense_check(
        fundraiser=fundraiser, vendor=vendor, amount=amount, currency=currency, paid_at=paid_at,
        receipt=receipt, lines=lines, hub=hub, manual_rate=manual_rate,
    )  # fmt: skip
    stored = ledger.evidence_store(data=receipt.data, content_type=receipt.content_type)
    payload = _money_payload(fundraiser, money, rate, source, converted) | {
        "vendor": vendor.strip(),
        "paid_at": ledger.utc_timestamp(paid_at),
        "evidence": [stored.sha256],
        "approved_by": approved_by,
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
    if hub is not None and goods_need_consent(fundraiser, hub):
        # Another group's hub: the goods wait for one of its coordinators to accept them.
        GoodsOffer.objects.create(expense=expense)
    elif hub is not None:
        hub_services.hub_receive_goods(
            hub=hub, lines=checked, by=by, fundraiser=fundraiser.ledger_ref(), purchase=True
        )
    audit.record(actor=by, action="expense recorded", target=expense, ledger=entry.index)
    return expense


# Two people for every payment. An expense and each change to the ways to pay is proposed by
# one money person of the fundraiser's group (an active organiser or treasurer) and becomes
# public only when a second, different one approves it; either may reject it with a reason.
# The group needs two money people before anything can be proposed. The one home of these
# checks: the site's forms and the admin both call these services.


def _check_proposer(fundraiser: Fundraiser, by: AbstractBaseUser) -> str:
    """Refuse unless `by` is an active organiser or treasurer of the fundraiser's group and the
    group has a second one to approve. Their role."""
    role = group_queries.money_role(by, fundraiser.group_id)
    if role is None:
        raise ValidationError(
            _("Only an active organiser or treasurer of “%(group)s” can propose this.")
            % {"group": fundraiser.group.name},
            code="not_money_person",
        )
    if group_queries.money_people(fundraiser.group).count() < 2:
        raise ValidationError(
            _(
                "Every payment needs a second person to approve it, and “%(group)s” has only "
                "one active organiser or treasurer. Ask a site administrator to add a second "
                "one first."
            )
            % {"group": fundraiser.group.name},
            code="one_money_person",
        )
    return role


def _check_approver(proposal: Proposal, by: AbstractBaseUser) -> str:
    """Refuse unless `proposal` still waits and `by` is a second, different active organiser or
    treasurer of its fundraiser's group. The role they approve in."""
    if not proposal.is_pending:
        raise ValidationError(
            _("This was already %(decision)s: nothing was changed.")
            % {"decision": proposal.get_status_display().lower()},
            code="already_decided",
        )
    if by.pk == proposal.proposed_by_id:
        raise ValidationError(
            _("You proposed this yourself: a second organiser or treasurer must approve it."),
            code="own_proposal",
        )
    role = group_queries.money_role(by, proposal.fundraiser.group_id)
    if role is None:
        raise ValidationError(
            _("Only an active organiser or treasurer of “%(group)s” can approve this.")
            % {"group": proposal.fundraiser.group.name},
            code="not_money_person",
        )
    return role


def _check_rejecter(proposal: Proposal, by: AbstractBaseUser, reason: str) -> str:
    if not proposal.is_pending:
        raise ValidationError(
            _("This was already %(decision)s: nothing was changed.")
            % {"decision": proposal.get_status_display().lower()},
            code="already_decided",
        )
    if group_queries.money_role(by, proposal.fundraiser.group_id) is None:
        raise ValidationError(
            _("Only an active organiser or treasurer of “%(group)s” can reject this.")
            % {"group": proposal.fundraiser.group.name},
            code="not_money_person",
        )
    if not reason.strip():
        raise ValidationError(_("Say why it is rejected."), code="reason")
    return reason.strip()


def _locked_pending(proposal: Proposal):
    """The proposal's row, locked until the transaction ends: of two approvals at once the
    second waits here and then finds it decided (a no-op lock on SQLite, which has one writer)."""
    model = type(proposal)
    rows = model.objects.select_for_update(of=("self",)).select_related("fundraiser__group")
    return rows.get(pk=proposal.pk)


def _decide(proposal, *, by: AbstractBaseUser, status: str, role: str = "", reason: str = "",
            **fields: object) -> None:  # fmt: skip
    """Move a pending proposal to `status`, once (groups.services.decide_once)."""
    group_services.decide_once(
        proposal, status=status, decided_by=by, decided_role=role, decided_at=timezone.now(),
        reason=reason, **fields,
    )  # fmt: skip


def _announce_proposal(proposal: Proposal, what: str, *, to: Fundraiser | None = None) -> int:
    """E-mail the group's other money people that something waits for their approval, each in
    their own language, through the notification outbox (sent after commit). With `to`, the
    money people of that fundraiser's group instead (a transfer that waits for acceptance)."""
    fundraiser = to or proposal.fundraiser
    others = (
        group_queries.money_people(fundraiser.group)
        .exclude(pk=proposal.proposed_by_id)
        .exclude(email="")
    )
    languages = notification_queries.languages_of(user.pk for user in others)
    sent = 0
    for user in others:
        sent += notifications.notify_address(
            event=f"approval:{what}:{proposal.pk}:{user.pk}",
            kind="approval",
            channel="email",
            address=user.email,
            language=languages[user.pk],
            context={
                "fundraiser": notifications.in_languages(lambda: fundraiser.title),
                "what": what,
                "path": reverse("donations:manage", args=[fundraiser.slug]),
            },
        )
    return sent


@transaction.atomic
def expense_propose(
    *,
    fundraiser: Fundraiser,
    vendor: str,
    amount: Decimal | str,
    currency: str,
    paid_at: datetime,
    receipt: CleanFile | None,
    by: AbstractBaseUser,
    lines: Sequence[tuple[Item, Decimal]] = (),
    hub: Hub | None = None,
    manual_rate: Decimal | None = None,
) -> ExpenseProposal:
    """Propose an expense with its receipt (from aidhub.uploads.clean_receipt). Nothing is
    public yet: the receipt is kept privately until a second person approves it. Every check
    `expense_record` makes is made now, so a proposal that waits can be approved."""
    _check_proposer(fundraiser, by)
    money, paid_at, checked, _rate = _expense_check(
        fundraiser=fundraiser, vendor=vendor, amount=amount, currency=currency, paid_at=paid_at,
        receipt=receipt, lines=lines, hub=hub, manual_rate=manual_rate,
    )  # fmt: skip
    proposal = ExpenseProposal.objects.create(
        fundraiser=fundraiser,
        vendor=vendor.strip(),
        amount=money.amount,
        currency=money.currency,
        paid_at=paid_at,
        manual_rate=manual_rate,
        hub=hub,
        lines=[{"item": item.pk, "quantity": str(q)} for item, q in checked],
        receipt=receipt.data,
        receipt_type=receipt.content_type,
        receipt_original=receipt.private_original,
        proposed_by=by,
    )
    audit.record(actor=by, action="expense proposed", target=proposal,
                 fundraiser=fundraiser.slug)  # fmt: skip
    _announce_proposal(proposal, "expense")
    return proposal


def proposal_lines(proposal: ExpenseProposal) -> list[tuple[Item, Decimal]]:
    """The goods of a proposed expense, as (item, quantity)."""
    items = Item.objects.in_bulk([line["item"] for line in proposal.lines])
    lines = []
    for line in proposal.lines:
        if line["item"] not in items:
            raise ValidationError(
                _("An item of this expense is no longer in the catalogue: reject it and "
                  "propose it again."),
                code="item_gone",
            )  # fmt: skip
        lines.append((items[line["item"]], Decimal(line["quantity"])))
    return lines


@transaction.atomic
def expense_approve(*, proposal: ExpenseProposal, by: AbstractBaseUser) -> Expense:
    """A second organiser or treasurer, having seen the receipt, approves the expense: now it is
    written (`expense_record`), its receipt published and its goods put into the hub, with the
    approver's role in the ledger entry. Approved once, however many approve at the same time."""
    proposal = _locked_pending(proposal)
    role = _check_approver(proposal, by)
    receipt = CleanFile(bytes(proposal.receipt), proposal.receipt_type,
                        bytes(proposal.receipt_original))  # fmt: skip
    expense = expense_record(
        fundraiser=proposal.fundraiser, vendor=proposal.vendor, amount=proposal.amount,
        currency=proposal.currency, paid_at=proposal.paid_at, receipt=receipt,
        by=proposal.proposed_by, approved_by=role, lines=proposal_lines(proposal),
        hub=proposal.hub, manual_rate=proposal.manual_rate,
    )  # fmt: skip
    # The published receipt is evidence now, and a PDF's original is ExpenseReceiptOriginal.
    _decide(proposal, by=by, status=Proposal.Status.APPROVED, role=role, expense=expense,
            receipt=b"", receipt_original=b"")  # fmt: skip
    audit.record(actor=by, action="expense approved", target=proposal, role=role,
                 ledger=expense.ledger_index)  # fmt: skip
    return expense


@transaction.atomic
def expense_reject(*, proposal: ExpenseProposal, by: AbstractBaseUser, reason: str) -> None:
    """Either person rejects a proposed expense, saying why. Nothing is published, and the
    receipt's bytes are deleted."""
    proposal = _locked_pending(proposal)
    reason = _check_rejecter(proposal, by, reason)
    _decide(proposal, by=by, status=Proposal.Status.REJECTED,
            role=group_queries.money_role(by, proposal.fundraiser.group_id) or "",
            reason=reason, receipt=b"", receipt_original=b"")  # fmt: skip
    audit.record(actor=by, action="expense rejected", target=proposal, reason=reason)


# ---- goods for another group's hub: its coordinators accept them ---------------------------


def _goods_withdrawn(expense: Expense) -> bool:
    """For a reversed purchase: whether its goods never entered the hub's stock (an offer
    still waiting is withdrawn now, a declined one stays as it is), so nothing is taken out."""
    offer = GoodsOffer.objects.select_for_update().filter(expense=expense).first()
    if offer is None:
        return False
    if offer.status == GoodsOffer.Status.PENDING:
        GoodsOffer.objects.filter(pk=offer.pk, status=GoodsOffer.Status.PENDING).update(
            status=GoodsOffer.Status.WITHDRAWN, decided_at=timezone.now()
        )
        return True
    return offer.status != GoodsOffer.Status.ACCEPTED


def _check_offer(offer: GoodsOffer, by: AbstractBaseUser) -> GoodsOffer:
    """The offer's row, locked; refused unless it waits and `by` coordinates its hub (as a
    member: a site administrator does not consent for a group)."""
    offer = (
        GoodsOffer.objects.select_for_update(of=("self",))
        .select_related("expense__hub", "expense__fundraiser")
        .get(pk=offer.pk)
    )
    hub = offer.expense.hub
    if offer.status != GoodsOffer.Status.PENDING:
        raise ValidationError(
            _("This was already %(decision)s: nothing was changed.")
            % {"decision": offer.get_status_display().lower()},
            code="already_decided",
        )
    if not hub_queries.hub_coordinators(hub).filter(pk=by.pk).exists():
        raise ValidationError(
            _("Only a coordinator of %(hub)s can accept or decline goods for it.")
            % {"hub": hub.name},
            code="not_coordinator",
        )
    return offer


def _offer_decide(offer: GoodsOffer, *, by: AbstractBaseUser, status: str,
                  **fields: object) -> None:  # fmt: skip
    decided = GoodsOffer.objects.filter(pk=offer.pk, status=GoodsOffer.Status.PENDING)
    if not decided.update(status=status, decided_by=by, decided_at=timezone.now(), **fields):
        raise ValidationError(
            _("This was already decided: nothing was changed."), code="already_decided"
        )


@transaction.atomic
def goods_accept(*, offer: GoodsOffer, by: AbstractBaseUser) -> int:
    """A coordinator of the hub accepts a purchase's goods: they enter its stock now (an
    intake entry naming the fundraiser), and its deliveries may credit the fundraiser. The
    intake entry's index."""
    offer = _check_offer(offer, by)
    expense = offer.expense
    lines = [(line.item, line.quantity) for line in expense.lines.select_related("item")]
    index = hub_services.hub_receive_goods(
        hub=expense.hub, lines=lines, by=by, fundraiser=expense.fundraiser.ledger_ref(),
        purchase=True,
    )  # fmt: skip
    _offer_decide(offer, by=by, status=GoodsOffer.Status.ACCEPTED, intake_index=index)
    audit.record(actor=by, action="goods accepted", target=offer, ledger=index)
    return index


@transaction.atomic
def goods_decline(*, offer: GoodsOffer, by: AbstractBaseUser, reason: str) -> None:
    """A coordinator of the hub declines the goods, saying why: nothing enters its stock, and
    the purchasing group may deliver them straight to a place instead."""
    offer = _check_offer(offer, by)
    if not reason.strip():
        raise ValidationError(_("Say why the goods are declined."), code="reason")
    _offer_decide(offer, by=by, status=GoodsOffer.Status.DECLINED, reason=reason.strip())
    audit.record(actor=by, action="goods declined", target=offer, reason=reason.strip())


# ---- handing a fundraiser over when its organiser is gone ----------------------------------
# The same two-person rule as money out: one of the group's remaining money people proposes,
# a second agrees. When only one is left, a site administrator's confirmation is the second
# person (the ledger says so); when none is left, a site administrator proposes and the new
# holder's acceptance is what the group says. The new holder always accepts it themselves.
SITE_ADMINISTRATOR = "site_administrator"


def _check_handover_needed(fundraiser: Fundraiser) -> None:
    if group_queries.money_people(fundraiser.group).filter(pk=fundraiser.organiser_id).exists():
        raise ValidationError(
            _("“%(title)s” still has its organiser: a fundraiser is handed over only when the "
              "one who runs it is unreachable or gone.") % {"title": fundraiser.title},
            code="not_needed",
        )  # fmt: skip


def _handover_role(fundraiser: Fundraiser, by: AbstractBaseUser, *, exclude: int | None) -> str:
    """The role `by` acts in: their money role in the group, or a site administrator's when
    the group has no other money person who could act instead."""
    role = group_queries.money_role(by, fundraiser.group_id)
    if role is not None:
        return role
    others = group_queries.money_people(fundraiser.group)
    if exclude is not None:
        others = others.exclude(pk=exclude)
    if by.is_authenticated and by.is_superuser and not others.exists():
        return SITE_ADMINISTRATOR
    raise ValidationError(
        _("Only an active organiser or treasurer of “%(group)s” can do this.")
        % {"group": fundraiser.group.name},
        code="not_money_person",
    )


@transaction.atomic
def handover_propose(
    *, fundraiser: Fundraiser, to_user: AbstractBaseUser, by: AbstractBaseUser
) -> FundraiserHandover:
    """Propose handing `fundraiser`, whose organiser is gone, to `to_user`, an active member of
    its group, who becomes its organiser once a second person agrees and they accept."""
    _check_handover_needed(fundraiser)
    role = _handover_role(fundraiser, by, exclude=None)
    if (
        to_user.pk in (by.pk, fundraiser.organiser_id)
        or not group_queries.active_members().filter(group=fundraiser.group, user=to_user).exists()
    ):
        raise ValidationError(
            _("Hand it to another active member of “%(group)s”.")
            % {"group": fundraiser.group.name},
            code="to_user",
        )
    waiting = FundraiserHandover.objects.filter(fundraiser=fundraiser).filter(
        Q(status=Proposal.Status.PENDING)
        | Q(status=Proposal.Status.APPROVED, answer=FundraiserHandover.Answer.WAITING)
    )
    if waiting.exists():
        raise ValidationError(
            _("A hand-over of this fundraiser already waits: decide it first."), code="pending"
        )
    handover = FundraiserHandover.objects.create(
        fundraiser=fundraiser, to_user=to_user, proposed_by=by, proposed_role=role
    )
    audit.record(actor=by, action="handover proposed", target=handover, role=role,
                 to_user=to_user.pk)  # fmt: skip
    return handover


@transaction.atomic
def handover_approve(*, handover: FundraiserHandover, by: AbstractBaseUser) -> FundraiserHandover:
    """A second person agrees: then it waits for the new holder's acceptance."""
    handover = _locked_pending(handover)
    if not handover.is_pending:
        raise ValidationError(
            _("This was already decided: nothing was changed."), code="already_decided"
        )
    if by.pk == handover.proposed_by_id:
        raise ValidationError(
            _("You proposed this yourself: a second person must agree."), code="own_proposal"
        )
    _check_handover_needed(handover.fundraiser)
    role = _handover_role(handover.fundraiser, by, exclude=handover.proposed_by_id)
    _decide(handover, by=by, status=Proposal.Status.APPROVED, role=role)
    audit.record(actor=by, action="handover approved", target=handover, role=role)
    return handover


@transaction.atomic
def handover_reject(*, handover: FundraiserHandover, by: AbstractBaseUser, reason: str) -> None:
    handover = _locked_pending(handover)
    if not handover.is_pending:
        raise ValidationError(
            _("This was already decided: nothing was changed."), code="already_decided"
        )
    role = _handover_role(handover.fundraiser, by, exclude=None)
    if not reason.strip():
        raise ValidationError(_("Say why it is rejected."), code="reason")
    _decide(handover, by=by, status=Proposal.Status.REJECTED, role=role, reason=reason.strip())
    audit.record(actor=by, action="handover rejected", target=handover, reason=reason.strip())


@transaction.atomic
def handover_answer(
    *, handover: FundraiserHandover, by: AbstractBaseUser, accept: bool,
    named_publicly: bool = False,
) -> FundraiserHandover:  # fmt: skip
    """The new holder accepts (becoming the fundraiser's organiser and an organiser of its
    group; the public entry names them only if they chose `named_publicly`) or declines."""
    handover = _locked_pending(handover)
    if by.pk != handover.to_user_id:
        raise ValidationError(
            _("Only the person it is handed to can accept or decline it."), code="not_holder"
        )
    if not (handover.status == Proposal.Status.APPROVED
            and handover.answer == FundraiserHandover.Answer.WAITING):  # fmt: skip
        raise ValidationError(
            _("This hand-over is not waiting for your answer: nothing was changed."),
            code="not_waiting",
        )
    fundraiser = handover.fundraiser
    now = timezone.now()
    fields: dict = {"answered_at": now}
    if accept:
        _check_handover_needed(fundraiser)
        if not group_queries.active_members().filter(group=fundraiser.group, user=by).exists():
            raise ValidationError(
                _("You are no longer an active member of “%(group)s”.")
                % {"group": fundraiser.group.name},
                code="to_user",
            )
        payload = {
            "fundraiser": fundraiser.ledger_ref(),
            "proposed_by": handover.proposed_role,
            "approved_by": handover.decided_role,
            "to_role": "organiser",
        }
        if named_publicly:
            payload["public_name"] = (by.get_full_name() or by.get_username()).strip()
        entry = ledger.append(kind="fundraiser_handover", payload=payload)
        fields |= {"answer": FundraiserHandover.Answer.ACCEPTED, "ledger_index": entry.index,
                   "named_publicly": named_publicly}  # fmt: skip
    else:
        fields |= {"answer": FundraiserHandover.Answer.DECLINED}
    answered = FundraiserHandover.objects.filter(
        pk=handover.pk, answer=FundraiserHandover.Answer.WAITING
    ).update(**fields)
    if not answered:
        raise ValidationError(_("This was already answered."), code="already_decided")
    for name, value in fields.items():
        setattr(handover, name, value)
    if accept:
        Fundraiser.objects.filter(pk=fundraiser.pk).update(organiser=by)
        Member.objects.get_or_create(
            group=fundraiser.group, user=by, role=Member.Role.ORGANISER,
            defaults={"added_by_id": handover.decided_by_id},
        )  # fmt: skip
    audit.record(actor=by, action="handover accepted" if accept else "handover declined",
                 target=handover, ledger=handover.ledger_index)  # fmt: skip
    return handover


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
    if isinstance(row, Expense) and row.hub_id and not _goods_withdrawn(row):
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


# Ways to pay. Each addition, change or removal is proposed by one money person of the group
# and approved by a second (see "Two people for every payment" above); approval appends a
# `payment_details` entry with the full list shown after it and the approver's role, so anyone
# can see when an account number changed, from what and to what. The checks below run when it
# is proposed and again when it is approved.

PAYMENT_FIELDS = ("kind", "label", "details", "recipient_name", "currency", "order", "active")
# What the page shows but the ledger does not keep (see PaymentMethod.ledger_line).
PAGE_ONLY_FIELDS = ("recipient_name",)


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
    fundraiser: Fundraiser, *, by: AbstractBaseUser, action: str, method: PaymentMethod | str,
    approved_by: str,
) -> int:  # fmt: skip
    """Append the list of ways to pay as it now stands, with the approver's role; audit who
    approved the change. Its index."""
    shown = list(fundraiser.payment_methods.filter(active=True).order_by("order", "id"))
    payload: dict = {
        "fundraiser": fundraiser.ledger_ref(),
        "methods": [m.ledger_line() for m in shown],
        "approved_by": approved_by,
    }
    qr_codes = sorted({m.qr_sha256 for m in shown if m.qr_sha256})
    if qr_codes:
        payload["evidence"] = qr_codes
    entry = ledger.append(kind="payment_details", payload=payload)
    audit.record(
        actor=by, action=action, target=method, ledger=entry.index, fundraiser=fundraiser.slug
    )
    return entry.index


def _locked_fundraiser(fundraiser: Fundraiser) -> Fundraiser:
    # One change at a time per fundraiser, so each entry lists what was really shown after it.
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


def _method_fields(method: PaymentMethod) -> dict:
    """A way to pay's fields, as a proposal keeps them (JSON) and compares them."""
    return {name: getattr(method, name) for name in (*PAYMENT_FIELDS, "qr_sha256")}


def _qr_kept(proposal: PaymentMethodProposal) -> CleanFile | None:
    return CleanFile(bytes(proposal.qr), proposal.qr_type) if proposal.qr else None


def _method_changed(method: PaymentMethod, changes: dict, *, qr: CleanFile | None,
                    qr_remove: bool) -> None:  # fmt: skip
    """Apply `changes` to `method` (not saved) with every check of a way to pay: the fields,
    and that the QR code shown beside the details pays them. A new QR code's SHA-256 is what
    the evidence store will name it."""
    before = (method.kind, method.details)
    for name, value in changes.items():
        setattr(method, name, value)
    payment_method_check(method)
    if qr is not None:
        payment_qr_check(kind=method.kind, details=method.details, qr=qr)
        method.qr_sha256, method.qr_checked = hashlib.sha256(qr.data).hexdigest(), True
    elif qr_remove:
        method.qr_sha256, method.qr_checked = "", False
    elif method.qr_sha256 and (method.kind, method.details) != before:
        # The QR code kept must still pay what the page now shows beside it.
        payment_qr_check(kind=method.kind, details=method.details, kept_sha256=method.qr_sha256)
        method.qr_checked = True


def _payment_propose(*, fundraiser: Fundraiser, by: AbstractBaseUser, action: str,
                     method: PaymentMethod | None, before: dict, after: dict,
                     qr: CleanFile | None = None,
                     qr_remove: bool = False) -> PaymentMethodProposal:  # fmt: skip
    proposal = PaymentMethodProposal.objects.create(
        fundraiser=fundraiser, action=action, method=method, before=before, after=after,
        qr=qr.data if qr else b"", qr_type=qr.content_type if qr else "", qr_remove=qr_remove,
        proposed_by=by,
    )  # fmt: skip
    audit.record(actor=by, action=f"payment method {action} proposed", target=proposal,
                 fundraiser=fundraiser.slug)  # fmt: skip
    _announce_proposal(proposal, "payment_details")
    return proposal


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
) -> PaymentMethodProposal:
    """Propose a new way to pay. `qr` comes from aidhub.uploads.clean_image (re-encoded, no
    metadata) and is kept privately until a second person approves the proposal
    (`payment_proposal_approve`), which lists it and appends the `payment_details` entry."""
    _check_proposer(fundraiser, by)
    method = PaymentMethod(
        fundraiser=fundraiser, kind=kind, label=label, details=details, currency=currency,
        recipient_name=recipient_name, order=order or 0, active=active,
    )  # fmt: skip
    _method_changed(method, {}, qr=qr, qr_remove=False)
    after = _method_fields(method) | {"order": order}  # None: last, when approved
    return _payment_propose(fundraiser=fundraiser, by=by, action="add", method=None, before={},
                            after=after, qr=qr)  # fmt: skip


@transaction.atomic
def payment_method_change(
    *,
    method: PaymentMethod,
    by: AbstractBaseUser,
    qr: CleanFile | None = None,
    qr_remove: bool = False,
    **changes: object,
) -> PaymentMethodProposal | None:
    """Propose a change to a way to pay (any of PAYMENT_FIELDS; a new `qr`, or `qr_remove`).
    None if it would change nothing. The recipient's name is checked by a second person too:
    the page shows it to donors, even though the ledger does not keep it."""
    unknown = set(changes) - set(PAYMENT_FIELDS)
    if unknown:
        raise TypeError(f"not a field of a way to pay: {sorted(unknown)}")
    _check_proposer(method.fundraiser, by)
    method = PaymentMethod.objects.get(pk=method.pk, fundraiser=method.fundraiser_id)
    before = _method_fields(method)
    _method_changed(method, changes, qr=qr, qr_remove=qr_remove)
    after = _method_fields(method)
    if after == before:
        return None
    return _payment_propose(fundraiser=method.fundraiser, by=by, action="change", method=method,
                            before=before, after=after, qr=qr, qr_remove=qr_remove)  # fmt: skip


@transaction.atomic
def payment_method_remove(*, method: PaymentMethod, by: AbstractBaseUser) -> PaymentMethodProposal:
    """Propose taking a way to pay off the fundraiser. On approval the ledger keeps every
    earlier list and a new entry lists what is left."""
    _check_proposer(method.fundraiser, by)
    method = PaymentMethod.objects.get(pk=method.pk, fundraiser=method.fundraiser_id)
    return _payment_propose(fundraiser=method.fundraiser, by=by, action="remove", method=method,
                            before=_method_fields(method), after={})  # fmt: skip


def _method_as_proposed(proposal: PaymentMethodProposal, fundraiser: Fundraiser) -> PaymentMethod:
    """The way to pay a change or removal was proposed for, refused if it is gone or was changed
    since: the second person approves what they were shown, nothing else."""
    method = PaymentMethod.objects.filter(pk=proposal.method_id, fundraiser=fundraiser).first()
    if method is None or _method_fields(method) != proposal.before:
        raise ValidationError(
            _("This way to pay was changed or removed after this was proposed. Reject it and "
              "propose the change again."),
            code="changed_since",
        )  # fmt: skip
    return method


@transaction.atomic
def payment_proposal_approve(
    *, proposal: PaymentMethodProposal, by: AbstractBaseUser
) -> PaymentMethodProposal:
    """A second organiser or treasurer approves a proposed change to the ways to pay: every
    check runs again, the page changes, and (unless only the recipient's name changed, which
    the ledger does not keep) a `payment_details` entry with the full list and the approver's
    role is appended (`proposal.ledger_index`)."""
    proposal = _locked_pending(proposal)
    role = _check_approver(proposal, by)
    fundraiser = _locked_fundraiser(proposal.fundraiser)
    qr = _qr_kept(proposal)
    index = None
    if proposal.action == PaymentMethodProposal.Action.ADD:
        fields = {name: proposal.after[name] for name in PAYMENT_FIELDS}
        if fields["order"] is None:
            last = fundraiser.payment_methods.order_by("-order").values_list("order", flat=True)
            fields["order"] = (last.first() or 0) + 1
        method = PaymentMethod(fundraiser=fundraiser)
        _method_changed(method, fields, qr=qr, qr_remove=False)
        method.qr_sha256 = _qr_store(qr)
        method.save()
        index = _payment_details_publish(fundraiser, by=by, action="payment method added",
                                         method=method, approved_by=role)  # fmt: skip
    elif proposal.action == PaymentMethodProposal.Action.CHANGE:
        method = _method_as_proposed(proposal, fundraiser)
        changes = {name: proposal.after[name] for name in PAYMENT_FIELDS}
        _method_changed(method, changes, qr=qr, qr_remove=proposal.qr_remove)
        if qr is not None:
            method.qr_sha256 = _qr_store(qr)
        method.save()
        changed = {
            name for name in proposal.before if proposal.after[name] != proposal.before[name]
        }
        if changed <= set(PAGE_ONLY_FIELDS):
            audit.record(actor=by, action="payment method recipient changed", target=method,
                         fundraiser=fundraiser.slug)  # fmt: skip
        else:
            index = _payment_details_publish(fundraiser, by=by, action="payment method changed",
                                             method=method, approved_by=role)  # fmt: skip
    else:
        method = _method_as_proposed(proposal, fundraiser)
        label = str(method)
        method.delete()
        index = _payment_details_publish(fundraiser, by=by, action="payment method removed",
                                         method=label, approved_by=role)  # fmt: skip
    # A removed way to pay is gone: the proposal keeps what it was (`before`).
    kept = method if isinstance(method, PaymentMethod) and method.pk else None
    _decide(proposal, by=by, status=Proposal.Status.APPROVED, role=role, ledger_index=index,
            qr=b"", method=kept)  # fmt: skip
    return proposal


@transaction.atomic
def payment_proposal_reject(
    *, proposal: PaymentMethodProposal, by: AbstractBaseUser, reason: str
) -> None:
    """Either person rejects a proposed change to the ways to pay, saying why: nothing changes
    and a QR code it brought is deleted."""
    proposal = _locked_pending(proposal)
    reason = _check_rejecter(proposal, by, reason)
    _decide(proposal, by=by, status=Proposal.Status.REJECTED,
            role=group_queries.money_role(by, proposal.fundraiser.group_id) or "",
            reason=reason, qr=b"")  # fmt: skip
    audit.record(actor=by, action="payment method change rejected", target=proposal,
                 reason=reason)  # fmt: skip


# Money passed to another group. A money person of the sending fundraiser's group proposes it
# (amount in the fundraiser's currency, the receiving fundraiser of another group, the rate as
# donations take it: the official one, or one typed in with where it comes from); a second,
# different one approves it (the same checks as every payment: `_check_proposer`,
# `_check_approver`, `_locked_pending`, `_decide`); then a money person of the receiving group
# accepts or declines it. Only acceptance writes the `money_transfer` entry and both
# fundraisers' totals: nothing enters the other group's books without its consent.
# The balance is checked under the sending fundraiser's row lock when a transfer is approved
# (what waits for acceptance is set aside) and again when it is accepted, so it never goes
# below zero however many are approved or accepted at once.


def _group_ref(group) -> dict:
    return {"id": group.slug, "name": getattr(group, "name_en", "") or group.name}


def _check_balance(fundraiser: Fundraiser, amount: Decimal, *, set_aside: Decimal) -> None:
    """Refuse `amount` if the fundraiser's balance, less `set_aside` (other transfers approved
    and waiting for their receiver), does not cover it. The caller holds the fundraiser's row
    lock (`_locked_fundraiser`) where it matters."""
    from .queries import balance

    available = balance(fundraiser) - set_aside
    if amount > available:
        raise ValidationError(
            _(
                "“%(title)s” has %(available)s %(currency)s available, less than "
                "%(amount)s %(currency)s: a fundraiser cannot pass on more than it holds. "
                "Nothing was changed."
            )
            % {
                "title": fundraiser.title,
                "available": format_amount(max(available, Decimal(0)), fundraiser.currency),
                "amount": format_amount(amount, fundraiser.currency),
                "currency": fundraiser.currency,
            },
            code="over_balance",
        )


def _set_aside(fundraiser: Fundraiser, *, besides: MoneyTransfer | None = None) -> Decimal:
    from .queries import transfers_set_aside

    return transfers_set_aside(fundraiser, besides=besides)


@transaction.atomic
def transfer_propose(
    *,
    fundraiser: Fundraiser,
    to_fundraiser: Fundraiser,
    amount: Decimal | str,
    by: AbstractBaseUser,
    manual_rate: Decimal | None = None,
    rate_source: str = "",
) -> MoneyTransfer:
    """Propose passing `amount` (in `fundraiser`'s currency) to `to_fundraiser`, a fundraiser
    of another group. Within one group there is nothing to consent to, so that is refused: a
    group moves its own money between its fundraisers by its own expenses and donations."""
    _check_proposer(fundraiser, by)
    if to_fundraiser.group_id == fundraiser.group_id:
        raise ValidationError(
            _("“%(title)s” belongs to your own group: a transfer goes to another group's "
              "fundraiser.") % {"title": to_fundraiser.title},
            code="same_group",
        )  # fmt: skip
    if not to_fundraiser.group.is_active:
        raise ValidationError(_("That group is no longer active."), code="group_inactive")
    _check_open(to_fundraiser)
    money = _money(amount, fundraiser.currency)
    stated = rate_source.strip()
    if manual_rate is not None:
        if not stated:
            raise ValidationError(
                _("Say where the exchange rate you typed comes from (the bank, the day)."),
                code="rate_source",
            )
        try:
            schemas.check_label(stated, "rate_source")
        except ValidationError:
            raise ValidationError(
                _("Name the rate's source without account numbers or contacts."),
                code="rate_source",
            ) from None
    rate, source, converted = _convert(
        Money(money.amount, fundraiser.currency), to_fundraiser, timezone.now(), manual_rate
    )
    _check_balance(fundraiser, money.amount, set_aside=_set_aside(fundraiser))
    transfer = MoneyTransfer.objects.create(
        fundraiser=fundraiser, to_fundraiser=to_fundraiser, amount=money.amount,
        currency=fundraiser.currency, rate=rate,
        rate_source=stated if manual_rate is not None else source,
        converted_amount=converted, proposed_by=by,
    )  # fmt: skip
    audit.record(actor=by, action="money transfer proposed", target=transfer,
                 fundraiser=fundraiser.slug, to=to_fundraiser.slug)  # fmt: skip
    _announce_proposal(transfer, "transfer")
    return transfer


@transaction.atomic
def transfer_approve(*, transfer: MoneyTransfer, by: AbstractBaseUser) -> MoneyTransfer:
    """A second money person of the sending group approves the transfer: it is set aside from
    the balance and waits for the receiving group. Refused if the balance, less what other
    approved transfers set aside, does not cover it (checked under the fundraiser's lock)."""
    transfer = _locked_pending(transfer)
    role = _check_approver(transfer, by)
    fundraiser = _locked_fundraiser(transfer.fundraiser)
    _check_balance(fundraiser, transfer.amount, set_aside=_set_aside(fundraiser, besides=transfer))
    _decide(transfer, by=by, status=Proposal.Status.APPROVED, role=role)
    audit.record(actor=by, action="money transfer approved", target=transfer, role=role)
    _announce_proposal(transfer, "transfer_incoming", to=transfer.to_fundraiser)
    return transfer


@transaction.atomic
def transfer_reject(*, transfer: MoneyTransfer, by: AbstractBaseUser, reason: str) -> None:
    """Either money person of the sending group rejects the proposed transfer, saying why."""
    transfer = _locked_pending(transfer)
    reason = _check_rejecter(transfer, by, reason)
    _decide(transfer, by=by, status=Proposal.Status.REJECTED,
            role=group_queries.money_role(by, transfer.fundraiser.group_id) or "",
            reason=reason)  # fmt: skip
    audit.record(actor=by, action="money transfer rejected", target=transfer, reason=reason)


def _locked_incoming(transfer: MoneyTransfer, by: AbstractBaseUser) -> tuple[MoneyTransfer, str]:
    """The approved transfer, locked, that waits for its receiver, and the money role `by`
    holds in the receiving group; a clear refusal otherwise."""
    rows = MoneyTransfer.objects.select_for_update(of=("self",)).select_related(
        "fundraiser__group", "to_fundraiser__group"
    )
    transfer = rows.get(pk=transfer.pk)
    if transfer.status != Proposal.Status.APPROVED or transfer.acceptance != (
        MoneyTransfer.Acceptance.WAITING
    ):
        raise ValidationError(
            _("This transfer is not waiting for your group's answer: nothing was changed."),
            code="already_decided",
        )
    role = group_queries.money_role(by, transfer.to_fundraiser.group_id)
    if role is None:
        raise ValidationError(
            _("Only an active organiser or treasurer of “%(group)s” can accept or decline "
              "this transfer.") % {"group": transfer.to_fundraiser.group.name},
            code="not_money_person",
        )  # fmt: skip
    return transfer, role


def _answer(transfer: MoneyTransfer, *, by: AbstractBaseUser, acceptance: str, role: str,
            **fields: object) -> None:  # fmt: skip
    """The conditional UPDATE that answers a transfer once, whatever else happens at once."""
    now = timezone.now()
    waiting = MoneyTransfer.objects.filter(
        pk=transfer.pk, status=Proposal.Status.APPROVED, acceptance=MoneyTransfer.Acceptance.WAITING
    )
    if not waiting.update(acceptance=acceptance, answered_by=by, answered_role=role,
                          answered_at=now, **fields):  # fmt: skip
        raise ValidationError(
            _("This was already decided: nothing was changed."), code="already_decided"
        )
    transfer.acceptance, transfer.answered_by, transfer.answered_role = acceptance, by, role
    transfer.answered_at = now
    for name, value in fields.items():
        setattr(transfer, name, value)


@transaction.atomic
def transfer_accept(*, transfer: MoneyTransfer, by: AbstractBaseUser) -> MoneyTransfer:
    """A money person of the receiving group accepts the transfer: now the `money_transfer`
    entry is written, the sender's totals row counts it as sent and the receiver's as
    received. The sender's balance is checked again under its row lock."""
    transfer, role = _locked_incoming(transfer, by)
    _check_open(transfer.to_fundraiser)
    sender = _locked_fundraiser(transfer.fundraiser)
    _check_balance(sender, transfer.amount, set_aside=Decimal(0))
    receiver = transfer.to_fundraiser
    entry = ledger.append(
        kind="money_transfer",
        payload={
            "from_fundraiser": sender.ledger_ref(),
            "to_fundraiser": receiver.ledger_ref(),
            "from_group": _group_ref(sender.group),
            "to_group": _group_ref(receiver.group),
            "money": {"amount": format_amount(transfer.amount, transfer.currency),
                      "currency": transfer.currency},
            "converted": {"amount": format_amount(transfer.converted_amount, receiver.currency),
                          "currency": receiver.currency},
            "rate": _rate_text(transfer.rate),
            "rate_source": transfer.rate_source,
            "approved_by": transfer.decided_role,
            "accepted_by": role,
        },
    )  # fmt: skip
    _answer(transfer, by=by, acceptance=MoneyTransfer.Acceptance.ACCEPTED, role=role,
            ledger_index=entry.index)  # fmt: skip
    # Both rows in primary-key order, so two transfers crossing each other never deadlock.
    sides = {
        sender.pk: lambda: fundraiser_total_add(
            fundraiser=sender, currency=transfer.currency, sent=transfer.amount,
            sent_converted=transfer.amount, transfers_out=1,
        ),
        receiver.pk: lambda: fundraiser_total_add(
            fundraiser=receiver, currency=transfer.currency, received=transfer.amount,
            received_converted=transfer.converted_amount, transfers_in=1,
        ),
    }  # fmt: skip
    for pk in sorted(sides):
        sides[pk]()
    audit.record(actor=by, action="money transfer accepted", target=transfer, role=role,
                 ledger=entry.index)  # fmt: skip
    return transfer


@transaction.atomic
def transfer_decline(*, transfer: MoneyTransfer, by: AbstractBaseUser, reason: str) -> None:
    """A money person of the receiving group declines the transfer, saying why: nothing is
    written in either group's books and the money is no longer set aside."""
    transfer, role = _locked_incoming(transfer, by)
    if not reason.strip():
        raise ValidationError(_("Say why it is declined."), code="reason")
    _answer(transfer, by=by, acceptance=MoneyTransfer.Acceptance.DECLINED, role=role,
            decline_reason=reason.strip()[:300])  # fmt: skip
    audit.record(actor=by, action="money transfer declined", target=transfer,
                 reason=reason.strip())  # fmt: skip
