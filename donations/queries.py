"""Reads about fundraisers and their money; organiser-only reads are marked as such."""

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import DecimalField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

from aidhub.pagecache import version_forget, version_token
from groups.queries import MONEY_ROLES, groups_where, holds
from hubs.models import Category, Hub
from hubs.queries import coordinated_hubs
from ledger import presentation
from ledger import queries as ledger_queries
from ledger.models import LedgerEntry

from .models import (
    AMOUNT,
    Donation,
    Expense,
    ExpenseProposal,
    Fundraiser,
    FundraiserTotal,
    GoodsOffer,
    MoneyTransfer,
    PaymentMethod,
    PaymentMethodProposal,
    Proposal,
)


def total_of(figure: str) -> Coalesce:
    """A fundraiser's `figure` (a FundraiserTotal column) over its currencies, as an annotation:
    a sum of a few totals rows, however many donations there are."""
    rows = (
        FundraiserTotal.objects.filter(fundraiser=OuterRef("pk"))
        .order_by()
        .values("fundraiser")
        .annotate(total=Sum(figure))
        .values("total")
    )
    money = DecimalField(**AMOUNT)
    return Coalesce(Subquery(rows, output_field=money), Value(Decimal(0)), output_field=money)


def public_fundraisers() -> QuerySet[Fundraiser]:
    return (
        Fundraiser.objects.select_related("region")
        .annotate(raised=total_of("raised_converted"))
        .order_by("status", "-starts_on")
    )


def public_fundraiser(slug: str) -> Fundraiser:
    # Its places and hubs are not prefetched: its page does not show them, and the API reads
    # each with one query either way.
    return get_object_or_404(
        Fundraiser.objects.select_related("region", "organiser", "group"), slug=slug
    )


def supplied_hubs(fundraiser: Fundraiser) -> QuerySet[Hub]:
    """The active hubs whose stock this fundraiser's purchases may go into: the hubs of its own
    group and the hubs linked to it. (Until a hub of another group can accept goods itself, a
    link, which only a superuser can make across groups, is the consent it gives.)"""
    return (
        Hub.objects.filter(
            Q(group_id=fundraiser.group_id) | Q(fundraiser=fundraiser), is_active=True
        )
        .distinct()
        .order_by("name")
    )


def goods_need_consent(fundraiser: Fundraiser, hub: Hub) -> bool:
    """Whether a purchase's goods wait for `hub`'s coordinators to accept them: when the hub
    belongs to another group than the fundraiser (a link to the fundraiser lets it be chosen,
    but only its coordinators' acceptance puts goods into its stock)."""
    return hub.group_id != fundraiser.group_id


def creditable_fundraisers(hub: Hub) -> QuerySet[Fundraiser]:
    """The fundraisers a delivery from `hub` may credit: those of the hub's own group, and
    those whose purchased goods the hub's coordinators accepted into its stock. Crediting
    another group's fundraiser without its goods in the hub would write into its books
    without its consent."""
    accepted = GoodsOffer.objects.filter(status=GoodsOffer.Status.ACCEPTED, expense__hub=hub)
    return Fundraiser.objects.filter(
        Q(group_id=hub.group_id) | Q(pk__in=accepted.values("expense__fundraiser_id"))
    )


def goods_on_the_way(user: AbstractBaseUser) -> QuerySet[GoodsOffer]:
    """The goods waiting for acceptance at the hubs `user` coordinates as a member."""
    if not user.is_authenticated:
        return GoodsOffer.objects.none()
    hubs = coordinated_hubs(user)
    return (
        GoodsOffer.objects.filter(status=GoodsOffer.Status.PENDING, expense__hub__in=hubs)
        .select_related("expense__hub", "expense__fundraiser__group")
        .prefetch_related("expense__lines__item")
        .order_by("created_at", "pk")
    )


def organised_fundraisers(user: AbstractBaseUser) -> QuerySet[Fundraiser]:
    """The fundraisers `user` may act for: those of the groups where they are an active
    organiser or treasurer (every fundraiser for a superuser)."""
    if not user.is_authenticated:
        return Fundraiser.objects.none()
    if user.is_superuser:
        return Fundraiser.objects.all()
    return Fundraiser.objects.filter(group__in=groups_where(user, MONEY_ROLES))


def is_organiser(user: AbstractBaseUser) -> bool:
    """Whether `user` may act for any fundraiser; nobody signed out does."""
    return user.is_authenticated and organised_fundraisers(user).exists()


def may_organise(user: AbstractBaseUser, fundraiser: Fundraiser) -> bool:
    """Whether `user` may act for `fundraiser`: an active organiser or treasurer of its group,
    or a superuser. The one home of this rule: views, services and the admin all ask it.
    (`Fundraiser.organiser` is only who started it.)"""
    return holds(user, fundraiser.group_id, MONEY_ROLES)


def organised_fundraiser(user: AbstractBaseUser, slug: str) -> Fundraiser:
    """The fundraiser if `user` may act for it; 404 for everyone else."""
    if not user.is_authenticated:
        raise Fundraiser.DoesNotExist
    return get_object_or_404(organised_fundraisers(user), slug=slug)


@dataclass
class Totals:
    currency: str
    goal: Decimal
    raised: Decimal = Decimal(0)
    spent: Decimal = Decimal(0)
    # From and to other groups' fundraisers (accepted transfers), in the fundraiser's currency.
    received: Decimal = Decimal(0)
    sent: Decimal = Decimal(0)
    donations: int = 0
    by_currency: dict[str, Decimal] = field(default_factory=dict)
    spent_by_category: dict[str, Decimal] = field(default_factory=dict)

    @property
    def balance(self) -> Decimal:
        return self.raised + self.received - self.sent - self.spent

    @property
    def percent(self) -> int:
        return int(self.raised * 100 / self.goal) if self.goal else 0

    @property
    def bar_percent(self) -> int:
        return min(self.percent, 100)

    def categories(self) -> list[tuple[str, Decimal]]:
        labels = dict(Category.choices)
        return [(str(labels.get(c, c)), v) for c, v in sorted(self.spent_by_category.items(),
                key=lambda kv: -kv[1])]  # fmt: skip


def totals(fundraiser: Fundraiser) -> Totals:
    """What the fundraiser's totals rows say (kept with each donation, expense and correction);
    `reconcile` checks them against the money rows and the ledger. One query, however many
    donations there are, and two more for what the expenses bought, when there are any."""
    result = Totals(currency=fundraiser.currency, goal=fundraiser.goal_amount)
    expenses = 0
    for row in FundraiserTotal.objects.filter(fundraiser=fundraiser).order_by("currency"):
        result.raised += row.raised_converted
        result.spent += row.spent_converted
        result.received += row.received_converted
        result.sent += row.sent_converted
        result.donations += row.donations
        expenses += row.expenses
        if row.donations:
            result.by_currency[row.currency] = row.raised
    if expenses:
        result.spent_by_category = _spent_by_category(fundraiser)
    return result


def _spent_by_category(fundraiser: Fundraiser) -> dict[str, Decimal]:
    live = Q(corrected_by_index__isnull=True)
    expenses = Expense.objects.filter(live, fundraiser=fundraiser).prefetch_related("lines__item")
    spent: dict[str, Decimal] = defaultdict(Decimal)
    for expense in expenses.only("pk", "converted_amount"):
        categories = sorted({line.item.category for line in expense.lines.all()}) or ["other"]
        # One receipt often covers several kinds of goods without a price per line: its sum is
        # split evenly between them, and the page says so.
        share = expense.converted_amount / len(categories)
        for category in categories:
            spent[category] += share
    return dict(spent)


def recent_donations(fundraiser: Fundraiser, limit: int = 20) -> QuerySet[Donation]:
    """For the organiser: includes private columns, never shown in public templates."""
    return Donation.objects.filter(fundraiser=fundraiser).order_by("-created_at")[:limit]


def recent_expenses(fundraiser: Fundraiser, limit: int = 20) -> QuerySet[Expense]:
    return (
        Expense.objects.filter(fundraiser=fundraiser)
        .select_related("hub")
        .prefetch_related("lines__item")
        .order_by("-created_at")[:limit]
    )


def shown_payment_methods(fundraiser: Fundraiser) -> QuerySet[PaymentMethod]:
    """The ways to pay the fundraiser's page shows, in the organiser's order."""
    return fundraiser.payment_methods.filter(active=True).order_by("order", "id")


PAYMENT_METHODS_SECONDS = 60  # how long another process's local-memory cache may keep it


def payment_methods_version(slug: str) -> str:
    """Changes whenever one of the fundraiser's ways to pay is saved or deleted: also a change
    of the recipient's name alone, which the page shows and the ledger does not. By the
    fundraiser's slug, so the whole page's cache key needs no query."""
    return version_token(f"aidhub:payment-methods:{slug}", seconds=PAYMENT_METHODS_SECONDS)


def payment_methods_changed(*, instance: PaymentMethod, **kwargs: object) -> None:
    """A way to pay was saved or deleted (a signal receiver, for services and the admin)."""
    version_forget(f"aidhub:payment-methods:{instance.fundraiser.slug}")


def fundraiser_page_version(slug: str) -> str:
    """What the fundraiser's public page shows changes with: the ledger (every donation,
    expense and correction is an entry), the names (a save of the fundraiser, its status, title
    and story included, forgets them) and its ways to pay."""
    ledger, names = ledger_queries.version(), presentation.names_version()
    return f"{ledger}|{names}|{payment_methods_version(slug)}"


def payment_details_entry(fundraiser: Fundraiser) -> int | None:
    """The index of the ledger entry that last changed the fundraiser's ways to pay."""
    latest = LedgerEntry.objects.filter(
        kind="payment_details", refs__scope="fundraiser", refs__ref=fundraiser.slug
    ).order_by("-index")
    return latest.values_list("index", flat=True).first()


# Two people for every payment: what waits for a second organiser or treasurer. For the
# fundraiser's money people only (the views and the admin scope by `organised_fundraisers`).


def pending_expenses(fundraiser: Fundraiser) -> QuerySet[ExpenseProposal]:
    """Proposed expenses that wait for approval, without their receipt's bytes (the receipt
    is served by its own view)."""
    return (
        ExpenseProposal.objects.filter(fundraiser=fundraiser, status=Proposal.Status.PENDING)
        .select_related("proposed_by", "hub")
        .defer("receipt", "receipt_original")
        .order_by("proposed_at", "id")
    )


def pending_payment_changes(fundraiser: Fundraiser) -> QuerySet[PaymentMethodProposal]:
    """Proposed changes to the ways to pay that wait for approval, without a new QR code's
    bytes."""
    return (
        PaymentMethodProposal.objects.filter(fundraiser=fundraiser, status=Proposal.Status.PENDING)
        .select_related("proposed_by")
        .defer("qr")
        .order_by("proposed_at", "id")
    )


def pending_receipt(user: AbstractBaseUser, slug: str, pk: int) -> ExpenseProposal:
    """A waiting expense's receipt, for the money people of its fundraiser; 404 for everyone
    else and once it was decided (then the published receipt, or nothing, is what there is)."""
    fundraiser = organised_fundraiser(user, slug)
    return get_object_or_404(
        ExpenseProposal, pk=pk, fundraiser=fundraiser, status=Proposal.Status.PENDING
    )


# Money passed between groups (MoneyTransfer).


def balance(fundraiser: Fundraiser) -> Decimal:
    """What the fundraiser holds now, in its currency, from its totals rows: raised + received
    − sent − spent. The one home of the balance that a transfer may not exceed."""
    sums = FundraiserTotal.objects.filter(fundraiser=fundraiser).aggregate(
        raised=Sum("raised_converted"), received=Sum("received_converted"),
        sent=Sum("sent_converted"), spent=Sum("spent_converted"),
    )  # fmt: skip
    zero = Decimal(0)
    return (
        (sums["raised"] or zero)
        + (sums["received"] or zero)
        - (sums["sent"] or zero)
        - (sums["spent"] or zero)
    )


def waiting_for_receiver() -> Q:
    return Q(status=Proposal.Status.APPROVED, acceptance=MoneyTransfer.Acceptance.WAITING)


def transfers_set_aside(fundraiser: Fundraiser, *, besides: MoneyTransfer | None = None) -> Decimal:
    """What the fundraiser's approved transfers that wait for their receiver add up to (in its
    currency): set aside from its balance until they are accepted or declined."""
    rows = MoneyTransfer.objects.filter(waiting_for_receiver(), fundraiser=fundraiser)
    if besides is not None:
        rows = rows.exclude(pk=besides.pk)
    return rows.aggregate(total=Sum("amount"))["total"] or Decimal(0)


def transfer_targets(fundraiser: Fundraiser) -> QuerySet[Fundraiser]:
    """The fundraisers `fundraiser` may pass money to: the collecting fundraisers of the other
    active groups."""
    return (
        Fundraiser.objects.filter(status=Fundraiser.Status.ACTIVE, group__is_active=True)
        .exclude(group_id=fundraiser.group_id)
        .select_related("group")
        .order_by("group__name", "title")
    )


def outgoing_transfers(fundraiser: Fundraiser) -> QuerySet[MoneyTransfer]:
    """For the sending group's money people: transfers that wait for a second person or for
    the receiving group."""
    return (
        MoneyTransfer.objects.filter(
            Q(status=Proposal.Status.PENDING) | waiting_for_receiver(), fundraiser=fundraiser
        )
        .select_related("proposed_by", "to_fundraiser__group")
        .order_by("proposed_at", "id")
    )


def incoming_transfers(fundraiser: Fundraiser) -> QuerySet[MoneyTransfer]:
    """For the receiving group's money people: approved transfers that wait for their answer."""
    return (
        MoneyTransfer.objects.filter(waiting_for_receiver(), to_fundraiser=fundraiser)
        .select_related("fundraiser__group")
        .order_by("decided_at", "id")
    )


def accepted_transfers(fundraiser: Fundraiser, limit: int = 20) -> QuerySet[MoneyTransfer]:
    """Public: the fundraiser's accepted transfers either way, newest first."""
    return (
        MoneyTransfer.objects.filter(
            Q(fundraiser=fundraiser) | Q(to_fundraiser=fundraiser),
            acceptance=MoneyTransfer.Acceptance.ACCEPTED,
        )
        .select_related("fundraiser__group", "to_fundraiser__group")
        .order_by("-answered_at", "-id")[:limit]
    )
