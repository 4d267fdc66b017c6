"""Reads about hubs, places and requests: public ones, and ones scoped to a coordinator."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Min, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from groups import queries as group_queries

from .models import Hub, Membership, Place, Region, StockLevel, SupplyRequest, SupplyRequestLine

OPEN = [SupplyRequest.Status.OPEN, SupplyRequest.Status.PARTLY]


# ---- who may do what ------------------------------------------------------------------------


def coordinated_hubs(user: AbstractBaseUser) -> QuerySet[Hub]:
    """The hubs a user coordinates: those they coordinate as a hub member, and every hub of a
    group where they are an organiser or coordinator (every hub for a superuser)."""
    if not user.is_authenticated:
        return Hub.objects.none()
    if user.is_superuser:
        return Hub.objects.all()
    own = Membership.objects.filter(user=user, role=Membership.Role.COORDINATOR)
    groups = group_queries.groups_where(user, group_queries.COORDINATING_ROLES)
    return Hub.objects.filter(Q(pk__in=own.values("hub_id")) | Q(group__in=groups))


def served_hubs(user: AbstractBaseUser) -> QuerySet[Hub]:
    """The hubs a user may serve (see and claim their free deliveries): those they are a member
    of, and every hub of a group they hold a role in."""
    if not user.is_authenticated:
        return Hub.objects.none()
    own = Membership.objects.filter(user=user)
    groups = group_queries.groups_held(user, group_queries.SERVING_ROLES)
    return Hub.objects.filter(Q(pk__in=own.values("hub_id")) | Q(group__in=groups))


def is_coordinator(user: AbstractBaseUser, hub: Hub | None = None) -> bool:
    hubs = coordinated_hubs(user)
    return hubs.filter(pk=hub.pk).exists() if hub else hubs.exists()


def serves(user: AbstractBaseUser, hub: Hub) -> bool:
    """Whether `user` is a volunteer (or more) of `hub`."""
    return served_hubs(user).filter(pk=hub.pk).exists()


def hub_coordinators(hub: Hub) -> QuerySet:
    """The active accounts that coordinate `hub` (superusers are not counted)."""
    own = Membership.objects.filter(hub=hub, role=Membership.Role.COORDINATOR)
    group = group_queries.active_members().filter(
        group_id=hub.group_id, role__in=group_queries.COORDINATING_ROLES
    )
    return get_user_model().objects.filter(
        Q(pk__in=own.values("user_id")) | Q(pk__in=group.values("user_id")), is_active=True
    )


def hub_people(user: AbstractBaseUser) -> QuerySet:
    """The accounts a user may see listed: the members of their groups and of the hubs they
    coordinate (every account for a superuser). Nobody else is shown a list of the site's
    users."""
    accounts = get_user_model().objects.all()
    if user.is_authenticated and user.is_superuser:
        return accounts
    hub_members = Membership.objects.filter(hub__in=coordinated_hubs(user)).values("user_id")
    return accounts.filter(Q(pk__in=hub_members) | Q(pk__in=group_queries.group_people_ids(user)))


# ---- public pages ---------------------------------------------------------------------------


def public_hubs() -> QuerySet[Hub]:
    return Hub.objects.filter(is_active=True).select_related("region")


def public_hub(slug: str) -> Hub:
    return get_object_or_404(
        Hub.objects.filter(is_active=True)
        .select_related("region", "group")
        .prefetch_related("surplus_items"),
        slug=slug,
    )


def hub_stock(hub: Hub) -> list[StockLevel]:
    return list(
        StockLevel.objects.filter(hub=hub, quantity__gt=0)
        .select_related("item")
        .order_by("item__category", "item__name")
    )


def _with_lines(requests: QuerySet[SupplyRequest]) -> QuerySet[SupplyRequest]:
    lines = SupplyRequestLine.objects.select_related("item").order_by("item__name")
    return requests.select_related("place__region", "hub").prefetch_related(
        Prefetch("lines", queryset=lines)
    )


@dataclass
class NeedsFilter:
    region: str = ""
    category: str = ""
    urgency: int | None = None


def open_requests(needs: NeedsFilter) -> QuerySet[SupplyRequest]:
    requests = SupplyRequest.objects.filter(status__in=OPEN)
    if needs.region:
        requests = requests.filter(place__region__slug=needs.region)
    if needs.category:
        requests = requests.filter(lines__item__category=needs.category).distinct()
    if needs.urgency:
        requests = requests.filter(urgency__lte=needs.urgency)
    return _with_lines(requests.order_by("urgency", "created_at"))


def regions_with_places() -> QuerySet[Region]:
    return Region.objects.filter(place__isnull=False).distinct().order_by("name")


def public_place(slug: str) -> Place:
    return get_object_or_404(Place.objects.select_related("region"), slug=slug)


def public_place_or_none(slug: str) -> Place | None:
    return Place.objects.select_related("region").filter(slug=slug).first()


def place_requests(place: Place) -> QuerySet[SupplyRequest]:
    return _with_lines(SupplyRequest.objects.filter(place=place).order_by("-created_at"))


@dataclass
class Gap:
    place: Place
    most_urgent: int
    waiting_since: object
    open_requests: int
    on_the_way: "OnTheWay | None" = None

    @property
    def urgency_label(self) -> str:
        return SupplyRequest.Urgency(self.most_urgent).label


def gaps(days: int) -> list[Gap]:
    """Places with open requests and no verified delivery in the last `days` days. Those with
    nothing on its way first, each part most urgent first, then the longest waiting."""
    since = timezone.now() - timedelta(days=days)
    places = (
        Place.objects.filter(Q(last_delivery_at__isnull=True) | Q(last_delivery_at__lt=since))
        .filter(requests__status__in=OPEN)
        .annotate(
            most_urgent=Min("requests__urgency", filter=Q(requests__status__in=OPEN)),
            waiting_since=Min("requests__created_at", filter=Q(requests__status__in=OPEN)),
            open_count=Count("requests", filter=Q(requests__status__in=OPEN), distinct=True),
        )
        .select_related("region")
        .order_by("most_urgent", "waiting_since")
    )
    found = list(places)
    coming = on_the_way(p.pk for p in found)
    listed = [
        Gap(place=p, most_urgent=p.most_urgent, waiting_since=p.waiting_since,
            open_requests=p.open_count, on_the_way=coming[p.pk])
        for p in found
    ]  # fmt: skip
    # Where something is already coming comes after the places nothing is coming to.
    return sorted(listed, key=lambda gap: gap.on_the_way.any)


# ---- what is already on its way -------------------------------------------------------------
# Deliveries are an app above this one (the arrows point one way), so the needs and gaps pages
# learn what is planned, on the road or reported through this hook; deliveries.apps fills it at
# startup with its own query, which holds the rule of which deliveries count.


@dataclass
class OnTheWay:
    """Deliveries to a place not yet verified: planned or claimed, dispatched, and reported
    (delivered, awaiting verification); and per (request, item) the quantity they carry."""

    planned: int = 0
    dispatched: int = 0
    reported: int = 0
    quantities: dict[tuple[int, int], Decimal] = field(default_factory=dict)

    @property
    def any(self) -> bool:
        return bool(self.planned or self.dispatched or self.reported)


OnTheWaySource = Callable[[Iterable[int]], dict[int, OnTheWay]]
_on_the_way: list[OnTheWaySource] = []


def on_the_way_source(source: OnTheWaySource) -> None:
    """Called once by the deliveries app: `source(place_ids)` → OnTheWay by place id."""
    _on_the_way[:] = [source]


def on_the_way(place_ids: Iterable[int]) -> dict[int, OnTheWay]:
    ids = sorted(set(place_ids))
    found = _on_the_way[0](ids) if _on_the_way and ids else {}
    return {pk: found.get(pk, OnTheWay()) for pk in ids}


def with_on_the_way(requests: Iterable[SupplyRequest]) -> list[SupplyRequest]:
    """The requests, each with `.on_the_way` (its place's) and each line with `.on_the_way`
    (the quantity of its item carried by deliveries that answer this request) and
    `.still_needed` (what no delivery has brought or is bringing yet)."""
    requests = list(requests)
    found = on_the_way(r.place_id for r in requests)
    for r in requests:
        r.on_the_way = found[r.place_id]
        for line in r.lines.all():
            line.on_the_way = r.on_the_way.quantities.get((r.pk, line.item_id), Decimal(0))
            line.still_needed = max(line.outstanding - line.on_the_way, Decimal(0))
    return requests
