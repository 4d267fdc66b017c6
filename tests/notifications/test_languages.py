"""Every message goes in its reader's language, not the worker's default: the coordinators'
digest in each coordinator's, the donor's receipt in the one the donation was recorded in."""

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone, translation

from hubs import services as hubs
from notifications.models import UserLanguage
from tests.factories import (
    PASSWORD,
    HubFactory,
    ItemFactory,
    MembershipFactory,
    PlaceFactory,
    UserFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.clock]


def as_a_worker(callbacks) -> None:
    """Run on-commit work as a Celery worker would: in the site's default language."""
    with translation.override("en"):
        for callback in callbacks:
            callback()


@pytest.fixture
def waiting_request(db):
    hub = HubFactory(name="Sports Palace")
    request = hubs.request_create(
        hub=hub, place=PlaceFactory(), lines=[(ItemFactory(), 50)], by=None
    )
    type(request).objects.filter(pk=request.pk).update(
        created_at=timezone.now() - timedelta(hours=50)
    )
    return hub


def coordinator_of(hub, username: str):
    user = UserFactory(username=username, email=f"{username}@aidhub.example")
    MembershipFactory(hub=hub, user=user)
    return user


def digests(django_capture_on_commit_callbacks) -> dict[str, mail.EmailMessage]:
    from deliveries.services import coordinator_digest

    # Beat runs the digest in the site's default language.
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        coordinator_digest()
    return {message.to[0]: message for message in mail.outbox}


def test_each_coordinator_gets_the_digest_in_the_language_they_chose(
    waiting_request, django_capture_on_commit_callbacks
):
    aigerim = coordinator_of(waiting_request, "aigerim")
    coordinator_of(waiting_request, "tom")
    client = Client()
    client.force_login(aigerim)
    client.post("/i18n/setlang/", {"language": "ru", "next": "/"})

    sent = digests(django_capture_on_commit_callbacks)
    russian, english = sent["aigerim@aidhub.example"], sent["tom@aidhub.example"]
    assert russian.subject == "Сводка за день: Sports Palace"
    assert "Заявки ждут больше 48 часов: 1" in russian.body
    assert "Запасов меньше, чем просят в открытых заявках" in russian.body
    assert english.subject == "Daily summary for Sports Palace"
    assert "Requests waiting more than 48 hours: 1" in english.body


def test_the_language_of_the_sign_in_page_is_remembered_for_the_digest(
    waiting_request, django_capture_on_commit_callbacks
):
    aigerim = coordinator_of(waiting_request, "aigerim")
    client = Client(HTTP_ACCEPT_LANGUAGE="ru")
    response = client.post(
        "/accounts/login/", {"username": "aigerim", "password": PASSWORD}, REMOTE_ADDR="127.0.0.1"
    )
    assert response.status_code == 302
    assert UserLanguage.objects.get(user=aigerim).language == "ru"
    (digest,) = digests(django_capture_on_commit_callbacks).values()
    assert digest.subject == "Сводка за день: Sports Palace"


def test_a_language_the_site_does_not_offer_is_not_recorded(coordinator):
    from notifications.services import user_language_remember

    user_language_remember(user=coordinator, language="xx")
    assert not UserLanguage.objects.exists()
    user_language_remember(user=coordinator, language="ru-ru")
    assert UserLanguage.objects.get(user=coordinator).language == "ru"


def test_the_donors_receipt_is_worded_in_the_language_the_donation_was_recorded_in(
    fundraiser, django_capture_on_commit_callbacks
):
    client = Client(HTTP_ACCEPT_LANGUAGE="ru")
    assert client.login(username="dana", password=PASSWORD)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(
            f"/fundraisers/{fundraiser.slug}/donations/new/",
            {
                "amount": "3000",
                "currency": "KZT",
                "channel": "cash",
                "donor_contact": "donor@example.org",
                "received_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            },
        )
    assert response.status_code == 302
    as_a_worker(callbacks)
    (receipt,) = [m for m in mail.outbox if m.to == ["donor@example.org"]]
    assert receipt.subject == "Ваше пожертвование в сбор «Almaty for Batken»"
    assert "Ваш код квитанции:" in receipt.body
    assert "Посмотреть и проверить запись:" in receipt.body


def test_a_fundraiser_titled_with_a_line_break_adds_no_header_to_the_receipt(
    fundraiser, django_capture_on_commit_callbacks
):
    from donations import services as donations

    type(fundraiser).objects.filter(pk=fundraiser.pk).update(title="Coal\r\nX-Injected: yes")
    fundraiser.refresh_from_db()
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        donations.donation_record(
            fundraiser=fundraiser,
            amount="3000",
            currency="KZT",
            received_at=timezone.now(),
            channel="cash",
            by=None,
            donor_contact="donor@example.org",
        )
    (receipt,) = mail.outbox
    assert receipt.subject == "Your donation to Coal X-Injected: yes"
    assert "X-Injected" not in receipt.extra_headers
    assert "\nX-Injected" not in str(receipt.message())
