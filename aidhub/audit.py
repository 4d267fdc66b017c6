"""The team's own record of who changed what (never public). Services call `record`."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import models

from .models import AuditEvent


def record(
    *, actor: AbstractBaseUser | None, action: str, target: models.Model | str, **detail: object
) -> None:
    """Note an action in the caller's transaction: it is kept only if the action is."""
    if actor is None or not actor.is_authenticated:
        return
    label = target if isinstance(target, str) else f"{target._meta.label} {target.pk}: {target}"
    AuditEvent.objects.create(
        actor=actor,
        action=action,
        target=label[:120],
        detail={k: str(v) for k, v in detail.items()},
    )
