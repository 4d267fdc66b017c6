"""Who sees which delivery: its volunteer, the coordinators of its hub, and volunteers of the
hub while it is still free to claim. Everyone else gets a 404."""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from hubs.models import Membership
from hubs.queries import coordinated_hubs

from .models import Delivery, DeliveryLine, ProofOfDelivery

S = Delivery.Status
ACTIVE = [S.PLANNED, S.CLAIMED, S.DISPATCHED, S.DELIVERED]


def _free() -> Q:
    return Q(status=S.PLANNED) | Q(status=S.CLAIMED, claim_expires_at__lt=timezone.now())


def visible_to(user: AbstractBaseUser) -> QuerySet[Delivery]:
    if not user.is_authenticated:
        return Delivery.objects.none()
    if user.is_superuser:
        return Delivery.objects.all()
    member_hubs = Membership.objects.filter(user=user).values("hub_id")
    return Delivery.objects.filter(
        Q(volunteer=user) | Q(hub__in=coordinated_hubs(user)) | (Q(hub__in=member_hubs) & _free())
    ).distinct()


def with_details(deliveries: QuerySet[Delivery]) -> QuerySet[Delivery]:
    lines = DeliveryLine.objects.select_related("item").order_by("item__name")
    return deliveries.select_related("hub", "place__region", "volunteer").prefetch_related(
        Prefetch("lines", queryset=lines)
    )


def my_deliveries(user: AbstractBaseUser) -> tuple[list[Delivery], list[Delivery]]:
    """(mine in progress, free to claim at my hubs), nearest first."""
    mine = with_details(
        Delivery.objects.filter(volunteer=user, status__in=[S.CLAIMED, S.DISPATCHED, S.DELIVERED])
    ).order_by("status", "created_at")
    member_hubs = Membership.objects.filter(user=user).values("hub_id")
    free = (
        with_details(Delivery.objects.filter(_free(), hub__in=member_hubs))
        .exclude(volunteer=user)
        .order_by("created_at")
    )
    return list(mine), list(free[:50])


def delivery_for(user: AbstractBaseUser, slug: str) -> Delivery:
    return get_object_or_404(with_details(visible_to(user)), slug=slug)


def delivery_to_verify(user: AbstractBaseUser, slug: str) -> Delivery:
    hubs = coordinated_hubs(user)
    return get_object_or_404(with_details(Delivery.objects.filter(hub__in=hubs)), slug=slug)


def awaiting_verification(user: AbstractBaseUser) -> QuerySet[Delivery]:
    return with_details(
        Delivery.objects.filter(status=S.DELIVERED, hub__in=coordinated_hubs(user))
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
