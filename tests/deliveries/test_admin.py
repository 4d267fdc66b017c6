"""The deliveries admin publishes nothing in bulk: a proof is approved on its own page, after
its photos were looked at and blurred."""

from decimal import Decimal

import pytest

from aidhub.uploads import CleanFile
from deliveries import services
from deliveries.models import Delivery
from ledger.models import LedgerEntry
from tests.factories import PASSWORD
from tests.ledger.factories import jpeg_bytes

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/deliveries/delivery/"


@pytest.fixture
def reported(stocked, place, flour, coordinator, volunteer, media):
    deliveries = []
    for _n in range(2):
        delivery = services.delivery_plan(
            hub=stocked, place=place, lines=[(flour, Decimal("5"))], by=coordinator
        )
        services.delivery_claim(delivery=delivery, volunteer=volunteer)
        services.delivery_dispatch(delivery=delivery, volunteer=volunteer)
        services.delivery_report(
            delivery=delivery,
            volunteer=volunteer,
            people=3,
            photos=[CleanFile(jpeg_bytes(), "image/jpeg")],
        )
        deliveries.append(delivery)
    return deliveries


@pytest.fixture
def as_coordinator(client, coordinator):
    assert client.login(username=coordinator.username, password=PASSWORD)
    return client


def test_the_old_bulk_approve_action_publishes_nothing(as_coordinator, reported):
    response = as_coordinator.post(
        CHANGELIST,
        {"action": "approve", "_selected_action": [d.pk for d in reported], "index": "0"},
    )
    assert response.status_code in (200, 302)
    assert not Delivery.objects.filter(status=Delivery.Status.VERIFIED).exists()
    assert not LedgerEntry.objects.filter(kind="delivery").exists()
    assert 'value="approve"' not in as_coordinator.get(CHANGELIST).text


def test_checking_a_proof_from_the_list_opens_its_own_page(as_coordinator, reported):
    response = as_coordinator.post(
        CHANGELIST, {"action": "review", "_selected_action": [reported[0].pk], "index": "0"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/deliveries/{reported[0].slug}/verify/"
    assert not Delivery.objects.filter(status=Delivery.Status.VERIFIED).exists()


def test_several_proofs_are_not_checked_at_once(as_coordinator, reported):
    response = as_coordinator.post(
        CHANGELIST,
        {"action": "review", "_selected_action": [d.pk for d in reported], "index": "0"},
        follow=True,
    )
    assert "Choose exactly one delivery" in response.text
    assert not Delivery.objects.filter(status=Delivery.Status.VERIFIED).exists()
