"""Invitations by e-mail, for any kind of membership (a hub's volunteers, a group's members).

Someone invites an account by the exact username or e-mail its owner gave them. They learn
nothing about whether such an account exists: the caller answers the same in every case. The
account's own address gets a signed link that names it, works once and expires; nobody becomes
a member until they open it signed in and accept. How many invitations one person may send per
hour, and one account may receive per day, is bounded across every kind.
"""

from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core import signing
from django.db.models import Q
from django.utils import timezone

from .models import AuditEvent

INVITATION_DAYS = 7
PER_INVITER_HOUR = 10
PER_ACCOUNT_DAY = 3
# The audit actions that record an invitation sent, of every kind: the limits count them all.
INVITED_ACTIONS = ("membership_invited", "member_invited")


def invitee(person: str) -> AbstractBaseUser | None:
    """The one active account with an address whose username or e-mail is exactly `person`."""
    typed = person.strip()
    if not typed:
        return None
    accounts = get_user_model().objects.filter(is_active=True)
    found = list(accounts.filter(Q(username__iexact=typed) | Q(email__iexact=typed))[:2])
    return found[0] if len(found) == 1 and found[0].email else None


def exhausted(*, by: AbstractBaseUser, account: AbstractBaseUser) -> bool:
    """Whether `by` sent too many invitations this hour, or `account` got too many today."""
    now = timezone.now()
    invited = AuditEvent.objects.filter(action__in=INVITED_ACTIONS)
    by_inviter = invited.filter(actor=by, created_at__gte=now - timedelta(hours=1))
    to_account = invited.filter(
        detail__user=str(account.pk), created_at__gte=now - timedelta(days=1)
    )
    return by_inviter.count() >= PER_INVITER_HOUR or to_account.count() >= PER_ACCOUNT_DAY


def token_make(*, salt: str, user: AbstractBaseUser, **fields: object) -> str:
    """The signed part of a link: names the account, `fields` and when it was made."""
    issued = timezone.now().isoformat()
    return signing.dumps({**fields, "user": user.pk, "at": issued}, salt=salt)


def token_read(*, salt: str, token: str, user: AbstractBaseUser) -> tuple[dict, datetime] | None:
    """(the fields, when it was made) of a link made for `user` within INVITATION_DAYS; None
    when it is forged, has expired, names another account or carries no time."""
    try:
        data = signing.loads(token, salt=salt, max_age=timedelta(days=INVITATION_DAYS))
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("user") != user.pk:
        return None
    try:
        issued = datetime.fromisoformat(str(data.get("at")))
    except ValueError:
        return None  # a link made before links carried their time: refused
    return (data, issued) if timezone.is_aware(issued) else None


def spent(*, action: str, user: AbstractBaseUser, issued: datetime, **detail: object) -> bool:
    """True when the account accepted (audit `action`, with `detail`) at or after `issued`:
    that link (or an older one) was used, so a member removed since cannot rejoin with it."""
    lookups = {f"detail__{key}": str(value) for key, value in detail.items()}
    return AuditEvent.objects.filter(
        action=action, detail__user=str(user.pk), created_at__gte=issued, **lookups
    ).exists()
