"""Who sees which delivery: its volunteer, the coordinators of its hub, and volunteers of the
hub while it is still free to claim. A delivery straight from a purchase belongs to the group
that bought the goods: its organisers, treasurers and coordinators see it, its organisers and
coordinators verify it, and its members may claim it while it is free. Everyone else gets a
404."""

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.shortcuts import get_object_or_404
from django.utils import timezone

from donations.models import Expense
from groups import queries as group_queries
from hubs.queries import OnTheWay, coordinated_hubs, served_hubs

from . import services
from .models import Delivery, DeliveryLine, Handover, ProofOfDelivery

S = Delivery.Status
ACTIVE = [S.PLANNED, S.CLAIMED, S.DISPATCHED, S.DELIVERED]


def _free() -> Q:
    return Q(status=S.PLANNED) | Q(status=S.CLAIMED, claim_expires_at__lt=timezone.now())


def _purchases_of(groups: QuerySet) -> Q:
    return Q(expense__fundraiser__group__in=groups)


def coordinated(user: AbstractBaseUser) -> Q:
    """The deliveries `user` verifies: of the hubs they coordinate, and from the purchases of
    the groups where they are an organiser or coordinator."""
    groups = group_queries.groups_where(user, group_queries.COORDINATING_ROLES)
    return Q(hub__in=coordinated_hubs(user)) | _purchases_of(groups)


def _served(user: AbstractBaseUser) -> Q:
    """The deliveries `user` may claim while free: of the hubs they serve, and from the
    purchases of the groups they are a member of."""
    return Q(hub__in=served_hubs(user)) | _purchases_of(group_queries.groups_held(user))


def visible_to(user: AbstractBaseUser) -> QuerySet[Delivery]:
    if not user.is_authenticated:
        return Delivery.objects.none()
    if user.is_superuser:
        return Delivery.objects.all()
    planners = group_queries.groups_where(user, group_queries.DELIVERY_PLANNING_ROLES)
    return Delivery.objects.filter(
        Q(volunteer=user) | coordinated(user) | _purchases_of(planners) | (_served(user) & _free())
    )


def with_details(deliveries: QuerySet[Delivery]) -> QuerySet[Delivery]:
    lines = DeliveryLine.objects.select_related("item").order_by("item__name")
    related = ("hub", "expense__fundraiser__group", "place__region", "volunteer")
    return deliveries.select_related(*related).prefetch_related(Prefetch("lines", queryset=lines))


def my_deliveries(user: AbstractBaseUser) -> tuple[list[Delivery], list[Delivery]]:
    """(mine in progress, free to claim at my hubs), nearest first."""
    mine = with_details(
        Delivery.objects.filter(volunteer=user, status__in=[S.CLAIMED, S.DISPATCHED, S.DELIVERED])
    ).order_by("status", "created_at")
    free = (
        with_details(Delivery.objects.filter(_free(), _served(user)))
        .exclude(volunteer=user)
        .order_by("created_at")
    )
    return list(mine), list(free[:50])


def delivery_for(user: AbstractBaseUser, slug: str) -> Delivery:
    return get_object_or_404(with_details(visible_to(user)), slug=slug)


def delivery_to_verify(user: AbstractBaseUser, slug: str) -> Delivery:
    return get_object_or_404(with_details(Delivery.objects.filter(coordinated(user))), slug=slug)


def awaiting_verification(user: AbstractBaseUser) -> QuerySet[Delivery]:
    return with_details(
        Delivery.objects.filter(coordinated(user), status=S.DELIVERED)
    ).prefetch_related(
        Prefetch(
            "proofs",
            queryset=ProofOfDelivery.objects.filter(review="pending").prefetch_related("photos"),
        )
    )


def pending_proof(delivery: Delivery) -> ProofOfDelivery | None:
    return (
        delivery.proofs.filter(review=ProofOfDelivery.Review.PENDING)
        .prefetch_related("photos")
        .first()
    )


def on_the_way(place_ids: Iterable[int]) -> dict[int, OnTheWay]:
    """For the needs and gaps pages (hubs.queries.on_the_way): the deliveries to these places
    that are active (planned, claimed, on the road or reported, not yet verified), and what
    their lines carry for each request they answer. Two queries whatever the number of places."""
    ids = list(place_ids)
    found: dict[int, OnTheWay] = {}
    counts = (
        Delivery.objects.filter(place_id__in=ids, status__in=ACTIVE)
        .values("place_id", "status")
        .annotate(n=Count("pk"))
    )
    for row in counts:
        coming = found.setdefault(row["place_id"], OnTheWay())
        if row["status"] == S.DELIVERED:
            coming.reported += row["n"]
        elif row["status"] == S.DISPATCHED:
            coming.dispatched += row["n"]
        else:
            coming.planned += row["n"]
    carried = (
        DeliveryLine.objects.filter(
            delivery__place_id__in=ids,
            delivery__status__in=ACTIVE,
            delivery__requests__isnull=False,
        )
        .values("delivery__place_id", "delivery__requests", "item_id")
        .annotate(quantity=Sum("quantity"))
    )
    for row in carried:
        coming = found.setdefault(row["delivery__place_id"], OnTheWay())
        coming.quantities[(row["delivery__requests"], row["item_id"])] = row["quantity"]
    return found


def handover_code_offered(delivery: Delivery) -> bool:
    """Whether the delivery's page offers its volunteer the handover code: on the way until the
    recipient confirms, and after the report while the code shown can still be confirmed."""
    handovers = Handover.objects.filter(delivery=delivery)
    if delivery.status == S.DISPATCHED:
        return not handovers.filter(confirmed_at__isnull=False).exists()
    if delivery.status == S.DELIVERED:
        return handovers.filter(services.handover_confirmable(timezone.now())).exists()
    return False


def purchase_to_deliver(user: AbstractBaseUser, pk: int) -> Expense:
    """An expense whose goods `user` may send to a place (a 404 otherwise): of a fundraiser of
    a group where they are an organiser, treasurer or coordinator."""
    groups = group_queries.groups_where(user, group_queries.DELIVERY_PLANNING_ROLES)
    expenses = Expense.objects.filter(fundraiser__group__in=groups).select_related(
        "fundraiser__group", "hub"
    )
    return get_object_or_404(expenses, pk=pk)


def purchase_deliveries(expense_ids: Iterable[int]) -> dict[int, list[int]]:
    """For the expense entries' pages: the ledger indexes of the verified deliveries made from
    each of these purchases (by the expense's ledger index), oldest first. One query."""
    rows = (
        Delivery.objects.filter(expense__ledger_index__in=list(expense_ids))
        .exclude(ledger_index=None)
        .order_by("ledger_index")
        .values_list("expense__ledger_index", "ledger_index")
    )
    found: dict[int, list[int]] = {}
    for expense_index, index in rows:
        found.setdefault(expense_index, []).append(index)
    return found
