import json
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from aidhub.uploads import CleanFile
from deliveries import services
from deliveries.models import Delivery
from hubs import services as hub_services
from hubs.models import StockLevel, SupplyRequest
from ledger.models import Evidence, LedgerEntry
from tests.ledger.factories import jpeg_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.clock]
S = Delivery.Status


def photo(color=(90, 120, 60)) -> CleanFile:
    return CleanFile(jpeg_bytes(color), "image/jpeg")


@pytest.fixture
def planned(stocked, place, flour, coordinator):
    request = hub_services.request_create(hub=stocked, place=place, lines=[(flour, 30)], by=None)
    return services.delivery_plan(
        hub=stocked, place=place, lines=[(flour, Decimal("30"))], by=coordinator, requests=[request]
    )


def on_the_way(delivery, volunteer):
    services.delivery_claim(delivery=delivery, volunteer=volunteer)
    services.delivery_dispatch(delivery=delivery, volunteer=volunteer)
    return delivery


def test_full_journey_publishes_a_delivery_entry_only_on_approval(
    planned, volunteer, coordinator, flour, media
):
    on_the_way(planned, volunteer)
    assert StockLevel.objects.get(item=flour).quantity == 70
    code = services.handover_code_issue(delivery=planned, volunteer=volunteer)
    services.handover_confirm(delivery=planned, code=code.code, role="village head")
    proof = services.delivery_report(
        delivery=planned,
        volunteer=volunteer,
        people=120,
        households=30,
        photos=[photo(), photo((1, 2, 3))],
    )
    shas = list(proof.photos.values_list("evidence_sha256", flat=True))
    assert not Evidence.objects.filter(sha256__in=shas, published=True).exists()
    assert not LedgerEntry.objects.filter(kind="delivery").exists()

    index = services.delivery_verify(delivery=planned, coordinator=coordinator)
    payload = json.loads(bytes(LedgerEntry.objects.get(index=index).leaf))["payload"]
    assert payload["people"] == 120 and payload["households"] == 30
    assert payload["confirmed_by_recipient"] is True
    assert payload["evidence"] == shas
    assert payload["place"]["id"] == "isfana"
    assert Evidence.objects.filter(sha256__in=shas, published=True).count() == 2
    assert planned.requests.get().status == SupplyRequest.Status.FULFILLED
    planned.refresh_from_db()
    assert planned.status == S.VERIFIED and planned.place.last_delivery_at is not None


def test_the_volunteer_cannot_verify_their_own_delivery(planned, coordinator, media):
    on_the_way(planned, coordinator)  # a coordinator who drove the car
    services.delivery_report(delivery=planned, volunteer=coordinator, people=5, photos=[photo()])
    with pytest.raises(ValidationError, match="Someone other than the volunteer"):
        services.delivery_verify(delivery=planned, coordinator=coordinator)


def test_a_rejected_proof_goes_back_to_the_volunteer(planned, volunteer, coordinator, media):
    on_the_way(planned, volunteer)
    services.delivery_report(delivery=planned, volunteer=volunteer, people=5, photos=[photo()])
    services.delivery_reject(delivery=planned, coordinator=coordinator, reason="a face is visible")
    planned.refresh_from_db()
    assert planned.status == S.DISPATCHED
    services.delivery_report(
        delivery=planned, volunteer=volunteer, people=5, photos=[photo((7, 7, 7))]
    )
    assert services.delivery_verify(delivery=planned, coordinator=coordinator) >= 0


def test_only_one_volunteer_can_claim(planned, volunteer, other_volunteer):
    services.delivery_claim(delivery=planned, volunteer=volunteer)
    with pytest.raises(ValidationError, match="Someone else has already taken"):
        services.delivery_claim(delivery=planned, volunteer=other_volunteer)


def test_an_expired_claim_frees_the_delivery(planned, volunteer, other_volunteer):
    services.delivery_claim(delivery=planned, volunteer=volunteer)
    with time_machine.travel(timezone.now() + timedelta(hours=7)):
        # Claiming again works even before the sweep runs...
        services.delivery_claim(delivery=planned, volunteer=other_volunteer)
    planned.refresh_from_db()
    assert planned.volunteer == other_volunteer
    with time_machine.travel(timezone.now() + timedelta(hours=14)):
        # ...and the sweep puts a vanished volunteer's claim back on the list.
        assert services.claims_release_expired() == 1
    planned.refresh_from_db()
    assert (planned.status, planned.volunteer) == (S.PLANNED, None)


def test_dispatching_more_than_the_hub_holds_is_refused_and_changes_nothing(
    stocked, place, flour, coordinator, volunteer
):
    delivery = services.delivery_plan(
        hub=stocked, place=place, lines=[(flour, Decimal("500"))], by=coordinator
    )
    services.delivery_claim(delivery=delivery, volunteer=volunteer)
    with pytest.raises(ValidationError, match="has only 100 kg of Flour left"):
        services.delivery_dispatch(delivery=delivery, volunteer=volunteer)
    delivery.refresh_from_db()
    assert delivery.status == S.CLAIMED
    assert StockLevel.objects.get(item=flour).quantity == 100


def test_pressing_dispatch_twice_takes_the_stock_once(planned, volunteer, flour):
    on_the_way(planned, volunteer)
    services.delivery_dispatch(delivery=planned, volunteer=volunteer)
    assert StockLevel.objects.get(item=flour).quantity == 70


def test_a_return_puts_the_goods_back(planned, volunteer, flour):
    on_the_way(planned, volunteer)
    services.delivery_fail(delivery=planned, by=volunteer, reason="pass closed", returned=True)
    assert StockLevel.objects.get(item=flour).quantity == 100
    planned.refresh_from_db()
    assert (planned.status, planned.reason) == (S.RETURNED, "pass closed")


def test_a_return_closed_from_a_page_loaded_before_the_dispatch_puts_the_goods_back(
    planned, volunteer, flour
):
    services.delivery_claim(delivery=planned, volunteer=volunteer)
    seen_before = Delivery.objects.get(pk=planned.pk)  # still "claimed" on this copy
    services.delivery_dispatch(delivery=planned, volunteer=volunteer)
    services.delivery_fail(delivery=seen_before, by=volunteer, reason="pass closed", returned=True)
    assert StockLevel.objects.get(item=flour).quantity == 100


def test_verifying_an_older_delivery_after_a_newer_one_keeps_the_newer_last_delivery(
    planned, stocked, place, flour, volunteer, coordinator, media
):
    older = on_the_way(planned, volunteer)
    newer = on_the_way(
        services.delivery_plan(hub=stocked, place=place, lines=[(flour, 5)], by=coordinator),
        volunteer,
    )
    newest_time = timezone.now() - timedelta(hours=1)
    for delivery, when in [(older, timezone.now() - timedelta(days=3)), (newer, newest_time)]:
        services.delivery_report(delivery=delivery, volunteer=volunteer, people=9,
                                 photos=[photo()], delivered_at=when)  # fmt: skip
    services.delivery_verify(delivery=newer, coordinator=coordinator)
    services.delivery_verify(delivery=older, coordinator=coordinator)  # it answered a request
    place.refresh_from_db()
    assert place.last_delivery_at == newest_time


def test_report_needs_photos_and_people(planned, volunteer, media):
    on_the_way(planned, volunteer)
    with pytest.raises(ValidationError, match="from 1 to 5 photos"):
        services.delivery_report(delivery=planned, volunteer=volunteer, people=3, photos=[])
    with pytest.raises(ValidationError, match="from 1 to 5 photos"):
        services.delivery_report(
            delivery=planned,
            volunteer=volunteer,
            people=3,
            photos=[photo((n, n, n)) for n in range(6)],
        )
    with pytest.raises(ValidationError, match="How many people"):
        services.delivery_report(delivery=planned, volunteer=volunteer, people=0, photos=[photo()])


def test_handover_code_wrong_guesses_are_limited(planned, volunteer):
    on_the_way(planned, volunteer)
    code = services.handover_code_issue(delivery=planned, volunteer=volunteer).code
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        with pytest.raises(ValidationError, match="not right"):
            services.handover_confirm(delivery=planned, code=wrong)
    with pytest.raises(ValidationError, match="expired"):
        services.handover_confirm(delivery=planned, code=code)


def test_handover_code_expires(planned, volunteer):
    on_the_way(planned, volunteer)
    code = services.handover_code_issue(delivery=planned, volunteer=volunteer).code
    with (
        time_machine.travel(timezone.now() + timedelta(minutes=31)),
        pytest.raises(ValidationError, match="expired"),
    ):
        services.handover_confirm(delivery=planned, code=code)


def test_showing_the_code_again_keeps_it_while_the_recipient_may_be_typing_it(planned, volunteer):
    on_the_way(planned, volunteer)
    first = services.handover_code_issue(delivery=planned, volunteer=volunteer)
    with time_machine.travel(timezone.now() + timedelta(minutes=19)):
        again = services.handover_code_issue(delivery=planned, volunteer=volunteer)
        assert (again.code, again.expires_at) == (first.code, first.expires_at)
    # Less than ten minutes left: a new code with a new half hour.
    with time_machine.travel(timezone.now() + timedelta(minutes=21)):
        fresh = services.handover_code_issue(delivery=planned, volunteer=volunteer)
        assert fresh.expires_at > first.expires_at
        services.handover_confirm(delivery=planned, code=fresh.code)
    # Once confirmed, showing the page again does not undo the confirmation.
    assert services.handover_code_issue(delivery=planned, volunteer=volunteer).confirmed_at


def test_a_code_spent_by_wrong_guesses_is_replaced_when_shown_again(planned, volunteer):
    on_the_way(planned, volunteer)
    code = services.handover_code_issue(delivery=planned, volunteer=volunteer).code
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        with pytest.raises(ValidationError):
            services.handover_confirm(delivery=planned, code=wrong)
    fresh = services.handover_code_issue(delivery=planned, volunteer=volunteer)
    assert fresh.failed_attempts == 0
    services.handover_confirm(delivery=planned, code=fresh.code)


def test_only_coordinators_plan(stocked, place, flour, volunteer):
    with pytest.raises(ValidationError, match="Only a coordinator"):
        services.delivery_plan(hub=stocked, place=place, lines=[(flour, 1)], by=volunteer)
