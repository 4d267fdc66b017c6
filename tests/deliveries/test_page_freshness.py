"""The needs, gaps, place, hub and hub-list pages keep their content in the cache under
hubs.freshness.needs_version(): every write to stock, requests and deliveries (through the
services, or saved in the admin) forgets it, so the next page shows the write."""

from decimal import Decimal

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from deliveries import services
from hubs import services as hub_services
from hubs.freshness import needs_version
from hubs.models import SupplyRequest
from tests.factories import ItemFactory, PlaceFactory

pytestmark = pytest.mark.django_db

PAGES = ["/needs/", "/gaps/", "/places/isfana/", "/hubs/sports-palace/", "/hubs/"]


@pytest.fixture
def visitor() -> Client:
    """With a session cookie: the page is rendered, not served whole from the cache."""
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = "no-such-session"
    return client


@pytest.fixture
def asked(stocked, place, flour):
    return hub_services.request_create(hub=stocked, place=place, lines=[(flour, 50)], by=None)


def test_the_pages_come_from_the_cache_until_something_is_written(
    visitor, asked, django_assert_max_num_queries
):
    for url in PAGES:
        first = visitor.get(url)
        with django_assert_max_num_queries(1):  # the session
            again = visitor.get(url)
        assert again.content == first.content, url


def test_a_new_request_shows_at_once(visitor, stocked, flour):
    for url in ["/needs/", "/gaps/", "/hubs/sports-palace/"]:
        visitor.get(url)
    place = PlaceFactory(slug="kara-bak", name="Kara-Bak")
    hub_services.request_create(hub=stocked, place=place, lines=[(flour, 5)], by=None)
    for url in ["/needs/", "/gaps/", "/hubs/sports-palace/"]:
        assert "Kara-Bak" in visitor.get(url).text, url


def test_a_cancelled_request_leaves_at_once(visitor, asked):
    assert "Isfana" in visitor.get("/needs/").text
    hub_services.request_cancel(request=asked, reason="sent by others", by=None)
    assert "Isfana" not in visitor.get("/needs/").text
    assert "Isfana" not in visitor.get("/gaps/").text
    assert "Cancelled" in visitor.get("/places/isfana/").text


def test_an_updated_request_shows_at_once(visitor, asked, flour):
    assert "50" in visitor.get("/places/isfana/").text
    hub_services.request_update(request=asked, lines=[(flour, Decimal(77))], by=None)
    assert "77" in visitor.get("/places/isfana/").text
    assert "77" in visitor.get("/needs/").text


def test_a_delivery_planned_dispatched_and_counted_shows_at_once(
    visitor, stocked, place, flour, coordinator, volunteer, asked
):
    assert "1 delivery planned" not in visitor.get("/needs/").text
    delivery = services.delivery_plan(
        hub=stocked, place=place, lines=[(flour, Decimal(30))], by=coordinator, requests=[asked]
    )
    assert "1 delivery planned" in visitor.get("/needs/").text
    assert "1 delivery planned" in visitor.get("/gaps/").text
    services.delivery_claim(delivery=delivery, volunteer=volunteer)
    services.delivery_dispatch(delivery=delivery, volunteer=volunteer)
    assert "on the road" in visitor.get("/needs/").text
    hub_services.request_record_delivery(
        request=asked, lines=[(flour, Decimal(50))], delivered_at=timezone.now()
    )
    assert "Isfana" not in visitor.get("/needs/").text  # fulfilled
    assert "Isfana" not in visitor.get("/gaps/").text  # delivered today


def test_stock_writes_forget_the_version(stocked, flour):
    before = needs_version()
    hub_services.hub_receive_goods(hub=stocked, lines=[(flour, Decimal(1))], by=None)
    assert needs_version() != before


def test_edits_in_the_admin_show_at_once(visitor, asked, stocked, place, flour):
    for url in PAGES:
        visitor.get(url)
    place.name = "Isfana town"
    place.save()
    stocked.opening_hours = "9:00–18:00"
    stocked.save()
    flour.name = "Wheat flour"
    flour.save()
    assert "Isfana town" in visitor.get("/needs/").text
    assert "Isfana town" in visitor.get("/gaps/").text
    assert "Wheat flour" in visitor.get("/places/isfana/").text
    assert "9:00–18:00" in visitor.get("/hubs/sports-palace/").text
    assert "9:00–18:00" in visitor.get("/hubs/").text
    stocked.surplus_items.add(ItemFactory(slug="blankets", name="Blankets"))
    assert "Blankets" in visitor.get("/hubs/sports-palace/").text
    SupplyRequest.objects.get(pk=asked.pk).delete()
    assert "Isfana" not in visitor.get("/needs/").text


def test_a_language_has_its_own_copy(visitor, asked):
    english = visitor.get("/needs/", headers={"accept-language": "en"}).text
    russian = visitor.get("/needs/", headers={"accept-language": "ru"}).text
    assert 'lang="en"' in english and 'lang="ru"' in russian
    assert "What is needed where" in english and "What is needed where" not in russian


def test_each_filter_has_its_own_copy(visitor, stocked, asked):
    other = PlaceFactory(slug="nookat", name="Nookat", region__slug="osh", region__name="Osh")
    hub_services.request_create(hub=stocked, place=other, lines=[(ItemFactory(), 5)], by=None)
    assert "Nookat" in visitor.get("/needs/").text
    osh = visitor.get("/needs/?region=osh").text
    assert "Nookat" in osh and "Isfana" not in osh
