import logging

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from notifications.channels import header_safe

from .models import Group, Role

logger = logging.getLogger(__name__)


@shared_task(bind=True, time_limit=30, soft_time_limit=25)
def member_invitation_send(
    self, user_id: int, group_id: int, role: str, by_id: int, language: str = ""
) -> bool:
    """E-mail an account's own address a link that gives it `role` in the group once the
    person, signed in, accepts. The link is made here, so it never passes through the broker."""
    from aidhub.invitations import INVITATION_DAYS

    from .services import member_invitation_token

    accounts = get_user_model().objects.filter(is_active=True)
    user = accounts.filter(pk=user_id).first()
    by = accounts.filter(pk=by_id).first()
    group = Group.objects.filter(pk=group_id, is_active=True).first()
    if user is None or by is None or group is None or not user.email or role not in Role.values:
        return False
    token = member_invitation_token(user=user, group=group, role=role, by=by)
    link = settings.SITE_URL + reverse("groups:invitation", args=[token])
    with translation.override(language or settings.LANGUAGE_CODE):
        values = {
            "group": group.name,
            "role": Role(role).label,
            "username": user.get_username(),
            "days": INVITATION_DAYS,
            "link": link,
        }
        subject = header_safe(_("Join %(group)s on AidHub?") % values)
        body = (
            _(
                "An organiser of %(group)s invites you, %(username)s, to join it as "
                "%(role)s. To accept, open this link signed in to your AidHub account within "
                "%(days)s days:\n%(link)s\n\n"
                "If you do not want to, do nothing: you are not a member unless you accept."
            )
            % values
        )
    try:
        send_mail(subject, body, None, [user.email])
    except OSError as exc:
        if self.request.is_eager:
            logger.warning("invitation to group %s not sent (%s)", group_id, exc)
            return False
        raise self.retry(exc=exc, countdown=60, max_retries=5) from exc
    return True
