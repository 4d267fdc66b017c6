"""Item, hub and place names in the reader's language (django-modeltranslation), English
when a translation is empty, and English wherever the name is canonical (the ledger)."""

import pytest
from django.test import Client
from django.utils import translation

from hubs import services
from hubs.models import Hub, Item
from ledger import queries as ledger_queries
from tests.factories import HubFactory, ItemFactory, PlaceFactory, UserFactory, stock

pytestmark = pytest.mark.django_db


@pytest.fixture
def hub():
    return HubFactory(
        slug="sports-palace",
        name="Sports Palace",
        name_ru="Дворец спорта",
        name_ky="Спорт сарайы",
        opening_hours="Every day, 08:00–22:00",
        opening_hours_ru="Каждый день, 08:00–22:00",
    )


@pytest.fixture
def flour():
    return ItemFactory(name="Flour", name_ru="Мука", name_ky="Ун", name_kk="")


@pytest.fixture
def isfana():
    return PlaceFactory(slug="isfana", name="Isfana", name_ru="Исфана", name_ky="Исфана")


def reader(language: str) -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE=language)


@pytest.mark.parametrize(
    ("language", "item", "place"), [("ru", "Мука", "Исфана"), ("ky", "Ун", "Исфана")]
)
def test_needs_board_names_items_and_places_in_the_readers_language(
    hub, flour, isfana, language, item, place
):
    services.request_create(hub=hub, place=isfana, lines=[(flour, 100)], by=None, urgency=1)
    text = reader(language).get("/needs/").text
    assert f"{item}: 100" in text
    assert place in text
    assert "Flour" not in text


@pytest.mark.parametrize(("language", "name"), [("ru", "Дворец спорта"), ("ky", "Спорт сарайы")])
def test_hub_page_shows_its_name_and_surplus_items_in_the_readers_language(
    hub, flour, language, name
):
    hub.surplus_items.add(flour)
    text = reader(language).get("/hubs/sports-palace/").text
    assert f'<h1 class="h3">{name}</h1>' in text
    assert ("Мука" if language == "ru" else "Ун") in text


def test_an_empty_translation_falls_back_to_english(hub, flour):
    hub.surplus_items.add(flour)
    text = reader("kk").get("/hubs/sports-palace/").text  # no Kazakh names at all
    assert '<h1 class="h3">Sports Palace</h1>' in text
    assert "Flour" in text
    # Russian opening hours, none in Kyrgyz: each field falls back on its own.
    assert "Каждый день" in reader("ru").get("/hubs/sports-palace/").text
    assert "Every day, 08:00–22:00" in reader("ky").get("/hubs/sports-palace/").text
    with translation.override("tg"):
        assert str(flour) == "Flour" == flour.name


def test_names_written_while_another_language_is_active_keep_english_canonical(db):
    with translation.override("ky"):
        rice = Item.objects.create(slug="rice", name="Rice", category="food", unit="kg")
    rice.refresh_from_db()
    assert rice.name_en == "Rice" == rice.canonical_name


def test_ledger_payloads_keep_the_english_names_whatever_the_writer_reads(hub, flour, isfana):
    coordinator = UserFactory()
    stock(hub, flour, "500")
    with translation.override("ky"):
        index = services.stock_dispatch(
            hub=hub, place=isfana, lines=[(flour, 200)], by=coordinator, reference="d-1"
        )
    payload = ledger_queries.entry_view(index).payload
    assert payload["hub"]["name"] == "Sports Palace"
    assert payload["place"]["name"] == "Isfana"
    assert payload["items"][0]["name"] == "Flour"


def test_coordinators_edit_translations_in_the_admin(client):
    ItemFactory(name="Flour", name_ru="Мука")
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    item = Item.objects.get(slug="flour")
    url = f"/admin/hubs/item/{item.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    for language in ("en", "ru", "ky", "kk", "uz", "tg"):
        assert f'name="name_{language}"' in page.text
    assert '<script src="http' not in page.text  # plain fields, no assets from elsewhere
    response = client.post(url, {
        "slug": "flour", "name_en": "Flour", "name_ru": "Мука", "name_ky": "Ун",
        "name_kk": "Ұн", "name_uz": "", "name_tg": "", "category": "food", "unit": "kg",
    })  # fmt: skip
    assert response.status_code == 302, response.content
    item.refresh_from_db()
    assert (item.name_en, item.name_ky, item.name_kk) == ("Flour", "Ун", "Ұн")
    hub_page = client.get(f"/admin/hubs/hub/{HubFactory().pk}/change/")
    assert 'name="name_ky"' in hub_page.text and 'name="address_ru"' in hub_page.text
    assert Hub.objects.count() == 1
