import json
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from hubs import services
from hubs.models import StockLevel, StockMovement, SupplyRequest
from ledger.models import LedgerEntry
from tests.factories import HubFactory, ItemFactory, PlaceFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.clock]


@pytest.fixture
def hub():
    return HubFactory(slug="sports-palace", name="Sports Palace")


@pytest.fixture
def flour():
    return ItemFactory()


@pytest.fixture
def bags():
    return ItemFactory(slug="sleeping-bag", name="Sleeping bag", category="shelter", unit="piece")


@pytest.fixture
def user():
    return UserFactory(username="aigerim")


def level(hub, item) -> Decimal:
    return StockLevel.objects.get(hub=hub, item=item).quantity


def last_payload() -> dict:
    return json.loads(bytes(LedgerEntry.objects.order_by("-index").first().leaf))


def test_receiving_goods_adds_stock_and_writes_an_intake_entry(hub, flour, user):
    index = services.hub_receive_goods(
        hub=hub, lines=[(flour, Decimal("50"))], by=user, public_name="Sewing workshop"
    )
    assert level(hub, flour) == 50
    movement = StockMovement.objects.get()
    assert (movement.kind, movement.quantity, movement.ledger_index) == ("intake", 50, index)
    entry = last_payload()
    assert entry["kind"] == "intake"
    assert entry["payload"]["items"] == [
        {"item": "flour", "name": "Flour", "quantity": "50", "unit": "kg", "category": "food"}
    ]
    assert entry["payload"]["public_name"] == "Sewing workshop"


def test_dispatch_takes_stock_and_writes_a_dispatch_entry(hub, flour, user):
    services.hub_receive_goods(hub=hub, lines=[(flour, Decimal("50"))], by=user)
    place = PlaceFactory(slug="isfana", name="Isfana")
    services.stock_dispatch(hub=hub, place=place, lines=[(flour, Decimal("20"))], by=user,
                            reference="d-1")  # fmt: skip
    assert level(hub, flour) == 30
    payload = last_payload()["payload"]
    assert payload["place"] == {"id": "isfana", "name": "Isfana", "region": "Batken",
                                "district": "Leilek"}  # fmt: skip


def test_taking_more_than_there_is_names_the_item_and_what_is_left(hub, flour, bags, user):
    services.hub_receive_goods(
        hub=hub, lines=[(flour, Decimal("50")), (bags, Decimal("3"))], by=user
    )
    entries = LedgerEntry.objects.count()
    place = PlaceFactory()
    with pytest.raises(services.StockError) as caught:
        services.stock_dispatch(
            hub=hub, place=place, by=user, reference="d-2",
            lines=[(flour, Decimal("10")), (bags, Decimal("5"))],
        )  # fmt: skip
    assert caught.value.messages == [
        "Sports Palace has only 3 pcs of Sleeping bag left; 5 pcs cannot be taken."
    ]
    # Nothing half-written: the flour line was rolled back with the rest.
    assert level(hub, flour) == 50 and level(hub, bags) == 3
    assert StockMovement.objects.filter(kind="dispatch").count() == 0
    assert LedgerEntry.objects.count() == entries


def test_dispatching_from_an_empty_hub_is_refused(hub, flour, user):
    with pytest.raises(services.StockError, match="only 0 kg of Flour left"):
        services.stock_dispatch(hub=hub, place=PlaceFactory(), lines=[(flour, Decimal("1"))],
                                by=user, reference="d-3")  # fmt: skip


def test_the_database_refuses_a_negative_stock_level(hub, flour, user):
    services.hub_receive_goods(hub=hub, lines=[(flour, Decimal("5"))], by=user)
    with pytest.raises(IntegrityError), transaction.atomic():
        StockLevel.objects.filter(hub=hub, item=flour).update(quantity=Decimal("-1"))


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        ("0", "must be more than zero"),
        ("-3", "must be more than zero"),
        ("1000001", "more than one line can hold"),
        ("1.0005", "at most three decimals"),
        ("abc", "is not a quantity"),
    ],
)
def test_absurd_quantities_are_refused_with_a_clear_message(hub, flour, user, quantity, message):
    with pytest.raises(ValidationError, match=message):
        services.hub_receive_goods(hub=hub, lines=[(flour, quantity)], by=user)
    assert not StockMovement.objects.exists() and not LedgerEntry.objects.exists()


def test_pieces_must_be_whole(hub, bags, user):
    with pytest.raises(ValidationError, match="give a whole number"):
        services.hub_receive_goods(hub=hub, lines=[(bags, Decimal("2.5"))], by=user)


def test_the_same_item_twice_and_no_items_are_refused(hub, flour, user):
    with pytest.raises(ValidationError, match="listed twice"):
        services.hub_receive_goods(hub=hub, lines=[(flour, 1), (flour, 2)], by=user)
    with pytest.raises(ValidationError, match="at least one item"):
        services.hub_receive_goods(hub=hub, lines=[], by=user)


def test_a_closed_hub_moves_no_stock(hub, flour, user):
    hub.is_active = False
    hub.save()
    with pytest.raises(ValidationError, match="is closed"):
        services.hub_receive_goods(hub=hub, lines=[(flour, 1)], by=user)


def test_transfer_moves_stock_between_hubs_with_one_entry(hub, flour, user):
    other = HubFactory(name="Osh warehouse")
    services.hub_receive_goods(hub=hub, lines=[(flour, Decimal("50"))], by=user)
    services.stock_transfer(from_hub=hub, to_hub=other, lines=[(flour, Decimal("20"))], by=user)
    assert level(hub, flour) == 30 and level(other, flour) == 20
    assert last_payload()["kind"] == "transfer"
    with pytest.raises(ValidationError, match="two different hubs"):
        services.stock_transfer(from_hub=hub, to_hub=hub, lines=[(flour, 1)], by=user)


def test_adjustment_records_its_reason_and_cannot_go_below_zero(hub, flour, user):
    services.hub_receive_goods(hub=hub, lines=[(flour, Decimal("10"))], by=user)
    services.stock_adjust(hub=hub, item=flour, delta=Decimal("-2"), reason="wet sacks", by=user)
    assert level(hub, flour) == 8
    assert last_payload()["payload"]["items"][0]["quantity"] == "-2"
    with pytest.raises(services.StockError):
        services.stock_adjust(hub=hub, item=flour, delta=Decimal("-9"), reason="x", by=user)
    with pytest.raises(ValidationError, match="Say why"):
        services.stock_adjust(hub=hub, item=flour, delta=Decimal("1"), reason=" ", by=user)


def test_a_return_puts_goods_back(hub, flour, user):
    services.hub_receive_goods(hub=hub, lines=[(flour, Decimal("10"))], by=user)
    services.stock_dispatch(hub=hub, place=PlaceFactory(), lines=[(flour, Decimal("10"))],
                            by=user, reference="d-9")  # fmt: skip
    services.stock_return(hub=hub, lines=[(flour, Decimal("4"))], by=user, reference="d-9",
                          reason="road closed")  # fmt: skip
    assert level(hub, flour) == 4


# ---- requests -------------------------------------------------------------------------------


def test_request_from_a_place_with_an_open_request_for_the_same_item_is_refused(hub, flour, bags):
    place = PlaceFactory(name="Ak-Sai")
    first = services.request_create(hub=hub, place=place, lines=[(flour, 100)], by=None)
    with pytest.raises(services.DuplicateRequest) as caught:
        services.request_create(hub=hub, place=place, lines=[(bags, 5), (flour, 20)], by=None)
    assert caught.value.existing == first
    assert "Update that request instead" in caught.value.messages[0]
    assert SupplyRequest.objects.count() == 1
    # Different items from the same place are a separate need.
    services.request_create(hub=hub, place=place, lines=[(bags, 5)], by=None)


def test_request_update_keeps_what_was_delivered(hub, flour, bags):
    place = PlaceFactory()
    request = services.request_create(hub=hub, place=place, lines=[(flour, 100)], by=None)
    services.request_record_delivery(request=request, lines=[(flour, Decimal(40))],
                                     delivered_at=request.created_at)  # fmt: skip
    request.refresh_from_db()
    assert request.status == SupplyRequest.Status.PARTLY
    services.request_update(request=request, lines=[(flour, 120), (bags, 10)], by=None)
    lines = {line.item.slug: (line.quantity, line.delivered) for line in request.lines.all()}
    assert lines == {"flour": (120, 40), "sleeping-bag": (10, 0)}


def test_request_is_fulfilled_when_every_line_arrived(hub, flour, bags):
    place = PlaceFactory()
    request = services.request_create(hub=hub, place=place, lines=[(flour, 10), (bags, 2)],
                                      by=None)  # fmt: skip
    arrived = [(flour, Decimal(10)), (bags, Decimal(2))]
    services.request_record_delivery(request=request, lines=arrived,
                                     delivered_at=request.created_at)  # fmt: skip
    request.refresh_from_db()
    place.refresh_from_db()
    assert request.status == SupplyRequest.Status.FULFILLED
    assert place.last_delivery_at == request.created_at


def test_cancelled_request_cannot_be_cancelled_or_changed_again(hub, flour):
    request = services.request_create(hub=hub, place=PlaceFactory(), lines=[(flour, 1)], by=None)
    assert services.request_cancel(request=request, reason="duplicate of a call", by=None)
    assert not services.request_cancel(request=request, reason="again", by=None)
    request.refresh_from_db()
    with pytest.raises(ValidationError, match="cannot be changed"):
        services.request_update(request=request, lines=[(flour, 2)], by=None)


def test_needed_by_in_the_past_is_refused(hub, flour):
    import datetime

    with pytest.raises(ValidationError, match="in the past"):
        services.request_create(hub=hub, place=PlaceFactory(), lines=[(flour, 1)], by=None,
                                needed_by=datetime.date(2020, 1, 1))  # fmt: skip


def test_a_delivery_counted_from_a_stale_copy_does_not_reopen_a_cancelled_request(hub, flour):
    # A verification read the request while it was open; a coordinator cancelled it before the
    # verification counted its delivery: it stays cancelled.
    request = services.request_create(hub=hub, place=PlaceFactory(), lines=[(flour, 10)], by=None)
    stale = SupplyRequest.objects.get(pk=request.pk)
    assert services.request_cancel(request=request, reason="the village was evacuated", by=None)
    services.request_record_delivery(request=stale, lines=[(flour, Decimal(4))],
                                     delivered_at=request.created_at)  # fmt: skip
    request.refresh_from_db()
    assert request.status == SupplyRequest.Status.CANCELLED
