import logging

from celery import shared_task
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.utils import translation
from django.utils.translation import gettext as _

from notifications.channels import header_safe

from .models import Donation
from .providers import PROVIDERS, FeedError, rates_store

logger = logging.getLogger(__name__)


@shared_task(bind=True, autoretry_for=(FeedError,), retry_backoff=60, retry_jitter=True,
             max_retries=6, time_limit=60, soft_time_limit=50)  # fmt: skip
def rates_fetch(self, provider: str = "nbkr") -> int:
    """Fetch today's official rates (beat runs this every morning); retried when the feed is
    down. Returns how many new rates were stored."""
    source = PROVIDERS[provider]()
    return rates_store(source.fetch(), source.source)


@shared_task(bind=True, time_limit=30, soft_time_limit=25)
def receipt_code_send(self, donation_id: int, language: str = "") -> bool:
    """E-mail a donor their receipt code when the contact they left is an e-mail address,
    in `language` (the one the donation was recorded in)."""
    donation = Donation.objects.filter(pk=donation_id).select_related("fundraiser").first()
    if donation is None or not donation.receipt_code:
        return False
    try:
        validate_email(donation.donor_contact)
    except ValidationError:
        logger.info("donation %s: contact is not an e-mail address; code shown only", donation_id)
        return False
    with translation.override(language or settings.LANGUAGE_CODE):
        # One line: a fundraiser titled with a line break must not add a header.
        subject = header_safe(
            _("Your donation to %(title)s") % {"title": donation.fundraiser.title}
        )
        body = _(
            "Thank you. Your donation of %(amount)s %(currency)s is in the public ledger.\n"
            "Your receipt code: %(code)s\n"
            "See the entry and check it: %(link)s"
        ) % {
            "amount": donation.amount,
            "currency": donation.currency,
            "code": donation.receipt_code,
            "link": f"{settings.SITE_URL}/ledger/receipt/{donation.receipt_code}/",
        }
    try:
        send_mail(subject, body, None, [donation.donor_contact])
    except OSError as exc:
        if self.request.is_eager:
            # Run inside the request that recorded the donation (no broker): the donation
            # stands, and the organiser was shown the code to pass on.
            logger.warning("donation %s: receipt e-mail not sent (%s)", donation_id, exc)
            return False
        raise self.retry(exc=exc, countdown=60, max_retries=5) from exc
    return True


@shared_task(time_limit=120, soft_time_limit=100)
def donor_contacts_purge() -> int:
    """Beat runs this hourly: contacts older than DONOR_CONTACT_DAYS are erased."""
    from . import services

    return services.donor_contacts_purge()
