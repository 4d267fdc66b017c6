from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class AuditEvent(models.Model):
    """Who did what, when: coordinators' and organisers' actions, for accountability inside
    the team. Never public, and separate from the public ledger (it names people)."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(_("action"), max_length=60)
    target = models.CharField(pgettext_lazy("audit event", "what"), max_length=120)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    created_at = models.DateTimeField(
        pgettext_lazy("audit event", "when"), auto_now_add=True, db_index=True
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit trail")

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.target}"


class IdempotentSubmission(models.Model):
    """A one-time token of a write (a form's hidden field, a phone's Idempotency-Key) and the
    result its first request got. Tokens are per account: UNIQUE (user, key) decides between two
    copies sent at once; the body's hash tells a repeat (same answer, nothing written) from a
    reuse (refused). Another account may use the same key for its own writes. Visitors without
    an account share the rows with no user, UNIQUE (key) among them; only signed or
    browser-made keys get there (aidhub/idempotency.py)."""

    key = models.CharField(max_length=64)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    # SHA-256 of the path and the body; empty only for rows recorded before bodies were hashed.
    body_sha256 = models.CharField(max_length=64, blank=True)
    result = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            # Not the key alone: a client picks its key, and a global one could be taken first
            # by another account, which would learn it was used and block its owner.
            models.UniqueConstraint(fields=["user", "key"], name="idempotent_submission_user_key"),
            # NULLs are distinct in the one above: visitors without an account need their own.
            models.UniqueConstraint(
                fields=["key"],
                condition=models.Q(user__isnull=True),
                name="idempotent_submission_anonymous_key",
            ),
        ]

    def __str__(self) -> str:
        return self.key
