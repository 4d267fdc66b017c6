"""The delivery's page keeps "Show the handover code" after the report, for as long as the
recipient can still confirm the code (deliveries.services.handover_confirmable)."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from aidhub.uploads import CleanFile
from deliveries import services
from tests.factories import PASSWORD
from tests.ledger.factories import jpeg_bytes

pytestmark = pytest.mark.django_db
SHOW = "Show the handover code"


@pytest.fixture
def dispatched(stocked, place, flour, coordinator, volunteer):
    delivery = services.delivery_plan(
        hub=stocked, place=place, lines=[(flour, Decimal("30"))], by=coordinator
    )
    services.delivery_claim(delivery=delivery, volunteer=volunteer)
    services.delivery_dispatch(delivery=delivery, volunteer=volunteer)
    return delivery


def report(delivery, volunteer):
    photo = CleanFile(jpeg_bytes(), "image/jpeg")
    services.delivery_report(delivery=delivery, volunteer=volunteer, people=12, photos=[photo])


def page(client, user, delivery):
    assert client.login(username=user.username, password=PASSWORD)
    return client.get(delivery.get_absolute_url()).text


def test_the_code_stays_on_the_page_after_the_report_while_it_can_be_confirmed(
    client, dispatched, volunteer, media
):
    code = services.handover_code_issue(delivery=dispatched, volunteer=volunteer).code
    report(dispatched, volunteer)
    assert SHOW in page(client, volunteer, dispatched)
    # ...and the code shown before the report still confirms the delivery.
    services.handover_confirm(delivery=dispatched, code=code, role="village head")
    text = page(client, volunteer, dispatched)
    assert SHOW not in text
    assert "confirmed by the recipient" in text


def test_the_code_is_gone_after_the_report_once_it_has_expired(
    client, dispatched, volunteer, media
):
    services.handover_code_issue(delivery=dispatched, volunteer=volunteer)
    report(dispatched, volunteer)
    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        assert SHOW not in page(client, volunteer, dispatched)


def test_the_code_is_gone_after_the_report_once_its_attempts_are_spent(
    client, dispatched, volunteer, media
):
    code = services.handover_code_issue(delivery=dispatched, volunteer=volunteer).code
    report(dispatched, volunteer)
    wrong = "000000" if code != "000000" else "111111"
    for _attempt in range(services.HANDOVER_ATTEMPTS):
        with pytest.raises(services.DeliveryError):
            services.handover_confirm(delivery=dispatched, code=wrong)
    assert SHOW not in page(client, volunteer, dispatched)


def test_on_the_way_the_code_is_offered_until_the_recipient_confirms(client, dispatched, volunteer):
    assert SHOW in page(client, volunteer, dispatched)
    code = services.handover_code_issue(delivery=dispatched, volunteer=volunteer).code
    services.handover_confirm(delivery=dispatched, code=code)
    assert SHOW not in page(client, volunteer, dispatched)


def test_another_volunteer_is_not_offered_the_code(
    client, dispatched, volunteer, other_volunteer, media
):
    services.handover_code_issue(delivery=dispatched, volunteer=volunteer)
    report(dispatched, volunteer)
    assert client.login(username=other_volunteer.username, password=PASSWORD)
    assert client.get(dispatched.get_absolute_url()).status_code == 404
