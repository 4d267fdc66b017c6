"""The needs and gaps pages count deliveries that are planned, on the road or reported, so a
place with a delivery coming is not shown as "never delivered" (which invites a second one)."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from aidhub.uploads import CleanFile
from deliveries import services
from hubs import services as hub_services
from tests.factories import PlaceFactory
from tests.ledger.factories import jpeg_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def asked(stocked, place, flour):
    return hub_services.request_create(hub=stocked, place=place, lines=[(flour, 50)], by=None)


def plan(hub, place, flour, coordinator, request, quantity="30"):
    return services.delivery_plan(
        hub=hub, place=place, lines=[(flour, Decimal(quantity))], by=coordinator,
        requests=[request],
    )  # fmt: skip


def test_a_planned_delivery_shows_on_the_needs_board_and_lowers_what_is_still_needed(
    client, stocked, place, flour, coordinator, asked
):
    page = client.get("/needs/")
    line = page.context["requests"][0].lines.all()[0]
    assert line.still_needed == 50 and line.on_the_way == 0
    plan(stocked, place, flour, coordinator, asked)
    page = client.get("/needs/")
    line = page.context["requests"][0].lines.all()[0]
    assert (line.on_the_way, line.still_needed) == (30, 20)
    assert "30 on the way" in page.text
    assert "1 delivery planned" in page.text


def test_gaps_say_what_is_coming_instead_of_never_delivered(
    client, stocked, place, flour, coordinator, volunteer, asked, media
):
    nothing = PlaceFactory(slug="kara-bak", name="Kara-Bak")
    hub_services.request_create(hub=stocked, place=nothing, lines=[(flour, 5)], by=None, urgency=3)
    delivery = plan(stocked, place, flour, coordinator, asked)
    services.delivery_claim(delivery=delivery, volunteer=volunteer)
    services.delivery_dispatch(delivery=delivery, volunteer=volunteer)
    page = client.get("/gaps/")
    gaps = page.context["gaps"]
    # Kara-Bak (less urgent, nothing coming) comes before Isfana, which has a car on the road.
    assert [g.place.name for g in gaps] == ["Kara-Bak", "Isfana"]
    assert gaps[1].on_the_way.dispatched == 1
    assert "1 delivery on the road" in page.text
    assert page.text.count("never delivered") == 1  # Kara-Bak's only

    services.delivery_report(
        delivery=delivery, volunteer=volunteer, people=40,
        photos=[CleanFile(jpeg_bytes((90, 120, 60)), "image/jpeg")],
    )  # fmt: skip
    page = client.get("/gaps/")
    assert page.context["gaps"][1].on_the_way.reported == 1
    assert "1 delivery reported, awaiting verification" in page.text


def test_a_failed_delivery_no_longer_counts(client, stocked, place, flour, coordinator, asked):
    delivery = plan(stocked, place, flour, coordinator, asked)
    services.delivery_fail(delivery=delivery, by=coordinator, reason="road closed", returned=False)
    line = client.get("/needs/").context["requests"][0].lines.all()[0]
    assert (line.on_the_way, line.still_needed) == (0, 50)
    assert "never delivered" in client.get("/gaps/").text


def test_the_needs_board_asks_the_same_number_of_queries_for_more_places(
    client, stocked, flour, coordinator
):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/needs/").status_code == 200
        return len(queries)

    def one_more(slug):
        place = PlaceFactory(slug=slug, name=slug)
        request = hub_services.request_create(hub=stocked, place=place, lines=[(flour, 5)], by=None)
        plan(stocked, place, flour, coordinator, request, quantity="1")

    one_more("a")
    before = count()
    one_more("b")
    one_more("c")
    assert count() == before
