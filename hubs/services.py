"""Every write about hubs, stock and requests. Each runs in one transaction with its ledger entry.

Stock levels change by conditional UPDATE (`... WHERE quantity >= n`): on PostgreSQL the second
of two concurrent dispatches re-reads the row after the first commits and takes nothing, so the
level never goes below zero; the CHECK constraint is the database's own backstop.
"""

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from aidhub import audit, clock, invitations
from ledger import services as ledger
from notifications import services as notifications

from .freshness import needs_changed
from .models import (
    MAX_QUANTITY,
    Hub,
    Item,
    Membership,
    Place,
    StockLevel,
    StockMovement,
    SupplyRequest,
    SupplyRequestLine,
    Unit,
    format_quantity,
)

Line = tuple[Item, Decimal]
WHOLE_UNITS = {Unit.PIECE, Unit.BOX, Unit.PACK}


class StockError(ValidationError):
    """Taking more than a hub holds."""


class DuplicateRequest(ValidationError):
    """An open request from the same place already asks for some of the same items."""

    def __init__(self, existing: SupplyRequest, items: Sequence[Item]):
        self.existing = existing
        names = ", ".join(item.local_name for item in items)
        super().__init__(
            _(
                "%(place)s already has an open request (no. %(id)s) for %(items)s. "
                "Update that request instead of filing a new one."
            )
            % {"place": existing.place.name, "id": existing.pk, "items": names},
            code="duplicate_request",
        )


def check_lines(lines: Iterable[Line], *, signed: bool = False) -> list[Line]:
    """Quantities must be real amounts of a unit: positive (or non-zero when `signed`), at
    most three decimals, whole for pieces, boxes and packs, and not absurdly large."""
    checked: list[Line] = []
    seen: set[int] = set()
    for item, raw in lines:
        try:
            quantity = Decimal(raw)
        except (InvalidOperation, TypeError):
            raise ValidationError(
                _("“%(value)s” is not a quantity.") % {"value": raw}, code="quantity"
            ) from None
        name = item.local_name
        if not quantity.is_finite() or quantity == 0 or (quantity < 0 and not signed):
            raise ValidationError(
                _("The quantity of %(item)s must be more than zero.") % {"item": name},
                code="quantity",
            )
        if abs(quantity) > MAX_QUANTITY:
            raise ValidationError(
                _("%(quantity)s of %(item)s is more than one line can hold (%(max)s).")
                % {"quantity": raw, "item": name, "max": format_quantity(MAX_QUANTITY)},
                code="quantity",
            )
        if quantity != quantity.quantize(Decimal("0.001")):
            raise ValidationError(
                _("Give %(item)s with at most three decimals.") % {"item": name}, code="quantity"
            )
        if item.unit in WHOLE_UNITS and quantity != quantity.to_integral_value():
            raise ValidationError(
                _("%(item)s is counted in %(unit)s: give a whole number.")
                % {"item": name, "unit": item.get_unit_display()},
                code="quantity",
            )
        if item.pk in seen:
            raise ValidationError(
                _("%(item)s is listed twice; put it on one line.") % {"item": name},
                code="duplicate_item",
            )
        seen.add(item.pk)
        checked.append((item, quantity))
    if not checked:
        raise ValidationError(_("List at least one item."), code="no_lines")
    # Always touch stock rows in the same order, so concurrent writers never deadlock.
    return sorted(checked, key=lambda line: line[0].pk)


def _take(hub: Hub, item: Item, quantity: Decimal) -> None:
    taken = StockLevel.objects.filter(hub=hub, item=item, quantity__gte=quantity).update(
        quantity=F("quantity") - quantity
    )
    needs_changed()
    if not taken:
        left = (
            StockLevel.objects.filter(hub=hub, item=item).values_list("quantity", flat=True).first()
        ) or Decimal(0)
        raise StockError(
            _(
                "%(hub)s has only %(left)s %(unit)s of %(item)s left; "
                "%(wanted)s %(unit)s cannot be taken."
            )
            % {
                "hub": hub.name,
                "left": format_quantity(left),
                "unit": item.get_unit_display(),
                "item": item.local_name,
                "wanted": format_quantity(quantity),
            },
            code="insufficient_stock",
        )


def _put(hub: Hub, item: Item, quantity: Decimal) -> None:
    needs_changed()
    if StockLevel.objects.filter(hub=hub, item=item).update(quantity=F("quantity") + quantity):
        return
    try:
        with transaction.atomic():
            StockLevel.objects.create(hub=hub, item=item, quantity=quantity)
    except IntegrityError:  # created by a concurrent writer a moment ago
        StockLevel.objects.filter(hub=hub, item=item).update(quantity=F("quantity") + quantity)


def _move(
    *,
    hub: Hub,
    lines: Sequence[Line],
    kind: str,
    sign: int,
    by: AbstractBaseUser | None,
    reason: str = "",
    reference: str = "",
) -> list[StockMovement]:
    movements = []
    for item, quantity in lines:
        if sign < 0:
            _take(hub, item, quantity)
        else:
            _put(hub, item, quantity)
        movements.append(
            StockMovement(
                hub=hub,
                item=item,
                kind=kind,
                quantity=sign * quantity,
                reason=reason,
                reference=reference,
                created_by=by if by and by.is_authenticated else None,
            )
        )
    return StockMovement.objects.bulk_create(movements)


def _link(movements: list[StockMovement], index: int) -> None:
    StockMovement.objects.filter(pk__in=[m.pk for m in movements]).update(ledger_index=index)


def _check_active(hub: Hub) -> None:
    if not hub.is_active:
        raise ValidationError(
            _("%(hub)s is closed; reopen it before moving stock.") % {"hub": hub.name},
            code="hub_inactive",
        )


def _utc(moment: datetime | None) -> str:
    return ledger.utc_timestamp(moment or timezone.now())


@transaction.atomic
def hub_receive_goods(
    *,
    hub: Hub,
    lines: Iterable[Line],
    by: AbstractBaseUser | None,
    public_name: str = "",
    fundraiser: dict | None = None,
    purchase: bool = False,
    received_at: datetime | None = None,
) -> int:
    """Goods arrive at a hub (a gift in kind, or a purchase paid by a fundraiser).

    Returns the index of the ledger entry (kind `intake`)."""
    _check_active(hub)
    checked = check_lines(lines)
    kind = StockMovement.Kind.PURCHASE if purchase else StockMovement.Kind.INTAKE
    movements = _move(hub=hub, lines=checked, kind=kind, sign=+1, by=by)
    payload = {
        "hub": hub.ledger_ref(),
        "items": [item.ledger_line(q) for item, q in checked],
        "received_at": _utc(received_at),
    }
    if public_name.strip():
        payload["public_name"] = public_name.strip()
    if fundraiser:
        payload["fundraiser"] = fundraiser
    entry = ledger.append(kind="intake", payload=payload)
    _link(movements, entry.index)
    audit.record(actor=by, action="goods received", target=hub, ledger=entry.index)
    return entry.index


@transaction.atomic
def stock_dispatch(
    *,
    hub: Hub,
    place: Place,
    lines: Iterable[Line],
    by: AbstractBaseUser | None,
    reference: str,
    fundraisers: Sequence[dict] = (),
) -> int:
    """Goods leave a hub for a place (a delivery). Refused, with nothing written, when the hub
    holds less than asked of any line."""
    _check_active(hub)
    checked = check_lines(lines)
    movements = _move(
        hub=hub,
        lines=checked,
        kind=StockMovement.Kind.DISPATCH,
        sign=-1,
        by=by,
        reference=reference,
    )
    payload = {
        "hub": hub.ledger_ref(),
        "place": place.ledger_ref(),
        "delivery": reference,
        "items": [item.ledger_line(q) for item, q in checked],
    }
    if fundraisers:
        payload["fundraisers"] = list(fundraisers)
    entry = ledger.append(kind="dispatch", payload=payload)
    _link(movements, entry.index)
    audit.record(
        actor=by, action="goods dispatched", target=hub, ledger=entry.index, delivery=reference
    )
    return entry.index


@transaction.atomic
def stock_return(
    *, hub: Hub, lines: Iterable[Line], by: AbstractBaseUser | None, reference: str, reason: str
) -> int:
    """Goods that were dispatched come back to the hub (a failed or returned delivery)."""
    checked = check_lines(lines)
    movements = _move(
        hub=hub,
        lines=checked,
        kind=StockMovement.Kind.RETURN,
        sign=+1,
        by=by,
        reason=reason,
        reference=reference,
    )
    entry = ledger.append(
        kind="adjustment",
        payload={
            "hub": hub.ledger_ref(),
            "items": [item.ledger_line(q) for item, q in checked],
            "reason": reason or _("returned from delivery %(ref)s") % {"ref": reference},
        },
    )
    _link(movements, entry.index)
    return entry.index


@transaction.atomic
def stock_transfer(
    *, from_hub: Hub, to_hub: Hub, lines: Iterable[Line], by: AbstractBaseUser | None
) -> int:
    if from_hub.pk == to_hub.pk:
        raise ValidationError(_("Choose two different hubs."), code="same_hub")
    _check_active(from_hub)
    _check_active(to_hub)
    checked = check_lines(lines)
    out = _move(
        hub=from_hub,
        lines=checked,
        kind=StockMovement.Kind.TRANSFER_OUT,
        sign=-1,
        by=by,
        reference=to_hub.slug,
    )
    into = _move(
        hub=to_hub,
        lines=checked,
        kind=StockMovement.Kind.TRANSFER_IN,
        sign=+1,
        by=by,
        reference=from_hub.slug,
    )
    entry = ledger.append(
        kind="transfer",
        payload={
            "from_hub": from_hub.ledger_ref(),
            "to_hub": to_hub.ledger_ref(),
            "items": [item.ledger_line(q) for item, q in checked],
        },
    )
    _link(out + into, entry.index)
    audit.record(
        actor=by, action="stock transferred", target=from_hub, to=to_hub.slug, ledger=entry.index
    )
    return entry.index


@transaction.atomic
def stock_adjust(
    *, hub: Hub, item: Item, delta: Decimal, reason: str, by: AbstractBaseUser | None
) -> int:
    """Correct the count after a stock-take: positive found more, negative lost or spoiled."""
    if not reason.strip():
        raise ValidationError(_("Say why the stock changed."), code="reason")
    [(item, delta)] = check_lines([(item, delta)], signed=True)
    movements = _move(
        hub=hub,
        lines=[(item, abs(delta))],
        kind=StockMovement.Kind.ADJUSTMENT,
        sign=1 if delta > 0 else -1,
        by=by,
        reason=reason.strip(),
    )
    entry = ledger.append(
        kind="adjustment",
        payload={
            "hub": hub.ledger_ref(),
            "items": [item.ledger_line(delta)],
            "reason": reason.strip(),
        },
    )
    _link(movements, entry.index)
    audit.record(
        actor=by,
        action="stock adjusted",
        target=hub,
        item=item.slug,
        change=delta,
        reason=reason.strip(),
    )
    return entry.index


# ---- supply requests ------------------------------------------------------------------------


def _lock_place(place_id: int) -> None:
    """The duplicate check reads the open requests and then inserts: two requests for the
    same item from one place at once would both find none. The place's row, locked until
    commit, makes them take turns (PostgreSQL; on SQLite the IMMEDIATE transaction already
    holds the write lock). Everything that writes a place's requests (filing, updating,
    counting a delivery) takes this lock first, so the order is always place, then request:
    no deadlock."""
    Place.objects.select_for_update().filter(pk=place_id).values_list("pk").first()


def _overlapping_open_request(
    place: Place, items: set[int], exclude: int | None = None
) -> tuple[SupplyRequest, list[Item]] | None:
    candidates = (
        SupplyRequest.objects.filter(
            place=place,
            status__in=[SupplyRequest.Status.OPEN, SupplyRequest.Status.PARTLY],
            lines__item__in=items,
        )
        .exclude(pk=exclude)
        .distinct()
        .order_by("created_at")
    )
    existing = candidates.first()
    if existing is None:
        return None
    shared = [line.item for line in existing.lines.select_related("item") if line.item_id in items]
    return existing, shared


@transaction.atomic
def request_create(
    *,
    hub: Hub,
    place: Place,
    lines: Iterable[Line],
    by: AbstractBaseUser | None,
    urgency: int = SupplyRequest.Urgency.NORMAL,
    needed_by: date | None = None,
    note: str = "",
    requester_contact: str = "",
) -> SupplyRequest:
    """File what a place needs. Refused with DuplicateRequest when an open request from the
    same place already asks for any of the same items: that one should be updated instead."""
    checked = check_lines(lines)
    _lock_place(place.pk)
    duplicate = _overlapping_open_request(place, {item.pk for item, _q in checked})
    if duplicate:
        raise DuplicateRequest(*duplicate)
    _check_needed_by(needed_by)
    request = SupplyRequest.objects.create(
        hub=hub,
        place=place,
        urgency=urgency,
        needed_by=needed_by,
        note=note.strip(),
        requester_contact=requester_contact.strip(),
        created_by=by if by and by.is_authenticated else None,
    )
    SupplyRequestLine.objects.bulk_create(
        SupplyRequestLine(request=request, item=item, quantity=q) for item, q in checked
    )
    needs_changed()
    audit.record(actor=by, action="request filed", target=request)
    _announce_request(request, f"{request.pk}:new")
    return request


def _check_needed_by(needed_by: date | None) -> None:
    if needed_by and needed_by < clock.local_day() - timedelta(days=1):
        raise ValidationError(_("The “needed by” date is in the past."), code="needed_by")


@transaction.atomic
def request_update(
    *,
    request: SupplyRequest,
    lines: Iterable[Line],
    by: AbstractBaseUser | None,
    urgency: int | None = None,
    needed_by: date | None = None,
    note: str | None = None,
    requester_contact: str | None = None,
) -> SupplyRequest:
    """Change what an open request asks for. Delivered amounts are kept per item."""
    _lock_place(request.place_id)
    request = SupplyRequest.objects.select_for_update().get(pk=request.pk)
    if not request.is_open:
        raise ValidationError(
            _("Request %(id)s is %(status)s and cannot be changed.")
            % {"id": request.pk, "status": request.get_status_display().lower()},
            code="closed",
        )
    checked = check_lines(lines)
    duplicate = _overlapping_open_request(
        request.place, {item.pk for item, _q in checked}, exclude=request.pk
    )
    if duplicate:
        raise DuplicateRequest(*duplicate)
    _check_needed_by(needed_by)
    delivered = dict(request.lines.values_list("item_id", "delivered"))
    request.lines.all().delete()
    SupplyRequestLine.objects.bulk_create(
        SupplyRequestLine(
            request=request, item=item, quantity=q, delivered=delivered.get(item.pk, Decimal(0))
        )
        for item, q in checked
    )
    if urgency is not None:
        request.urgency = urgency
    request.needed_by = needed_by
    if note is not None:
        request.note = note.strip()
    if requester_contact is not None:
        request.requester_contact = requester_contact.strip()
    request.save()
    _refresh_status(request)
    needs_changed()
    audit.record(actor=by, action="request updated", target=request)
    _announce_request(request, f"{request.pk}:{request.updated_at.isoformat()}")
    return request


@transaction.atomic
def request_cancel(*, request: SupplyRequest, reason: str, by: AbstractBaseUser | None) -> bool:
    """Cancel an open request. Returns False (and changes nothing) if it was not open."""
    if not reason.strip():
        raise ValidationError(_("Say why the request is cancelled."), code="reason")
    _lock_place(request.place_id)  # a verification counting towards it waits, or goes first
    cancelled = bool(
        SupplyRequest.objects.filter(
            pk=request.pk, status__in=[SupplyRequest.Status.OPEN, SupplyRequest.Status.PARTLY]
        ).update(
            status=SupplyRequest.Status.CANCELLED,
            cancel_reason=reason.strip()[:200],
            updated_at=timezone.now(),
        )
    )
    if cancelled:
        needs_changed()
        audit.record(actor=by, action="request cancelled", target=request, reason=reason.strip())
    return cancelled


@transaction.atomic
def request_record_delivery(
    *, request: SupplyRequest, lines: Iterable[Line], delivered_at: datetime
) -> None:
    """Count what a delivery brought towards a request and derive the request's status."""
    place_record_delivery(place_id=request.place_id, delivered_at=delivered_at)  # place first
    for item, quantity in lines:
        SupplyRequestLine.objects.filter(request=request, item=item).update(
            delivered=F("delivered") + quantity
        )
    _refresh_status(request)
    needs_changed()


def place_record_delivery(*, place_id: int, delivered_at: datetime) -> None:
    """The place's last delivery only moves forward: a report verified late (delivered days
    ago) must not make a place that was served yesterday look like a gap. Conditional, so
    two verifications at once keep the later time whatever order they commit in. Locks the
    place even when nothing changes, so a verification takes it before any request."""
    _lock_place(place_id)
    Place.objects.filter(
        Q(last_delivery_at__isnull=True) | Q(last_delivery_at__lt=delivered_at), pk=place_id
    ).update(last_delivery_at=delivered_at)
    needs_changed()


def _refresh_status(request: SupplyRequest) -> None:
    lines = list(request.lines.all())
    if request.status == SupplyRequest.Status.CANCELLED:
        return
    if all(line.delivered >= line.quantity for line in lines):
        status = SupplyRequest.Status.FULFILLED
    elif any(line.delivered > 0 for line in lines):
        status = SupplyRequest.Status.PARTLY
    else:
        status = SupplyRequest.Status.OPEN
    # Conditional: a request cancelled since it was read stays cancelled.
    SupplyRequest.objects.filter(pk=request.pk).exclude(
        status=SupplyRequest.Status.CANCELLED
    ).update(status=status)
    request.status = status
    needs_changed()


# ---- notifications --------------------------------------------------------------------------

LANGUAGES = ("en", "ru", "ky", "kk", "uz", "tg")


def items_by_language(lines: Iterable[tuple[Item, Decimal]]) -> dict[str, str]:
    """ "Flour 300 kg, Water 400 l" in every UI language, for messages sent later."""
    from django.utils import translation

    texts = {}
    for language in LANGUAGES:
        with translation.override(language):
            texts[language] = ", ".join(
                f"{item.local_name} {format_quantity(q)} {item.get_unit_display()}"
                for item, q in lines
            )
    return texts


def _announce_request(request: SupplyRequest, event: str) -> None:
    lines = [(line.item, line.outstanding) for line in request.lines.select_related("item")]
    lines = [(item, q) for item, q in lines if q > 0]
    # Names in every language: each subscriber reads theirs, whoever made the request.
    context = {
        "place": notifications.in_languages(lambda: request.place.name),
        "region": request.place.region.name,
        "hub": notifications.in_languages(lambda: request.hub.name),
        "urgency": request.urgency,
        "items": items_by_language(lines),
        "path": request.get_absolute_url(),
    }
    if request.urgency in (SupplyRequest.Urgency.CRITICAL, SupplyRequest.Urgency.HIGH):
        notifications.notify(
            event=f"request:{request.pk}",
            kind="request",
            context=context,
            scopes=[("region", request.place.region.slug), ("urgency", str(request.urgency))],
        )
    notifications.notify(
        event=f"hub_needs:{request.hub_id}:{event}",
        kind="hub_needs",
        context=context,
        scopes=[("hub", request.hub.slug)],
    )


# ---- membership -----------------------------------------------------------------------------

# A volunteer joins a hub only by accepting an invitation e-mailed to their own address
# (aidhub.invitations: the same answer whether or not the account exists, one-time links,
# limits shared with every other kind of invitation).
INVITATION_DAYS = invitations.INVITATION_DAYS
INVITATIONS_PER_COORDINATOR_HOUR = invitations.PER_INVITER_HOUR
INVITATIONS_PER_ACCOUNT_DAY = invitations.PER_ACCOUNT_DAY
_INVITATION_SALT = "hubs.membership_invitation"
_INVITED = "membership_invited"
_ACCEPTED = "membership_accepted"


def membership_invitation_token(*, user: AbstractBaseUser, hub: Hub) -> str:
    """The signed part of an invitation link: names the account, the hub and when it was made
    (a link works once: not after an accept of the same account and hub made later)."""
    return invitations.token_make(salt=_INVITATION_SALT, user=user, hub=hub.pk)


def membership_invitation_read(*, token: str, user: AbstractBaseUser) -> Hub:
    """The hub an invitation for `user` names; ValidationError when the link is forged, has
    expired, was already used, names another account or a closed hub."""
    read = invitations.token_read(salt=_INVITATION_SALT, token=token, user=user)
    hub = None
    if read is not None:
        data, issued = read
        hub = Hub.objects.filter(pk=data.get("hub"), is_active=True).first()
        if hub is not None and invitations.spent(
            action=_ACCEPTED, user=user, issued=issued, hub=hub.pk
        ):
            hub = None
    if hub is None:
        raise ValidationError(
            _(
                "This invitation has expired, has already been used or is not for the account "
                "you are signed in with. Ask the hub's coordinator for a new one."
            ),
            code="invitation_invalid",
        )
    return hub


@transaction.atomic
def membership_invite(*, hub: Hub, person: str, by: AbstractBaseUser) -> None:
    """Invite the one active account whose username or e-mail is exactly `person` to volunteer
    at `hub`: an e-mail (after commit) with a link they accept while signed in. Nothing is
    returned or raised about whether such an account exists, has an address, is already a
    member or was sent too many invitations, so the caller says the same thing in every case."""
    invitee = invitations.invitee(person)
    if invitee is None:
        return
    volunteer = Membership.Role.VOLUNTEER
    if Membership.objects.filter(user=invitee, hub=hub, role=volunteer).exists():
        return
    if invitations.exhausted(by=by, account=invitee):
        return
    # Superusers only read the trail (aidhub.admin): it may say whom an invitation reached.
    audit.record(actor=by, action=_INVITED, target=invitee, hub=hub.slug, user=invitee.pk)
    from .tasks import membership_invitation_send

    membership_invitation_send.delay_on_commit(invitee.pk, hub.pk, translation.get_language() or "")


@transaction.atomic
def membership_accept(*, token: str, user: AbstractBaseUser) -> Membership:
    """The invited account, signed in, becomes a volunteer of the hub the link names. The link
    is spent: accepting it again is refused, and a volunteer removed later needs a new one."""
    hub = membership_invitation_read(token=token, user=user)
    membership, _created = Membership.objects.get_or_create(
        user=user, hub=hub, role=Membership.Role.VOLUNTEER
    )
    # Recorded even when already a member: it spends the link (membership_invitation_read).
    audit.record(actor=user, action=_ACCEPTED, target=membership, hub=hub.pk, user=user.pk)
    return membership
