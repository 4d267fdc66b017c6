import logging

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from notifications.channels import header_safe
from notifications.queries import languages_of

from .models import Hub

logger = logging.getLogger(__name__)


@shared_task(bind=True, time_limit=30, soft_time_limit=25)
def membership_invitation_send(self, user_id: int, hub_id: int, language: str = "") -> bool:
    """E-mail an account's own address a link that makes it a volunteer of the hub once the
    person, signed in, accepts; in the language they read AidHub in (`language`, the
    inviter's, if they never chose one). The link is made here, so it never passes through
    the broker."""
    from .services import INVITATION_DAYS, membership_invitation_token

    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    hub = Hub.objects.filter(pk=hub_id, is_active=True).first()
    if user is None or hub is None or not user.email:
        return False
    token = membership_invitation_token(user=user, hub=hub)
    link = settings.SITE_URL + reverse("hubs:invitation", args=[token])
    # The invitee's language if they chose one, not the coordinator's who invited them.
    language = languages_of([user.pk], default=language)[user.pk]
    with translation.override(language):
        subject = header_safe(_("Volunteer at %(hub)s on AidHub?") % {"hub": hub.name})
        body = _(
            "A coordinator of %(hub)s invites you, %(username)s, to volunteer there. "
            "To accept, open this link signed in to your AidHub account within %(days)s days:\n"
            "%(link)s\n\n"
            "If you do not want to, do nothing: you are not a member unless you accept."
        ) % {
            "hub": hub.name,
            "username": user.get_username(),
            "days": INVITATION_DAYS,
            "link": link,
        }
    try:
        send_mail(subject, body, None, [user.email])
    except OSError as exc:
        if self.request.is_eager:
            logger.warning("invitation to hub %s not sent (%s)", hub_id, exc)
            return False
        raise self.retry(exc=exc, countdown=60, max_retries=5) from exc
    return True
