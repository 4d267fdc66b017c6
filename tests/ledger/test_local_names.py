"""Pages that show ledger entries name items, hubs and places in the reader's language; the
payloads and the exports keep the English names they were signed with."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from ledger import services
from tests.factories import HubFactory, ItemFactory, PlaceFactory

from . import scenario
from .factories import FLOUR, HUB, PLACE

pytestmark = pytest.mark.django_db


@pytest.fixture
def ledger(media):
    ItemFactory(slug="flour", name="Flour", name_ru="Мука", name_ky="Ун", name_kk="")
    HubFactory(slug="sports-palace", name="Sports Palace", name_ru="Дворец спорта")
    PlaceFactory(slug="isfana", name="Isfana", name_ru="Исфана", name_ky="Исфана")
    return scenario.build()


def reader(language: str) -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE=language)


@pytest.mark.parametrize(("language", "flour"), [("ru", "Мука 50"), ("ky", "Ун 50")])
def test_ledger_list_names_items_and_places_in_the_readers_language(ledger, language, flour):
    text = reader(language).get("/ledger/").text
    assert flour in text
    assert "Исфана" in text
    assert "Flour 50" not in text


def test_entry_place_and_receipt_pages_are_in_the_readers_language(ledger):
    client = reader("ru")
    dispatch = client.get("/ledger/5/").text
    assert "Дворец спорта" in dispatch and "Исфана" in dispatch and "Мука 50" in dispatch
    place = client.get("/places/isfana/").text
    assert "Исфана" in place and "Мука" in place and "Flour" not in place
    assert client.get(f"/ledger/receipt/{ledger['code']}/").status_code == 200


def test_names_without_a_translation_stay_english(ledger):
    text = reader("ky").get("/ledger/4/").text  # the transfer to the Osh warehouse
    assert "Osh warehouse" in text  # no hub row, no translation: the payload's name
    assert "Sports Palace" in text  # a hub row without a Kyrgyz name
    assert "Flour 50" in reader("kk").get("/ledger/").text  # an empty Kazakh name
    assert "Flour 50" in reader("en").get("/ledger/").text


@pytest.mark.parametrize("fmt", ["csv", "json", "hxl.csv"])
def test_exports_keep_the_canonical_names(ledger, fmt):
    response = reader("ru").get(f"/ledger/export.{fmt}")
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    text = body.decode()
    assert "Flour" in text and "Isfana" in text and "Sports Palace" in text
    assert "Мука" not in text and "Исфана" not in text and "Дворец" not in text


def test_a_page_of_entries_asks_for_names_once_however_many_entries(ledger):
    def queries() -> int:
        cache.clear()  # rows and name tables drawn afresh: what a page costs the first time
        with CaptureQueriesContext(connection) as captured:
            assert reader("ru").get("/ledger/").status_code == 200
        return len(captured)

    before = queries()
    for n in range(12):
        services.append(kind="dispatch", payload={
            "hub": HUB, "place": PLACE, "delivery": f"d-more-{n}", "items": [FLOUR],
        })  # fmt: skip
    assert queries() == before


def test_the_active_filter_names_the_hub_in_the_readers_language(ledger):
    response = reader("ru").get("/ledger/", {"hub": "sports-palace"})
    assert [label for _s, _r, label, _url in response.context["active_refs"]] == ["Дворец спорта"]


def test_the_entry_page_names_its_hub_place_and_goods_in_the_readers_language(ledger):
    dispatch = reader("ru").get("/ledger/5/").text
    assert "Дворец спорта</a>" in dispatch
    assert "Исфана</a>" in dispatch
    assert "<li>Мука:" in dispatch
