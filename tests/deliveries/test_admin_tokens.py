"""A proof is published from the admin through its own verify page: sent twice, whether with
the page's one-time token or from two open pages (two tokens), it makes one ledger entry."""

from decimal import Decimal

import pytest

from aidhub.uploads import CleanFile
from deliveries import services
from deliveries.models import Delivery
from ledger.models import LedgerEntry
from tests.aidhub.test_idempotency import one_time_token
from tests.factories import PASSWORD
from tests.ledger.factories import jpeg_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def reported(stocked, place, flour, coordinator, volunteer, media):
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
    return delivery


def approve_page(client, delivery) -> str:
    """The verify page as the admin's "check the proof" action opens it."""
    opened = client.post(
        "/admin/deliveries/delivery/",
        {"action": "review", "_selected_action": [delivery.pk], "index": "0"},
    )
    assert opened.status_code == 302
    return opened["Location"]


def test_approving_a_proof_twice_from_the_admin_makes_one_ledger_entry(
    client, coordinator, reported
):
    assert client.login(username=coordinator.username, password=PASSWORD)
    verify = approve_page(client, reported)
    # Two tabs opened from the admin: their forms carry different tokens.
    first_tab, second_tab = client.get(verify), client.get(verify)
    approve = {"approve": "1", "idempotency_key": one_time_token(first_tab)}
    double_tap = [client.post(verify, approve), client.post(verify, approve)]
    assert [r.status_code for r in double_tap] == [302, 302]
    other_tab = client.post(verify, {"approve": "1", "idempotency_key": one_time_token(second_tab)})
    assert other_tab.status_code in (200, 302)
    assert LedgerEntry.objects.filter(kind="delivery").count() == 1
    reported.refresh_from_db()
    assert reported.status == Delivery.Status.VERIFIED
    assert reported.ledger_index == LedgerEntry.objects.get(kind="delivery").index
