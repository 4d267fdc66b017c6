"""Notifications that are never lost and never sent twice by us.

`notify` writes outbox rows in the caller's transaction and enqueues their sending after
commit; if the broker is down then, the rows simply wait for `sweep`. `send` claims a row with a
conditional UPDATE, sends it, and records the outcome: sent, retry later (exponential backoff
with jitter), or failed for good with the reason. A worker killed mid-send leaves the row
`sending`; the sweep frees it after NOTIFICATION_SENDING_TIMEOUT seconds. Webhook receivers get a
stable X-AidHub-Delivery id, so the rare resend after a lost answer can be recognised.
"""

import hashlib
import logging
import random
import secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import get_supported_language_variant
from django.utils.translation import gettext as _

from . import channels, messages
from .messages import in_languages  # what event writers word names with
from .models import Channel, Notification, Scope, Subscription, UserLanguage

logger = logging.getLogger(__name__)
S = Notification.Status


# ---- subscriptions --------------------------------------------------------------------------


def _check_address(channel: str, address: str) -> str:
    address = address.strip()
    if channel == Channel.EMAIL:
        validate_email(address)
    elif channel == Channel.WEBHOOK:
        URLValidator(schemes=["https", "http"])(address)
        try:
            channels.check_webhook_url(address)
        except channels.Permanent as exc:
            raise ValidationError(
                _("AidHub does not call private, loopback or link-local addresses."),
                code="webhook_private",
            ) from exc
        except channels.Transient as exc:
            raise ValidationError(
                _("The webhook's host name cannot be found."), code="webhook_unknown_host"
            ) from exc
    elif channel == Channel.TELEGRAM and address and not address.lstrip("-").isdigit():
        raise ValidationError(_("A Telegram chat id is a number."), code="telegram")
    return address


WEBHOOKS_PER_URL = 3  # a receiver and a spare or two (a new secret, a second mirror)


@transaction.atomic
def subscription_create(
    *,
    channel: str,
    scope: str,
    ref: str,
    language: str,
    address: str = "",
    user: AbstractBaseUser | None = None,
) -> Subscription:
    """A new subscription, not yet active. E-mail is confirmed by a link (double opt-in);
    Telegram by sending `/start <token>` to our bot; a webhook is active at once, and a
    user's own e-mail address is already known to be theirs.

    A webhook always gets a new subscription with a secret of its own, shown once to whoever
    created it: subscribing a URL someone else already follows must not reveal their secret
    (it would let anyone forge that receiver's messages from AidHub)."""
    if channel not in Channel.values or scope not in Scope.values:
        raise ValidationError(_("Unknown channel or subject."), code="invalid")
    if scope == Scope.URGENCY and ref not in ("1", "2"):
        raise ValidationError(_("Choose critical (1) or high and critical (2)."), code="ref")
    address = _check_address(channel, address)
    existing = (
        Subscription.objects.filter(channel=channel, address=address, scope=scope, ref=ref)
        .exclude(address="")
        .exclude(channel=Channel.WEBHOOK)
        .first()
    )
    if existing:
        # The same answer as for a new one, so the form tells nobody whether an address already
        # follows something; a pending one gets its confirmation again, at most every few
        # minutes, in case the first mail was lost.
        _confirmation_request(existing)
        return existing
    if (
        channel == Channel.WEBHOOK
        and Subscription.objects.filter(channel=channel, address=address).count()
        >= WEBHOOKS_PER_URL
    ):
        # Each subscription of a URL gets its own secret, so without a bound anyone could
        # make one URL receive every event many times over.
        raise ValidationError(
            _("This address already receives AidHub's messages. Use the secret you were given."),
            code="webhook_taken",
        )
    own_email = user is not None and channel == Channel.EMAIL and address == user.email
    try:
        with transaction.atomic():
            subscription = Subscription.objects.create(
                channel=channel,
                address=address,
                scope=scope,
                ref=ref,
                language=language[:8],
                user=user if user and user.is_authenticated else None,
                confirmed_at=timezone.now() if channel == Channel.WEBHOOK or own_email else None,
            )
    except IntegrityError:
        # A copy of this request sent at the same moment created it (UNIQUE subscription):
        # the same answer, one row, one confirmation.
        return Subscription.objects.get(channel=channel, address=address, scope=scope, ref=ref)
    _confirmation_request(subscription)
    return subscription


CONFIRMATION_RESEND_MINUTES = 10
# Confirmation mails one address gets in a day, whatever it is asked to follow: the form is
# public, so without a bound anyone could have a stranger's inbox mailed again and again.
CONFIRMATIONS_PER_ADDRESS_PER_DAY = 3


def _confirmation_allowed(address: str) -> bool:
    """Count one more confirmation mail to `address` today; False once the day's are used up.
    Counted in the cache (Redis in production, shared by processes); a cache that is down
    lets the mail go, as the resend window still bounds it."""
    digest = hashlib.sha256(address.strip().lower().encode()).hexdigest()
    key = f"notifications:confirmations:{digest}"
    backend = caches["default"]
    try:
        backend.add(key, 0, timeout=24 * 3600)
        return backend.incr(key) <= CONFIRMATIONS_PER_ADDRESS_PER_DAY
    except Exception as exc:
        logger.warning("confirmations to one address not counted (%s)", exc)
        return True


def _confirmation_request(subscription: Subscription) -> None:
    """Mail the double opt-in link of a pending e-mail subscription, unless it went out less
    than CONFIRMATION_RESEND_MINUTES ago, or the address already had
    CONFIRMATIONS_PER_ADDRESS_PER_DAY today: asking again must not flood the address. The
    answer is the same either way."""
    if subscription.channel != Channel.EMAIL or subscription.confirmed_at:
        return
    now = timezone.now()
    event = f"confirm:{subscription.pk}"
    sent = Notification.objects.filter(
        Q(event=event) | Q(event__startswith=f"{event}:"),
        channel=Channel.EMAIL,
        address=subscription.address,
        created_at__gt=now - timedelta(minutes=CONFIRMATION_RESEND_MINUTES),
    )
    if sent.exists() or not _confirmation_allowed(subscription.address):
        return
    if Notification.objects.filter(event=event, channel=Channel.EMAIL).exists():
        # A resend's event names its window, so two asked at the same moment make one.
        window = int(now.timestamp()) // (CONFIRMATION_RESEND_MINUTES * 60)
        event = f"{event}:{window}"
    scope, ref = subscription.scope, subscription.ref
    # A name in every language (the subscriber's is picked when sent), not an urgency label:
    # that one is translated when sent (messages.py).
    name = in_languages(lambda: subject_names([subscription]).get((scope, ref), ""))
    _queue(
        event=event,
        kind="confirm",
        channel=Channel.EMAIL,
        address=subscription.address,
        language=subscription.language,
        context={
            # Raw facts; the sentence is worded when sent, in the subscriber's language.
            "scope": scope,
            "ref": ref,
            "label": name if scope in SCOPE_LABEL_FIELDS else "",
            "path": reverse("notifications:confirm", args=[subscription.token]),
        },
    )


# The name a subscriber knows each subject by: (model, field) looked up by the public id (slug).
SCOPE_LABEL_FIELDS = {
    Scope.FUNDRAISER: ("donations.Fundraiser", "title"),
    Scope.HUB: ("hubs.Hub", "name"),
    Scope.REGION: ("hubs.Region", "name"),
}


def subject_exists(scope: str, ref: str) -> bool:
    """Whether a subject of `scope` has the public id `ref` (every fundraiser is public)."""
    model_name, _field = SCOPE_LABEL_FIELDS[scope]
    return apps.get_model(model_name).objects.filter(slug=ref).exists()


def subject_names(subscriptions: Iterable[Subscription]) -> dict[tuple[str, str], str]:
    """{(scope, ref): what subscribers call it}: a fundraiser's title, a hub's or a region's
    name (the ref itself if nothing has that public id), an urgency's label in the active
    language. Scopes without a subject of their own (the ledger) are left out. One query per
    kind of subject, however many subscriptions."""
    from hubs.models import SupplyRequest

    wanted: dict[str, set[str]] = {}
    for subscription in subscriptions:
        wanted.setdefault(subscription.scope, set()).add(subscription.ref)
    names: dict[tuple[str, str], str] = {}
    for scope, refs in wanted.items():
        if scope in SCOPE_LABEL_FIELDS:
            model_name, field = SCOPE_LABEL_FIELDS[scope]
            found = apps.get_model(model_name).objects.filter(slug__in=refs)
            known = dict(found.values_list("slug", field))
            names.update({(scope, ref): known.get(ref, ref) for ref in refs if ref})
        elif scope == Scope.URGENCY:
            urgencies = {str(value): str(label) for value, label in SupplyRequest.Urgency.choices}
            names.update({(scope, ref): urgencies.get(ref, ref) for ref in refs})
    return names


def subscription_confirm(*, token: str) -> Subscription | None:
    subscription = Subscription.objects.filter(token=token).first()
    if subscription and not subscription.confirmed_at:
        Subscription.objects.filter(pk=subscription.pk, confirmed_at__isnull=True).update(
            confirmed_at=timezone.now()
        )
        subscription.refresh_from_db()
    return subscription


def telegram_start(*, token: str, chat_id: str) -> Subscription | None:
    """`/start <token>` sent to our bot: the chat becomes the subscription's address. A chat
    that already follows the same subject keeps its one subscription: the newer request (the
    public form sent twice, which cannot know the chat) is merged into it."""
    subscription = Subscription.objects.filter(token=token, channel=Channel.TELEGRAM).first()
    if subscription is None:
        return None
    chat = _check_address(Channel.TELEGRAM, chat_id)
    now = timezone.now()
    try:
        with transaction.atomic():
            Subscription.objects.filter(pk=subscription.pk).update(address=chat, confirmed_at=now)
    except IntegrityError:
        with transaction.atomic():
            following = Subscription.objects.get(
                channel=Channel.TELEGRAM,
                address=chat,
                scope=subscription.scope,
                ref=subscription.ref,
            )
            Subscription.objects.filter(pk=following.pk, confirmed_at__isnull=True).update(
                confirmed_at=now
            )
            if subscription.user_id and not following.user_id:
                Subscription.objects.filter(pk=following.pk).update(user=subscription.user_id)
            subscription.delete()
        following.refresh_from_db()
        return following
    subscription.refresh_from_db()
    return subscription


def subscriptions_pending_purge() -> int:
    """Delete subscriptions never confirmed within SUBSCRIPTION_PENDING_DAYS (beat, hourly):
    an address typed by someone else, a Telegram code never sent to the bot. Returns how many
    went (their unsent notifications go with them)."""
    cutoff = timezone.now() - timedelta(days=settings.SUBSCRIPTION_PENDING_DAYS)
    pending = Subscription.objects.filter(confirmed_at__isnull=True, created_at__lt=cutoff)
    return pending.delete()[1].get(Subscription._meta.label, 0)


def subscription_cancel(*, token: str) -> bool:
    """One-click unsubscribe: the row and its unsent notifications go."""
    return bool(Subscription.objects.filter(token=token).delete()[0])


def user_language_remember(*, user: AbstractBaseUser, language: str) -> None:
    """Record the language `user` reads AidHub in, so that what is sent to them without a
    subscription (the coordinators' digest) is worded in it. A language the site does not
    offer is ignored."""
    if not user.is_authenticated:
        return
    try:
        language = get_supported_language_variant(language)
    except LookupError:
        return
    UserLanguage.objects.update_or_create(user=user, defaults={"language": language})


# ---- events ---------------------------------------------------------------------------------


def _matching(scopes: Iterable[tuple[str, str]]) -> list[Subscription]:
    condition = Q()
    for scope, ref in scopes:
        if scope == Scope.URGENCY:
            # "At least high" (2) also wants critical (1) requests.
            condition |= Q(scope=scope, ref__gte=str(ref))
        else:
            condition |= Q(scope=scope, ref=ref)
    if not condition:
        return []
    active = Subscription.objects.filter(condition, confirmed_at__isnull=False).exclude(address="")
    return list(active)


def notify(*, event: str, kind: str, scopes: Iterable[tuple[str, str]], context: dict) -> int:
    """Tell every confirmed subscriber of any of `scopes` about `event`, once per address.
    Call inside the transaction that makes the event happen."""
    created = 0
    for subscription in _matching(scopes):
        created += _queue(
            event=event,
            kind=kind,
            channel=subscription.channel,
            address=subscription.address,
            language=subscription.language,
            context=context,
            subscription=subscription,
        )
    return created


def notify_address(
    *, event: str, kind: str, channel: str, address: str, language: str, context: dict
) -> int:
    """A notification to one address without a subscription (a coordinator's daily digest)."""
    return _queue(
        event=event, kind=kind, channel=channel, address=address, language=language, context=context
    )


def _queue(*, event, kind, channel, address, language, context, subscription=None) -> int:
    # Once per address, except webhooks: once per subscription, each signed with its secret.
    if channel == Channel.WEBHOOK:
        unique = {"subscription": subscription}
        defaults = {"address": address}
    else:
        unique = {"address": address}
        defaults = {"subscription": subscription}
    row, created = Notification.objects.get_or_create(
        event=event[:120],
        channel=channel,
        **unique,
        defaults={"kind": kind, "language": language, "context": context, **defaults},
    )
    if created:
        # robust: whatever goes wrong while handing the row over, the write that produced it
        # has committed and stands; the row waits for the sweep.
        transaction.on_commit(lambda: enqueue([row.pk]), robust=True)
    return int(created)


def enqueue(ids: list[int]) -> None:
    """Hand rows to Celery: webhooks to their own queue, so slow receivers never hold up
    e-mail and Telegram. A broker that is down must not fail the request that recorded the
    event: the rows stay pending and the sweep sends them later."""
    from .tasks import notification_send, webhook_send

    if not ids:
        return
    eager = notification_send.app.conf.task_always_eager
    channel_of = dict(Notification.objects.filter(pk__in=ids).values_list("pk", "channel"))
    for pk in ids:
        task = webhook_send if channel_of.get(pk) == Channel.WEBHOOK else notification_send
        try:
            task.delay(pk)
        except Exception as exc:  # the broker's errors vary by transport; all mean "later"
            logger.warning("notification %s not enqueued (%s); the sweep will resend it", pk, exc)
            if not eager:
                return  # the broker is down: the next rows would only wait for it too


# ---- sending --------------------------------------------------------------------------------


def _claim(pk: int) -> Notification | None:
    now = timezone.now()
    due = Q(status=S.PENDING) & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    if not Notification.objects.filter(Q(pk=pk) & due).update(
        status=S.SENDING, claimed_at=now, attempts=F("attempts") + 1
    ):
        return None
    return Notification.objects.select_related("subscription").get(pk=pk)


def backoff(attempts: int) -> float:
    """Seconds before the next try: exponential with full jitter, capped."""
    ceiling = min(settings.NOTIFICATION_RETRY_MAX, settings.NOTIFICATION_RETRY_BASE * 2**attempts)
    return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not security


@dataclass(frozen=True)
class WebhookSlot:
    """One of a host's sending slots, and the token that proves this send still holds it."""

    key: str
    token: str


# Longer than the webhook task's hard time limit (tasks.py): a slot outlives no sender.
WEBHOOK_SLOT_SECONDS = 90

# Delete the slot only if it still holds our token: once it expired and another send took it,
# it is theirs. Redis runs a script atomically; Django's cache API has no compare-and-delete.
_SLOT_RELEASE = """
if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) end
return 0
"""
# Without Redis the cache is LocMemCache (settings.py): one process's memory, so taking and
# releasing under one process-wide lock makes the check and the delete one step.
_local_slots = threading.Lock()


def _slot_take(key: str, token: str) -> bool:
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        # Through redis-py itself (Django's RedisCache keeps its client at `_cache`): the token
        # is stored as it is, not pickled, so the release script can compare it.
        client = backend._cache.get_client(write=True)
        redis_key = backend.make_and_validate_key(key)
        return bool(client.set(redis_key, token, nx=True, px=int(WEBHOOK_SLOT_SECONDS * 1000)))
    with _local_slots:
        return backend.add(key, token, timeout=WEBHOOK_SLOT_SECONDS)


def _webhook_slot(url: str) -> WebhookSlot | None:
    """Claim one of WEBHOOK_PER_HOST sending slots for the URL's host, or None when all are
    taken: a slow receiver ties up at most that many workers. A slot expires by itself after
    the task's time limit, so a killed worker does not keep it. Every spelling of one host
    (case, trailing dot, port, IDNA) counts against the same slots."""
    host = channels.webhook_host(url)
    token = secrets.token_hex(16)
    try:
        for n in range(settings.WEBHOOK_PER_HOST):
            key = f"notifications:webhook-slot:{host}:{n}"
            if _slot_take(key, token):
                return WebhookSlot(key, token)
    except Exception as exc:  # the cache is down: as if the host were busy, try again soon
        logger.warning("webhook slot for %s not claimed (%s)", host, exc)
    return None


def _webhook_slot_release(slot: WebhookSlot) -> None:
    """Free the slot if this send still holds it; never someone else's that took it after ours
    expired. A cache that is down keeps it until it expires."""
    backend = caches["default"]
    try:
        if isinstance(backend, RedisCache):
            client = backend._cache.get_client(write=True)
            client.eval(_SLOT_RELEASE, 1, backend.make_and_validate_key(slot.key), slot.token)
            return
        with _local_slots:
            if backend.get(slot.key) == slot.token:
                backend.delete(slot.key)
    except Exception as exc:
        logger.warning("webhook slot %s not freed (%s); it expires by itself", slot.key, exc)


def send(pk: int) -> str:
    """Send one notification if it is due and nobody else holds it. Returns its status.
    Nothing raised while sending leaves this function: every failure is recorded on the row
    (to retry later or failed), never passed to the request or task that asked."""
    notification = _claim(pk)
    if notification is None:
        row = Notification.objects.filter(pk=pk).values_list("status", flat=True).first()
        return row or "gone"
    slot = None
    if notification.channel == Channel.WEBHOOK:
        slot = _webhook_slot(notification.address)
        if slot is None:
            # The host already has its share of senders: put the row back, uncounted, a little
            # later; other hosts' webhooks go on meanwhile.
            Notification.objects.filter(pk=pk, status=S.SENDING).update(
                status=S.PENDING,
                claimed_at=None,
                attempts=F("attempts") - 1,
                next_attempt_at=timezone.now() + timedelta(seconds=settings.WEBHOOK_BUSY_DELAY),
            )
            return S.PENDING
    try:
        return _attempt(notification)
    finally:
        if slot:
            _webhook_slot_release(slot)


def _attempt(notification: Notification) -> str:
    pk = notification.pk
    try:
        _deliver(notification)
    except channels.Permanent as exc:
        return _finish(notification, S.FAILED, str(exc))
    except (channels.Transient, Exception) as exc:  # anything unexpected is retried, then fails
        if notification.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
            return _finish(
                notification, S.FAILED, f"gave up after {notification.attempts} attempts: {exc}"
            )
        Notification.objects.filter(pk=pk, status=S.SENDING).update(
            status=S.PENDING,
            claimed_at=None,
            last_error=str(exc)[:500],
            next_attempt_at=timezone.now() + timedelta(seconds=backoff(notification.attempts)),
        )
        return S.PENDING
    return _finish(notification, S.SENT, "")


def _finish(notification: Notification, status: str, error: str) -> str:
    Notification.objects.filter(pk=notification.pk, status=S.SENDING).update(
        status=status,
        last_error=error[:500],
        claimed_at=None,
        sent_at=timezone.now() if status == S.SENT else None,
    )
    return status


def _deliver(notification: Notification) -> None:
    subject, text = messages.render(notification.kind, notification.context, notification.language)
    subscription = notification.subscription
    token = subscription.token if subscription else ""
    unsubscribe = (
        f"{settings.SITE_URL}{reverse('notifications:unsubscribe', args=[token])}"
        if (token)
        else settings.SITE_URL
    )
    with translation.override(notification.language):  # the reader's, not the worker's
        footers = {
            Channel.EMAIL: _("Unsubscribe: %(url)s") % {"url": unsubscribe},
            Channel.TELEGRAM: _("Stop these messages: %(url)s") % {"url": unsubscribe},
        }
    if notification.channel == Channel.EMAIL:
        footer = footers[Channel.EMAIL] if token else ""
        channels.send_email(
            notification.address, subject, f"{text}\n\n{footer}".strip(), unsubscribe
        )
    elif notification.channel == Channel.TELEGRAM:
        footer = footers[Channel.TELEGRAM] if token else ""
        channels.send_telegram(
            notification.address,
            f"{subject}\n{text}\n{footer}".strip(),
            notification.context.get("photo_url", ""),
        )
    else:
        secret = subscription.secret if subscription else ""
        payload = {
            "event": notification.kind,
            "subject": subject,
            "text": text,
            # Machines read the data: names in their canonical (English) form, one per field.
            "data": messages.canonical(notification.context),
            "unsubscribe": unsubscribe,
        }
        channels.send_webhook(
            notification.address,
            secret,
            notification.kind,
            f"{notification.pk}-{notification.event}",
            payload,
        )


def sweep() -> int:
    """Re-enqueue what is due and was never sent: pending rows whose task was lost, and rows a
    dead worker left `sending`. Beat runs it every minute."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.NOTIFICATION_SENDING_TIMEOUT)
    Notification.objects.filter(status=S.SENDING, claimed_at__lt=stale).update(
        status=S.PENDING, claimed_at=None, last_error="worker lost while sending"
    )
    due = Notification.objects.filter(
        Q(status=S.PENDING) & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    ).values_list("pk", flat=True)[:1000]
    ids = list(due)
    enqueue(ids)
    return len(ids)
