"""What is drawn from an entry is kept in the cache (ledger_tags.entry_rows, {% fragment %}):
per language, until a name it shows is edited, it is reversed, or a file of it gets its
thumbnail; and the pages that show entries cost the same queries whatever the ledger holds."""

from unittest import mock

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client

from ledger import services
from ledger.models import Evidence
from tests.factories import HubFactory, ItemFactory, PlaceFactory

from . import scenario
from .factories import FLOUR, HUB, PLACE, donation

pytestmark = pytest.mark.django_db


@pytest.fixture
def ledger(media):
    ItemFactory(slug="flour", name="Flour", name_ru="Мука")
    HubFactory(slug="sports-palace", name="Sports Palace", name_ru="Дворец спорта")
    PlaceFactory(slug="isfana", name="Isfana", name_ru="Исфана")
    return scenario.build()


def visitor(language: str = "en") -> Client:
    """A visitor with a session cookie: the page is rendered, never served whole from the
    cache (aidhub.pagecache.public_page)."""
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.cookies[settings.SESSION_COOKIE_NAME] = "no-such-session"
    return client


def test_each_language_gets_its_own_rows(ledger):
    assert "Мука 50" in visitor("ru").get("/ledger/").text
    english = visitor("en").get("/ledger/").text
    assert "Flour 50" in english and "Мука" not in english
    assert "Мука 50" in visitor("ru").get("/ledger/").text


def test_a_name_edited_in_the_admin_shows_at_once(ledger):
    assert "Мука 50" in visitor("ru").get("/ledger/").text
    item = ledger_item()
    item.name_ru = "Мука пшеничная"
    item.save()
    text = visitor("ru").get("/ledger/").text
    assert "Мука пшеничная 50" in text
    assert "Мука пшеничная" in visitor("ru").get("/ledger/6/").text


def ledger_item():
    from hubs.models import Item

    return Item.objects.get(slug="flour")


def test_a_reversed_entry_gets_its_badge_at_once(ledger):
    services.append(kind="donation", payload=donation(amount="31.00"))
    index = services.tree_size() - 1
    row = entry_row(visitor().get("/ledger/").text, index)
    assert "reversed" not in row
    services.append(kind="correction", payload={"reverses": index, "reason": "typed twice"})
    assert "reversed" in entry_row(visitor().get("/ledger/").text, index)


def entry_row(page: str, index: int) -> str:
    start = page.index(f'href="/ledger/{index}/"')
    return page[start : page.index("</li>", start)]


def test_a_thumbnail_made_later_shows_on_the_row(ledger):
    photo = ledger["photos"][0]  # of the delivery; its thumbnail is made by a task, later
    assert not Evidence.objects.get(pk=photo.pk).thumbnail
    thumb = f"/ledger/evidence/{photo.sha256}/thumb"
    assert thumb not in visitor().get("/ledger/").text
    Evidence.objects.filter(pk=photo.pk).update(thumbnail=f"evidence/thumbs/{photo.sha256}.webp")
    services.append(kind="donation", payload=donation(amount="12.00"))  # the list is drawn again
    assert thumb in visitor().get("/ledger/").text


def test_rows_come_from_the_cache_the_second_time(ledger):
    visitor("ru").get("/ledger/")
    services.append(kind="donation", payload=donation(amount="13.00"))  # the list is drawn again
    with mock.patch("ledger.templatetags.ledger_tags.render_to_string") as render:
        render.return_value = "<li>new</li>"
        text = visitor("ru").get("/ledger/").text
    assert render.call_count == 1  # only the new entry's row
    assert "Мука 50" in text


def test_pages_work_when_the_cache_is_down(ledger):
    broken = mock.patch.multiple(
        cache,
        get=mock.Mock(side_effect=ConnectionError("down")),
        get_many=mock.Mock(side_effect=ConnectionError("down")),
        set=mock.Mock(side_effect=ConnectionError("down")),
        set_many=mock.Mock(side_effect=ConnectionError("down")),
        delete=mock.Mock(side_effect=ConnectionError("down")),
    )
    with broken:
        for url in ["/ledger/", "/ledger/6/", "/places/isfana/", "/needs/", "/gaps/", "/"]:
            response = visitor("ru").get(url)
            assert response.status_code == 200, url
        assert "Мука 50" in visitor("ru").get("/ledger/").text
        services.append(kind="donation", payload=donation(amount="14.00"))
        assert "14.00 KZT" in visitor().get("/ledger/").text


def more_entries(count: int) -> None:
    for n in range(count):
        services.append(kind="dispatch", payload={
            "hub": HUB, "place": PLACE, "delivery": f"d-many-{n}", "items": [FLOUR],
        })  # fmt: skip


@pytest.mark.parametrize("url", ["/ledger/", "/ledger/5/", "/places/isfana/"])
def test_a_page_costs_the_same_queries_for_10_or_100_entries(
    ledger, url, django_assert_max_num_queries
):
    def count() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        cache.clear()  # drawn afresh
        with CaptureQueriesContext(connection) as fresh:
            assert visitor("ru").get(url).status_code == 200
        with CaptureQueriesContext(connection) as cached:
            assert visitor("ru").get(url).status_code == 200
        return len(fresh), len(cached)

    more_entries(1)  # 10 entries
    ten = count()
    more_entries(90)  # 100 entries
    with django_assert_max_num_queries(ten[0]):
        cache.clear()
        visitor("ru").get(url)
    fresh, cached = count()
    assert fresh <= ten[0] and cached == ten[1]
    assert ten[1] <= 2  # from the cache: the session, and the entry on its own page
