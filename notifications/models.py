"""Subscriptions and the notification outbox.

A notification is a row written in the same transaction as the event it tells about; a Celery
task sends it after commit, and a periodic sweep re-sends rows that were never sent (Redis was
down, a worker died). A row is claimed by a conditional UPDATE before sending, so two workers
never send it at once.
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


def _token() -> str:
    return secrets.token_urlsafe(24)


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    TELEGRAM = "telegram", _("Telegram")
    WEBHOOK = "webhook", _("Webhook")


class Scope(models.TextChoices):
    FUNDRAISER = "fundraiser", _("A fundraiser")
    HUB = "hub", _("A hub")
    REGION = "region", _("A region")
    URGENCY = "urgency", _("Requests of a given urgency or higher")
    LEDGER = "ledger", _("Signed ledger checkpoints")


class Subscription(models.Model):
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    # E-mail address, Telegram chat id, or webhook URL. Private: never shown in public.
    address = models.CharField(_("address"), max_length=300, blank=True)
    scope = models.CharField(_("about"), max_length=12, choices=Scope.choices)
    ref = models.CharField(
        _("which"),
        max_length=64,
        blank=True,
        help_text=_("Public id of the fundraiser, hub or region; 1 (critical) or 2 (high)."),
    )
    language = models.CharField(_("language"), max_length=8, default="en")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="subscriptions",
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    token = models.CharField(max_length=40, unique=True, default=_token)
    # Shown once, on the page that created the webhook subscription; never on a page again.
    secret = models.CharField(max_length=64, default=_token, help_text="HMAC key for webhooks")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        constraints = [
            # A webhook URL may be followed several times, each with its own secret: the one
            # who subscribes it again gets a new subscription, not the first one's secret.
            models.UniqueConstraint(
                fields=["channel", "address", "scope", "ref"],
                condition=~Q(address="") & ~Q(channel="webhook"),
                name="subscription_unique",
            ),
        ]
        indexes = [models.Index(fields=["scope", "ref"])]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} · {self.get_scope_display()} {self.ref}"

    @property
    def is_active(self) -> bool:
        return self.confirmed_at is not None and bool(self.address)


class Notification(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENDING = "sending", _("Being sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", pgettext_lazy("notification status", "Failed")

    event = models.CharField(max_length=120, help_text="What happened, e.g. donation:42")
    kind = models.CharField(max_length=40)
    subscription = models.ForeignKey(
        Subscription, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    # Copied from the subscription (or given directly, for a user's digest), so the outbox row
    # says by itself where it goes.
    channel = models.CharField(max_length=10, choices=Channel.choices)
    address = models.CharField(max_length=300)
    language = models.CharField(max_length=8, default="en")
    context = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.UniqueConstraint(
                fields=["event", "channel", "address"],
                condition=~Q(channel="webhook"),
                name="notification_once_per_event_and_address",
            ),
            # Webhooks once per subscription: each is signed with its subscription's secret.
            models.UniqueConstraint(
                fields=["event", "subscription"],
                condition=Q(channel="webhook"),
                name="notification_once_per_event_and_webhook",
            ),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.event} → {self.get_channel_display()} ({self.get_status_display()})"


class UserLanguage(models.Model):
    """The language a user reads AidHub in, for messages sent to them without a subscription
    of their own (a coordinator's daily digest). Recorded when they sign in, choose a language
    or subscribe, from the language their pages were in."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reading_language"
    )
    language = models.CharField(_("language"), max_length=8)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("user's language")
        verbose_name_plural = _("users' languages")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.language}"
