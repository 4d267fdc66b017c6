"""Every write about deliveries. Status changes are conditional UPDATEs whose row count decides
who won, so a double tap, a retry or two volunteers at once never change a delivery twice."""

import logging
import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _

from aidhub import audit, clock
from aidhub.uploads import CleanFile
from donations.models import (
    Donation,
    Expense,
    ExpenseLine,
    Fundraiser,
    GoodsOffer,
    PaymentMethod,
)
from donations.queries import creditable_fundraisers
from groups import queries as group_queries
from groups.models import Group
from hubs import queries as hub_queries
from hubs import services as hub_services
from hubs.freshness import needs_changed
from hubs.models import Hub, Item, Place, SupplyRequest, format_quantity
from ledger import services as ledger
from ledger.models import Evidence
from notifications import queries as notification_queries
from notifications import services as notifications

from .models import (
    Delivery,
    DeliveryLine,
    Handover,
    ProofOfDelivery,
    ProofPhoto,
)

logger = logging.getLogger(__name__)
MAX_PHOTOS = 5
HANDOVER_MINUTES = 30
# A code is shown again while it has at least this long left; nearer its end a new one is made.
HANDOVER_KEEP_MINUTES = 10
HANDOVER_ATTEMPTS = 5
S = Delivery.Status


class DeliveryError(ValidationError):
    pass


def _refuse(message: str, code: str = "delivery") -> DeliveryError:
    return DeliveryError(message, code=code)


def _new_slug(place: Place) -> str:
    return f"{place.slug[:40]}-{secrets.token_hex(3)}"


def _transition(
    delivery: Delivery, *, allowed: Sequence[str], extra: Q | None = None, **changes
) -> bool:
    """Move the delivery on if it is still in an allowed state; True if this call did it."""
    condition = Q(pk=delivery.pk, status__in=allowed) & (extra or Q())
    done = Delivery.objects.filter(condition).update(**changes)
    if done:
        needs_changed()  # what is on its way to a place
        delivery.refresh_from_db()
    return bool(done)


def _is_coordinator_of(user: AbstractBaseUser, hub: Hub) -> bool:
    return hub_queries.is_coordinator(user, hub)


def _purchase_group(delivery: Delivery) -> Group:
    return delivery.expense.fundraiser.group


def _source_name(delivery: Delivery) -> str:
    """Who the delivery's people answer to: its hub, or the group whose purchase it carries."""
    return str(delivery.hub.name if delivery.hub_id else _purchase_group(delivery).name)


def _serves(user: AbstractBaseUser, delivery: Delivery) -> bool:
    """Whether `user` may carry it: a volunteer (or more) of its hub, or a member of the group
    whose purchase it carries."""
    if delivery.hub_id is not None:
        return hub_queries.serves(user, delivery.hub)
    return _member_of(user, _purchase_group(delivery))


def _member_of(user: AbstractBaseUser, group: Group) -> bool:
    return group_queries.groups_held(user).filter(pk=group.pk).exists()


def _coordinates(user: AbstractBaseUser, delivery: Delivery) -> bool:
    """Whether `user` verifies it and closes it: a coordinator of its hub, or an organiser or
    coordinator of the group whose purchase it carries."""
    if delivery.hub_id is not None:
        return _is_coordinator_of(user, delivery.hub)
    group_id = delivery.expense.fundraiser.group_id
    return group_queries.holds(user, group_id, group_queries.COORDINATING_ROLES)


def _check_requests(requests: Sequence[SupplyRequest], place: Place) -> None:
    for request in requests:
        if request.place_id != place.pk or not request.is_open:
            raise _refuse(
                _("Request %(id)s is not an open request of %(place)s.")
                % {"id": request.pk, "place": place.name}
            )


def _goods_declined(expense: Expense) -> bool:
    """Goods another group's hub declined are nobody's stock: the purchase may go straight to a
    place."""
    return GoodsOffer.objects.filter(expense=expense, status=GoodsOffer.Status.DECLINED).exists()


def _check_credited(hub: Hub, fundraisers: Sequence[Fundraiser]) -> None:
    """A delivery credits only fundraisers whose group agreed (donation_queries.
    creditable_fundraisers): the hub's own group's, or those whose goods the hub accepted."""
    allowed = set(
        creditable_fundraisers(hub)
        .filter(pk__in=[f.pk for f in fundraisers])
        .values_list("pk", flat=True)
    )
    for fundraiser in fundraisers:
        if fundraiser.pk not in allowed:
            raise _refuse(
                _("A delivery from %(hub)s cannot credit “%(title)s”: it belongs to another "
                  "group, and the hub accepted none of its goods.")
                % {"hub": hub.name, "title": fundraiser.title},
                "fundraiser_not_agreed",
            )  # fmt: skip


@transaction.atomic
def delivery_plan(
    *,
    hub: Hub,
    place: Place,
    lines: Sequence[tuple[Item, Decimal]],
    by: AbstractBaseUser,
    requests: Sequence[SupplyRequest] = (),
    fundraisers: Sequence[Fundraiser] = (),
    vehicle_note: str = "",
) -> Delivery:
    """A coordinator plans what goes where from the hub's stock; volunteers then claim it."""
    if not _is_coordinator_of(by, hub):
        raise _refuse(_("Only a coordinator of %(hub)s can plan its deliveries.") % {"hub": hub})
    checked = hub_services.check_lines(lines)
    _check_requests(requests, place)
    _check_credited(hub, fundraisers)
    delivery = Delivery.objects.create(
        slug=_new_slug(place),
        hub=hub,
        place=place,
        vehicle_note=vehicle_note.strip(),
        created_by=by,
    )
    DeliveryLine.objects.bulk_create(
        DeliveryLine(delivery=delivery, item=item, quantity=q) for item, q in checked
    )
    delivery.requests.set(requests)
    delivery.fundraisers.set(fundraisers)
    needs_changed()
    audit.record(actor=by, action="delivery planned", target=delivery)
    return delivery


# A failed or returned delivery carried nothing to its place: its goods are free again.
GOODS_FREED = (S.FAILED, S.RETURNED)


def purchase_goods_left(expense_ids: Iterable[int]) -> dict[int, dict[int, Decimal]]:
    """Per expense, per item id: what it bought that no delivery carries (failed and returned
    ones aside), only where something is left. Two queries whatever the number of expenses."""
    ids = list(expense_ids)
    left: dict[int, dict[int, Decimal]] = {}
    bought = (
        ExpenseLine.objects.filter(expense_id__in=ids)
        .values("expense_id", "item_id")
        .annotate(quantity=Sum("quantity"))
        .order_by()
    )
    for row in bought:
        left.setdefault(row["expense_id"], {})[row["item_id"]] = row["quantity"]
    carried = (
        DeliveryLine.objects.filter(delivery__expense_id__in=ids)
        .exclude(delivery__status__in=GOODS_FREED)
        .values("delivery__expense_id", "item_id")
        .annotate(quantity=Sum("quantity"))
        .order_by()
    )
    for row in carried:
        goods = left.setdefault(row["delivery__expense_id"], {})
        goods[row["item_id"]] = goods.get(row["item_id"], Decimal(0)) - row["quantity"]
    return {
        pk: {item: q for item, q in goods.items() if q > 0}
        for pk, goods in left.items()
        if any(q > 0 for q in goods.values())
    }


@transaction.atomic
def delivery_plan_from_expense(
    *,
    expense: Expense,
    place: Place,
    by: AbstractBaseUser,
    lines: Sequence[tuple[Item, Decimal]] | None = None,
    volunteer: AbstractBaseUser | None = None,
    requests: Sequence[SupplyRequest] = (),
    vehicle_note: str = "",
) -> Delivery:
    """Send what a purchase bought straight to a place, with no hub between: all the goods not
    yet on a delivery, or `lines` of them. No hub stock moves at any step; the fundraiser that
    paid is the one credited. With `volunteer` (a member of the group) it is theirs to carry
    at once; otherwise any member of the group can claim it.

    The expense's row is locked first, so two plans at once never carry more than it bought."""
    group = expense.fundraiser.group
    if not group_queries.holds(by, group, group_queries.DELIVERY_PLANNING_ROLES):
        raise _refuse(
            _("Only an organiser, treasurer or coordinator of %(group)s can send its purchases "
              "to a place.") % {"group": group.name},
            "not_allowed",
        )  # fmt: skip
    locked = Expense.objects.select_for_update().filter(pk=expense.pk).first()
    if locked is None or locked.is_corrected:
        raise _refuse(
            _("This purchase was reversed in the ledger: its goods cannot be delivered."),
            "not_approved",
        )
    if locked.hub_id is not None and not _goods_declined(locked):
        raise _refuse(
            _("The goods of this purchase went into the stock of %(hub)s: plan the delivery "
              "from that hub.") % {"hub": locked.hub.name},
            "in_hub",
        )  # fmt: skip
    if not ExpenseLine.objects.filter(expense=locked).exists():
        raise _refuse(_("This purchase lists no goods to deliver."), "no_goods")
    left = purchase_goods_left([locked.pk]).get(locked.pk, {})
    if not left:
        raise _refuse(
            _("Every item this purchase bought is already on a delivery."), "already_delivered"
        )
    if lines is None:
        items = Item.objects.in_bulk(list(left))
        wanted = [(items[pk], quantity) for pk, quantity in sorted(left.items())]
    else:
        wanted = hub_services.check_lines(lines)
    if not wanted:
        raise _refuse(_("Choose at least one item to deliver."), "no_lines")
    for item, quantity in wanted:
        if quantity > left.get(item.pk, Decimal(0)):
            raise _refuse(
                _("This purchase has %(left)s of %(item)s left to deliver, not %(quantity)s.")
                % {
                    "left": format_quantity(left.get(item.pk, Decimal(0))),
                    "item": item.local_name,
                    "quantity": format_quantity(quantity),
                },
                "too_much",
            )
    if not Place.objects.filter(pk=place.pk).exists():
        raise _refuse(_("That place does not exist."), "no_place")
    if volunteer is not None and not _member_of(volunteer, group):
        raise _refuse(
            _("Only a member of %(group)s can carry its purchases.") % {"group": group.name},
            "not_member",
        )
    _check_requests(requests, place)
    claim = {}
    if volunteer is not None:
        expires = timezone.now() + timedelta(hours=settings.DELIVERY_CLAIM_HOURS)
        claim = {"status": S.CLAIMED, "volunteer": volunteer, "claim_expires_at": expires}
    delivery = Delivery.objects.create(
        slug=_new_slug(place),
        expense=locked,
        place=place,
        vehicle_note=vehicle_note.strip(),
        created_by=by,
        **claim,
    )
    DeliveryLine.objects.bulk_create(
        DeliveryLine(delivery=delivery, item=item, quantity=q) for item, q in wanted
    )
    delivery.requests.set(requests)
    delivery.fundraisers.set([locked.fundraiser])
    needs_changed()
    audit.record(actor=by, action="delivery planned", target=delivery, expense=locked.ledger_index)
    return delivery


def claims_release_expired() -> int:
    """Free every claim that was not dispatched in time, so no request waits on someone who
    vanished. Run by beat; claiming also treats an expired claim as free."""
    released = Delivery.objects.filter(
        status=S.CLAIMED, claim_expires_at__lt=timezone.now()
    ).update(status=S.PLANNED, volunteer=None, claim_expires_at=None)
    if released:
        needs_changed()
    return released


@transaction.atomic
def delivery_claim(*, delivery: Delivery, volunteer: AbstractBaseUser) -> Delivery:
    if not _serves(volunteer, delivery):
        raise _refuse(_("You are not a volunteer of %(hub)s.") % {"hub": _source_name(delivery)})
    now = timezone.now()
    expires = now + timedelta(hours=settings.DELIVERY_CLAIM_HOURS)
    free = Q(status=S.PLANNED) | Q(status=S.CLAIMED, claim_expires_at__lt=now)
    won = Delivery.objects.filter(Q(pk=delivery.pk) & free).update(
        status=S.CLAIMED, volunteer=volunteer, claim_expires_at=expires
    )
    if won:
        needs_changed()
    delivery.refresh_from_db()
    if not won and delivery.volunteer_id != volunteer.pk:
        raise _refuse(_("Someone else has already taken this delivery."), "taken")
    return delivery


@transaction.atomic
def delivery_dispatch(*, delivery: Delivery, volunteer: AbstractBaseUser) -> Delivery:
    """The car leaves: goods come out of the hub's stock now, never below zero."""
    mine = Q(volunteer=volunteer)
    if not _transition(
        delivery,
        allowed=[S.CLAIMED],
        extra=mine,
        status=S.DISPATCHED,
        dispatched_at=timezone.now(),
        claim_expires_at=None,
    ):
        delivery.refresh_from_db()
        if delivery.status == S.DISPATCHED and delivery.volunteer_id == volunteer.pk:
            return delivery  # pressed twice: already on the way
        raise _refuse(_("Claim this delivery before dispatching it."), "not_claimed")
    lines = [(line.item, line.quantity) for line in delivery.lines.select_related("item")]
    if delivery.expense_id is None:
        hub_services.stock_dispatch(
            hub=delivery.hub,
            place=delivery.place,
            lines=lines,
            by=volunteer,
            reference=delivery.slug,
            fundraisers=_fundraiser_refs(delivery),
        )
    return delivery


def _fundraiser_refs(delivery: Delivery) -> list[dict]:
    return [f.ledger_ref() for f in delivery.fundraisers.order_by("slug")]


@transaction.atomic
def delivery_report(
    *,
    delivery: Delivery,
    volunteer: AbstractBaseUser,
    people: int,
    photos: Sequence[CleanFile],
    households: int | None = None,
    note: str = "",
    delivered_at: datetime | None = None,
) -> ProofOfDelivery:
    """The volunteer reports the handover with photos. Nothing is public until a coordinator
    verifies it."""
    if not 1 <= len(photos) <= MAX_PHOTOS:
        raise _refuse(_("Add from 1 to %(n)s photos.") % {"n": MAX_PHOTOS}, "photos")
    if people < 1:
        raise _refuse(_("How many people received the goods?"), "people")
    delivered_at = delivered_at or timezone.now()
    if delivered_at > timezone.now() + timedelta(minutes=5):
        raise _refuse(_("That time is in the future."), "future")
    if not _transition(
        delivery,
        allowed=[S.DISPATCHED],
        extra=Q(volunteer=volunteer),
        status=S.DELIVERED,
        delivered_at=delivered_at,
    ):
        raise _refuse(
            _("Only the volunteer on the way with this delivery can report it."), "not_dispatched"
        )
    proof = ProofOfDelivery.objects.create(
        delivery=delivery,
        people=people,
        households=households,
        note=note.strip()[:500],
        delivered_at=delivered_at,
        created_by=volunteer,
    )
    hashes = []
    for photo in photos:
        sha = ledger.evidence_store(data=photo.data, content_type=photo.content_type).sha256
        if sha not in hashes:
            hashes.append(sha)
    ProofPhoto.objects.bulk_create(
        ProofPhoto(proof=proof, evidence_sha256=sha, position=n) for n, sha in enumerate(hashes)
    )
    # Faces are blurred before a coordinator opens the proof, so what they look at is what
    # would be published; delivery_verify blurs any photo this missed.
    photo_ids = list(proof.photos.values_list("pk", flat=True))
    transaction.on_commit(lambda: _blur_enqueue(photo_ids))
    return proof


def _blur_enqueue(photo_ids: Sequence[int]) -> None:
    """A broker that is down must not fail the report that was just saved."""
    from .tasks import proof_photo_blur as blur

    for photo_id in photo_ids:
        try:
            blur.delay(photo_id)
        except Exception as exc:  # the broker's errors vary by transport; all mean "later"
            logger.warning("blur of proof photo %s not enqueued (%s)", photo_id, exc)


def handover_code_issue(*, delivery: Delivery, volunteer: AbstractBaseUser) -> Handover:
    """The 6-digit code for the recipient to confirm, valid for half an hour. Showing the page
    again shows the same code while it can still be confirmed for a while (the recipient may be
    typing it); a new one only when it was spent, confirmed or is about to expire."""
    if delivery.volunteer_id != volunteer.pk or delivery.status not in (S.DISPATCHED, S.DELIVERED):
        raise _refuse(_("Only the volunteer with this delivery can show its code."), "not_mine")
    now = timezone.now()
    with transaction.atomic():
        current = (
            Handover.objects.select_for_update()
            .filter(handover_confirmable(now + timedelta(minutes=HANDOVER_KEEP_MINUTES)))
            .filter(delivery=delivery)
            .first()
        )
        if current is not None:
            return current
        return _handover_new(delivery, now)


def _handover_new(delivery: Delivery, now: datetime) -> Handover:
    code = f"{secrets.randbelow(1_000_000):06d}"
    handover, _created = Handover.objects.update_or_create(
        delivery=delivery,
        defaults={
            "code": code,
            "failed_attempts": 0,
            "expires_at": now + timedelta(minutes=HANDOVER_MINUTES),
        },
    )
    return handover


def handover_confirmable(now: datetime) -> Q:
    """The handovers whose code the recipient can still confirm at `now`: not confirmed yet,
    attempts left, not expired. handover_confirm's update and the volunteer's page both ask it."""
    return Q(confirmed_at__isnull=True, failed_attempts__lt=HANDOVER_ATTEMPTS, expires_at__gte=now)


def handover_confirm(*, delivery: Delivery, code: str, role: str = "") -> Handover:
    """The local contact confirms on their own phone. Wrong codes count; after five the code
    is spent and the volunteer must show a new one. Not one transaction on purpose: a wrong
    guess must stay counted even though the call fails.

    Each guess first claims an attempt (a conditional UPDATE while attempts are left) and is
    compared only if it got one: guesses sent at the same moment cannot all pass a check read
    before any of them counted. A right code gives its attempt back."""
    handover = Handover.objects.filter(delivery=delivery).first()
    if handover is None or handover.confirmed_at:
        raise _refuse(_("There is no handover waiting for confirmation here."), "no_handover")
    now = timezone.now()
    this_code = Handover.objects.filter(pk=handover.pk, code=handover.code)
    claimed = this_code.filter(handover_confirmable(now)).update(
        failed_attempts=F("failed_attempts") + 1
    )
    if not claimed:
        raise _refuse(_("This code has expired. Ask the volunteer to show a new one."), "expired")
    if not constant_time_compare(code.strip(), handover.code):
        raise _refuse(_("That code is not right. Check it and try again."), "wrong_code")
    confirmed = this_code.filter(confirmed_at__isnull=True, expires_at__gte=now).update(
        confirmed_at=now, confirmed_role=role.strip()[:80], failed_attempts=F("failed_attempts") - 1
    )
    if not confirmed:
        raise _refuse(_("This code has expired. Ask the volunteer to show a new one."), "expired")
    handover.refresh_from_db()
    return handover


@transaction.atomic
def delivery_verify(*, delivery: Delivery, coordinator: AbstractBaseUser) -> int:
    """A second person approves the proof: the delivery enters the public ledger with its
    photos, and the requests it answered count what arrived. Returns the ledger index."""
    if not _coordinates(coordinator, delivery):
        raise _refuse(
            _("Only a coordinator of %(hub)s can verify.") % {"hub": _source_name(delivery)}
        )
    if delivery.volunteer_id == coordinator.pk:
        raise _refuse(_("Someone other than the volunteer must verify a delivery."), "same")
    proof = delivery.proofs.filter(review=ProofOfDelivery.Review.PENDING).first()
    if proof is not None:
        # No photo is published unblurred, whichever way it is approved: a photo whose blur
        # has not run yet (task lost, approved at once) is blurred now, before the entry.
        for photo in proof.photos.filter(faces_blurred__isnull=True):
            proof_photo_blur(photo=photo)
    moved = proof is not None and _transition(
        delivery,
        allowed=[S.DELIVERED],
        status=S.VERIFIED,
        verified_by=coordinator,
        verified_at=timezone.now(),
    )
    if not moved:
        raise _refuse(_("This delivery has no proof waiting for verification."), "no_proof")
    ProofOfDelivery.objects.filter(pk=proof.pk).update(review=ProofOfDelivery.Review.APPROVED)
    lines = [(line.item, line.quantity) for line in delivery.lines.select_related("item")]
    handover = Handover.objects.filter(delivery=delivery, confirmed_at__isnull=False).exists()
    # Where the goods came from: the hub's stock, or the ledger entry of the purchase itself,
    # so a donor can follow the money from the expense to this delivery by its index.
    source = (
        {"hub": delivery.hub.ledger_ref()}
        if delivery.hub_id is not None
        else {"expense": delivery.expense.ledger_index}
    )
    payload = {
        **source,
        "delivery": delivery.slug,
        "place": delivery.place.ledger_ref(),
        "items": [item.ledger_line(q) for item, q in lines],
        "people": proof.people,
        "delivered_at": ledger.utc_timestamp(proof.delivered_at),
        "confirmed_by_recipient": handover,
        "fundraisers": _fundraiser_refs(delivery),
        "evidence": list(proof.photos.values_list("evidence_sha256", flat=True)),
    }
    if proof.households:
        payload["households"] = proof.households
    entry = ledger.append(kind="delivery", payload=payload)
    Delivery.objects.filter(pk=delivery.pk).update(ledger_index=entry.index)
    _count_towards_requests(delivery, lines, proof.delivered_at)
    audit.record(actor=coordinator, action="delivery verified", target=delivery, ledger=entry.index)
    fundraisers = list(delivery.fundraisers.order_by("slug"))
    photos = payload["evidence"]
    notifications.notify(
        event=f"delivery:{delivery.slug}",
        kind="delivery",
        scopes=[("fundraiser", f.slug) for f in fundraisers],
        context={
            "place": notifications.in_languages(lambda: delivery.place.name),
            "people": proof.people,
            "fundraiser": notifications.in_languages(
                lambda: ", ".join(f.title for f in fundraisers)
            ),
            "items": hub_services.items_by_language(lines),
            "path": f"/ledger/{entry.index}/",
            "photo_url": f"{settings.SITE_URL}/ledger/evidence/{photos[0]}" if photos else "",
        },
    )
    return entry.index


def _count_towards_requests(delivery: Delivery, lines, delivered_at: datetime) -> None:
    # The place first, as every write of a place's requests does (hubs.services): no deadlock.
    hub_services.place_record_delivery(place_id=delivery.place_id, delivered_at=delivered_at)
    left = {item.pk: (item, quantity) for item, quantity in lines}
    for request in delivery.requests.order_by("urgency", "created_at"):
        share = []
        for line in request.lines.all():
            item, quantity = left.get(line.item_id, (None, Decimal(0)))
            take = min(quantity, line.outstanding)
            if item is not None and take > 0:
                share.append((item, take))
                left[line.item_id] = (item, quantity - take)
        hub_services.request_record_delivery(
            request=request, lines=share, delivered_at=delivered_at
        )


@transaction.atomic
def delivery_reject(*, delivery: Delivery, coordinator: AbstractBaseUser, reason: str) -> None:
    """Send the proof back: the volunteer reports again (new photos, a corrected count). The
    rejected photos were never published and are not kept: their files are deleted on commit,
    each unless something else still names the same bytes."""
    if not _coordinates(coordinator, delivery):
        raise _refuse(
            _("Only a coordinator of %(hub)s can verify.") % {"hub": _source_name(delivery)}
        )
    if not reason.strip():
        raise _refuse(_("Say why the proof is rejected."), "reason")
    pending = list(
        delivery.proofs.filter(review=ProofOfDelivery.Review.PENDING).values_list("pk", flat=True)
    )
    updated = ProofOfDelivery.objects.filter(
        pk__in=pending, review=ProofOfDelivery.Review.PENDING
    ).update(review=ProofOfDelivery.Review.REJECTED, reject_reason=reason.strip()[:200])
    if not updated or not _transition(delivery, allowed=[S.DELIVERED], status=S.DISPATCHED):
        raise _refuse(_("This delivery has no proof waiting for verification."), "no_proof")
    photos = ProofPhoto.objects.filter(proof_id__in=pending)
    hashes = sorted(set(photos.values_list("evidence_sha256", flat=True)))
    photos.delete()  # the proof keeps its count, note and reason; its photos are gone
    discarded = sum(evidence_discard_unused(sha256=sha) for sha in hashes)
    audit.record(
        actor=coordinator,
        action="proof rejected",
        target=delivery,
        reason=reason,
        photos_deleted=discarded,
    )


@transaction.atomic
def delivery_fail(*, delivery: Delivery, by: AbstractBaseUser, reason: str, returned: bool) -> None:
    """The road was closed, the car broke down: `returned` puts the goods back into the hub.
    A purchase's goods on a failed or returned delivery are free for another one."""
    if not reason.strip():
        raise _refuse(_("Say what happened."), "reason")
    allowed_user = delivery.volunteer_id == by.pk or _coordinates(by, delivery)
    if not allowed_user:
        raise _refuse(_("Only the volunteer or a coordinator can close this delivery."), "not_mine")
    # Whether goods left the hub is read from the row locked for this change, never from the
    # copy the caller loaded: a dispatch committing a moment earlier has taken the stock, and
    # it must come back. On PostgreSQL the lock waits for that dispatch; on SQLite the
    # transaction already holds the write lock (IMMEDIATE). The conditional UPDATE on the
    # status read decides.
    current = (
        Delivery.objects.select_for_update()
        .filter(pk=delivery.pk)
        .values_list("status", flat=True)
        .first()
    )
    open_states = [S.PLANNED, S.CLAIMED, S.DISPATCHED]
    status = S.RETURNED if returned else S.FAILED
    if current not in open_states or not _transition(
        delivery,
        allowed=[current],
        status=status,
        reason=reason.strip()[:200],
        claim_expires_at=None,
    ):
        raise _refuse(_("This delivery can no longer be changed."), "closed")
    if returned and current == S.DISPATCHED and delivery.expense_id is None:
        lines = [(line.item, line.quantity) for line in delivery.lines.select_related("item")]
        hub_services.stock_return(
            hub=delivery.hub, lines=lines, by=by, reference=delivery.slug, reason=reason.strip()
        )


@transaction.atomic
def proof_photo_blur(*, photo: ProofPhoto) -> int:
    """Replace a pending proof photo by a copy with the faces blurred; return how many.
    The original is never published (only an approved proof's photos are) and, once replaced,
    not kept either: its file is deleted unless something else names the same bytes."""
    from .faces import blur_faces

    photo = ProofPhoto.objects.select_for_update().select_related("proof").filter(pk=photo.pk)
    photo = photo.first()
    if photo is None:
        return 0  # its proof was rejected meanwhile, and the photo deleted with it
    if photo.proof.review != ProofOfDelivery.Review.PENDING or photo.faces_blurred is not None:
        return photo.faces_blurred or 0
    original = Evidence.objects.get(sha256=photo.evidence_sha256)
    with original.file.open("rb") as handle:
        blurred, faces = blur_faces(handle.read())
    if faces:
        photo.evidence_sha256 = ledger.evidence_store(
            data=blurred, content_type="image/jpeg"
        ).sha256
    photo.faces_blurred = faces
    photo.save(update_fields=["evidence_sha256", "faces_blurred"])
    if faces:
        evidence_discard_unused(sha256=original.sha256)
    return faces


# Every column that names a stored evidence file by its SHA-256. Files are content-addressed:
# the same bytes uploaded as a proof photo, a transfer screenshot or a receipt are one file.
EVIDENCE_REFERENCES = (
    (ProofPhoto, "evidence_sha256"),
    (Donation, "evidence_sha256"),
    (Expense, "receipt_sha256"),
    (PaymentMethod, "qr_sha256"),
)


def evidence_in_use(*, sha256: str) -> bool:
    """Whether anything still needs the stored file of `sha256`: a ledger entry (it is then
    published), or any row of EVIDENCE_REFERENCES. The one question every discard asks."""
    return Evidence.objects.filter(sha256=sha256, published=True).exists() or any(
        model.objects.filter(**{field: sha256}).exists() for model, field in EVIDENCE_REFERENCES
    )


@transaction.atomic
def evidence_discard_unused(*, sha256: str) -> bool:
    """Delete the stored file of `sha256` (on commit) if nothing needs it any more; True if it
    was. The file's row is locked before the question is asked, so a discard waits for an
    upload of the same bytes that holds it, and then sees that upload's row."""
    if not Evidence.objects.select_for_update().filter(sha256=sha256).exists():
        return False
    if evidence_in_use(sha256=sha256):
        return False
    return ledger.evidence_discard(sha256=sha256)


def coordinator_digest(*, now: datetime | None = None) -> int:
    """The daily summary each coordinator gets for each of their hubs: stock running low,
    requests waiting more than 48 hours, deliveries awaiting verification, expired claims.
    Facts, not sentences, are stored: the message is worded in the reader's language."""
    from django.db.models import Sum

    from hubs.models import StockLevel, SupplyRequestLine

    now = now or timezone.now()
    open_statuses = [SupplyRequest.Status.OPEN, SupplyRequest.Status.PARTLY]
    sent = 0
    for hub in Hub.objects.filter(is_active=True):
        wanted = (
            SupplyRequestLine.objects.filter(request__hub=hub, request__status__in=open_statuses)
            .values("item")
            .annotate(total=Sum("quantity") - Sum("delivered"))
        )
        held = dict(StockLevel.objects.filter(hub=hub).values_list("item", "quantity"))
        short = [row["item"] for row in wanted if held.get(row["item"], 0) < row["total"]]
        facts = {
            "short": {
                language: ", ".join(names)
                for language, names in _names_by_language(Item.objects.filter(pk__in=short)).items()
            }
            if short
            else {},
            "waiting": SupplyRequest.objects.filter(
                hub=hub, status__in=open_statuses, created_at__lt=now - timedelta(hours=48)
            ).count(),
            "awaiting": Delivery.objects.filter(hub=hub, status=S.DELIVERED).count(),
            "expired": Delivery.objects.filter(
                hub=hub, status=S.CLAIMED, claim_expires_at__lt=now
            ).count(),
        }
        if not any(facts.values()):
            continue
        coordinators = hub_queries.hub_coordinators(hub).exclude(email="")
        languages = notification_queries.languages_of(user.pk for user in coordinators)
        for user in coordinators:
            sent += notifications.notify_address(
                event=f"digest:{hub.slug}:{clock.local_day(now).isoformat()}:{user.pk}",
                kind="digest",
                channel="email",
                address=user.email,
                language=languages[user.pk],  # each coordinator reads it in their language
                context={
                    "hub": notifications.in_languages(lambda hub=hub: hub.name),
                    **facts,
                    "path": f"/hubs/{hub.slug}/manage/",
                },
            )
    return sent + _purchase_digest(now)


def _purchase_digest(now: datetime) -> int:
    """The same summary for the deliveries straight from a group's purchases, which no hub's
    coordinators see: to the group's organisers and coordinators, who verify them."""
    from django.contrib.auth import get_user_model

    waiting = Delivery.objects.filter(expense__isnull=False).filter(
        Q(status=S.DELIVERED) | Q(status=S.CLAIMED, claim_expires_at__lt=now)
    )
    sent = 0
    for group in Group.objects.filter(pk__in=waiting.values("expense__fundraiser__group")):
        purchases = waiting.filter(expense__fundraiser__group=group)
        facts = {
            "short": {},
            "waiting": 0,
            "awaiting": purchases.filter(status=S.DELIVERED).count(),
            "expired": purchases.filter(status=S.CLAIMED).count(),
        }
        members = group_queries.active_members().filter(
            group=group, role__in=group_queries.COORDINATING_ROLES
        )
        people = get_user_model().objects.filter(pk__in=members.values("user_id")).exclude(email="")
        languages = notification_queries.languages_of(user.pk for user in people)
        for user in people:
            sent += notifications.notify_address(
                event=f"digest:group:{group.slug}:{clock.local_day(now).isoformat()}:{user.pk}",
                kind="digest",
                channel="email",
                address=user.email,
                language=languages[user.pk],
                context={
                    "hub": notifications.in_languages(lambda group=group: group.name),
                    **facts,
                    "path": "/deliveries/awaiting/",
                },
            )
    return sent


def _names_by_language(items) -> dict[str, list[str]]:
    from django.utils import translation

    names: dict[str, list[str]] = {}
    for language in hub_services.LANGUAGES:
        with translation.override(language):
            names[language] = [item.local_name for item in items]
    return names
