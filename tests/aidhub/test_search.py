"""The site search (/search/, aidhub/search.py): every kind by a name in any language, case
folded beyond ASCII on SQLite and PostgreSQL, bounded, refusing bad input, never personal."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from aidhub import search
from donations.models import Fundraiser
from hubs import services
from hubs.models import Place, SupplyRequest
from tests.factories import HubFactory, ItemFactory, PlaceFactory, UserFactory, organised_by

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    place = PlaceFactory(
        slug="isfana", name="Isfana", name_ru="Исфана", name_ky="Исфана шаары",
        name_uz="Isfana shahri",
    )  # fmt: skip
    hub = HubFactory(
        slug="sports-palace", name="Sports Palace", name_ru="Дворец спорта",
        name_ky="Спорт сарайы", name_uz="Sport saroyi",
    )  # fmt: skip
    water = ItemFactory(
        slug="water", name="Drinking water", name_ru="Питьевая вода", name_ky="Ичүүчү суу",
        name_uz="Ichimlik suvi", category="water", unit="litre",
    )  # fmt: skip
    request = services.request_create(
        hub=hub, place=place, lines=[(water, 100)], by=None,
        requester_contact="Zarina Tashieva +996 555 000 111",
    )  # fmt: skip
    organiser = UserFactory(username="zarina-organiser")
    fundraiser = Fundraiser.objects.create(
        slug="water-for-isfana", title="Вода для Исфаны", **organised_by(organiser),
        goal_amount=Decimal("100000"), currency="KGS", starts_on=timezone.localdate(),
    )  # fmt: skip
    return {"place": place, "hub": hub, "item": water, "request": request, "fundraiser": fundraiser}


def slugs(found: list) -> list[str]:
    return [getattr(row, "slug", None) or row.pk for row in found]


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        ("places", "Isfana", "isfana"),  # en
        ("places", "Исфана", "isfana"),  # ru
        ("places", "шаары", "isfana"),  # ky
        ("places", "shahri", "isfana"),  # uz (Latin)
        ("hubs", "sports palace", "sports-palace"),
        ("hubs", "Дворец", "sports-palace"),
        ("hubs", "сарайы", "sports-palace"),
        ("hubs", "saroyi", "sports-palace"),
        ("items", "drinking", "water"),
        ("items", "Питьевая", "water"),
        ("items", "Ичүүчү", "water"),
        ("items", "ichimlik", "water"),
        ("fundraisers", "Вода для", "water-for-isfana"),
    ],
)
def test_each_kind_is_found_by_its_name_in_any_language(world, kind, text, expected):
    assert slugs(getattr(search, kind)(text)) == [expected]


@pytest.mark.parametrize("text", ["Isfana", "исфана", "шаары", "shahri", "ичүүчү", "питьевая"])
def test_an_open_request_is_found_by_its_place_or_an_item_it_asks_for(world, text):
    assert slugs(search.requests(text)) == [world["request"].pk]


def test_a_request_no_longer_open_is_not_found(world):
    SupplyRequest.objects.filter(pk=world["request"].pk).update(
        status=SupplyRequest.Status.CANCELLED
    )
    assert search.requests("Isfana") == []
    assert slugs(search.places("Isfana")) == ["isfana"]  # the place itself still is


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("places", "исфана"),
        ("places", "ИСФАНА ШААРЫ"),
        ("hubs", "дворец спорта"),
        ("hubs", "СПОРТ САРАЙЫ"),
        ("items", "ичүүчү суу"),  # Kyrgyz ү, beyond Russian's alphabet
        ("fundraisers", "вода ДЛЯ исфаны"),
    ],
)
def test_cyrillic_is_matched_whatever_its_case(world, kind, text):
    """SQLite's LIKE folds ASCII only: "исфана" would miss "Исфана" with icontains there."""
    assert len(getattr(search, kind)(text)) == 1


def test_an_inactive_hub_is_not_found(world):
    world["hub"].is_active = False
    world["hub"].save()
    assert search.hubs("Sports") == []


def test_each_kind_answers_at_most_ten(world):
    for n in range(12):
        PlaceFactory(slug=f"kyzyl-{n}", name=f"Kyzyl-Kiya {n}")
    found = search.places("kyzyl")
    assert len(found) == search.PER_KIND == 10


def test_a_long_query_is_cut_to_a_hundred_characters():
    assert search.search_query("Ѯ" * 300) == "Ѯ" * 100
    assert search.search_query("  Isfana \u00a0 shahri  ") == "Isfana shahri"


@pytest.mark.parametrize("raw", ["a", " b ", "a\tb", "x\x7f", "Isfana\x1b[0m"])
def test_a_query_too_short_or_with_control_characters_is_refused(raw):
    with pytest.raises(ValidationError):
        search.search_query(raw)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("a", "Type at least 2 characters to search."),
        ("Isfana%09x", "A search cannot contain control characters"),
        ("Isfana%1B", "A search cannot contain control characters"),
        ("Isfana%00", "An address never contains a NUL character."),
    ],
)
def test_bad_input_is_a_400_that_says_why(client, world, query, message):
    response = client.get(f"/search/?q={query}")
    assert response.status_code == 400
    assert message in response.text


@pytest.mark.parametrize(
    "query", ["%ED%A0%80", "%FF%FE", "%25", "'%20OR%201=1%20--", ".*", "(", "\\"]
)
def test_odd_input_is_never_a_server_error(client, world, query):
    assert client.get(f"/search/?q={query}").status_code in (200, 400)


def test_regex_characters_are_matched_literally(world):
    assert search.places("Isf.na") == []
    assert search.places(".*") == []


def test_the_page_shows_each_name_in_the_readers_language_with_its_link(world):
    ru = Client(HTTP_ACCEPT_LANGUAGE="ru")
    text = ru.get("/search/?q=shahri").text
    assert '<a href="/places/isfana/">Исфана</a>' in text
    assert f'href="/places/isfana/#request-{world["request"].pk}">Исфана</a>' in text
    en = Client(HTTP_ACCEPT_LANGUAGE="en").get("/search/?q=Исфана").text
    assert '<a href="/places/isfana/">Isfana</a>' in en
    assert '<a href="/hubs/sports-palace/">' not in en


def test_an_empty_box_is_a_page_with_the_form(client):
    response = client.get("/search/")
    assert response.status_code == 200
    assert 'name="q"' in response.text
    assert "Nothing is named like" not in response.text


def test_nothing_found_says_so(client, world):
    assert "Nothing is named like “Tokmok”." in client.get("/search/?q=Tokmok").text


def test_no_personal_field_is_searched_or_shown(client, world):
    for text in ["Zarina", "Tashieva", "555 000", "+996"]:
        results = search.search(text)
        assert not results.found, text
    page = client.get("/search/?q=Isfana").text
    assert "555 000 111" not in page
    assert "Zarina" not in page
    assert "zarina-organiser" not in page


def test_the_page_is_not_cached(client, world):
    response = client.get("/search/?q=Isfana")
    assert "no-store" in response["Cache-Control"]


def test_the_header_has_a_search_box_that_works_without_javascript(client):
    text = client.get("/hubs/").text
    assert '<form method="get" action="/search/" role="search"' in text
    assert '<label class="visually-hidden" for="site-search">' in text


def test_a_search_makes_the_same_number_of_queries_however_much_it_finds(client, world):
    with CaptureQueriesContext(connection) as few:
        assert client.get("/search/?q=Isfana").status_code == 200
    water = world["item"]
    for n in range(12):
        place = PlaceFactory(slug=f"isfana-{n}", name=f"Isfana {n}")
        HubFactory(slug=f"isfana-hub-{n}", name=f"Isfana hub {n}")
        ItemFactory(slug=f"isfana-item-{n}", name=f"Isfana item {n}")
        services.request_create(hub=world["hub"], place=place, lines=[(water, 1)], by=None)
        Fundraiser.objects.create(
            slug=f"isfana-{n}", title=f"Isfana {n}", **organised_by(world["fundraiser"].organiser),
            goal_amount=Decimal("1"), currency="KGS", starts_on=timezone.localdate(),
        )  # fmt: skip
    with CaptureQueriesContext(connection) as many:
        response = client.get("/search/?q=Isfana")
    assert len(response.context["results"].requests) == 10
    assert len(many) == len(few)


@pytest.mark.limits
def test_searches_from_one_address_are_limited(client, settings):
    settings.AXES_ENABLED = False
    statuses = [client.get("/search/?q=Isfana").status_code for _ in range(31)]
    assert statuses[:30] == [200] * 30
    assert statuses[30] == 429


def test_a_translated_name_is_searched_in_every_language_column():
    assert search.name_columns(Place, "name") == [
        "name_en", "name_ru", "name_ky", "name_kk", "name_uz", "name_tg",
    ]  # fmt: skip
    assert search.name_columns(Place, "district") == ["district"]  # not translated


@pytest.mark.skipif(
    search.name_columns(Fundraiser, "title") == ["title"], reason="titles not translated yet"
)
def test_a_fundraiser_is_found_by_its_title_in_another_language(world):
    Fundraiser.objects.filter(pk=world["fundraiser"].pk).update(
        title_en="Water for Isfana", title_ky="Исфанага суу", title_uz="Isfanaga suv"
    )
    for text in ["water for", "ИСФАНАГА", "suv"]:
        assert slugs(search.fundraisers(text)) == ["water-for-isfana"], text
