"""Public pages served whole from the cache to visitors without a session (aidhub.pagecache)."""

import pytest
from django.contrib.messages import constants
from django.contrib.messages.storage.base import Message
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse

from aidhub.pagecache import public_page
from ledger import bulk, services
from tests.ledger import scenario
from tests.ledger.factories import donation

pytestmark = pytest.mark.django_db


@pytest.fixture
def ledger(media):
    return scenario.build()


def test_a_visitor_without_a_session_gets_the_ledger_page_from_the_cache(
    client, ledger, django_assert_num_queries
):
    first = client.get("/ledger/")
    with django_assert_num_queries(0):  # the ledger's version is kept for a moment too
        again = client.get("/ledger/")
    assert again.content == first.content
    assert "#8 " in again.text
    # Nothing in the page is the visitor's own: no CSRF token, no cookie.
    assert not first.cookies and not again.cookies
    assert "csrfmiddlewaretoken" not in first.text


def test_a_new_entry_or_checkpoint_shows_at_once(client, ledger):
    client.get("/ledger/")
    services.append(kind="donation", payload=donation(amount="77.00"))
    assert "77.00 KZT" in client.get("/ledger/").text
    assert "covers 10 entries" not in client.get("/ledger/").text
    services.checkpoint_sign()
    assert "covers 10 entries" in client.get("/ledger/").text


def test_entries_appended_in_bulk_show_at_once(client, ledger):
    client.get("/ledger/")
    bulk.append_chunk([("donation", donation(amount="88.00"), None)])
    assert "88.00 KZT" in client.get("/ledger/").text


def test_every_language_and_address_has_its_own_copy(client, ledger):
    english = client.get("/ledger/", headers={"accept-language": "en"})
    russian = client.get("/ledger/", headers={"accept-language": "ru"})
    assert 'lang="en"' in english.text and 'lang="ru"' in russian.text
    assert "Cookie" in russian["Vary"] and "Accept-Language" in russian["Vary"]
    assert "#0 " not in client.get("/ledger/?kind=expense").text


def test_a_logged_in_user_never_gets_the_shared_copy(client, ledger, coordinator):
    shared = client.get("/ledger/")
    client.force_login(coordinator)
    own = client.get("/ledger/")
    assert coordinator.get_username() in own.text
    assert coordinator.get_username() not in shared.text
    assert "ETag" not in own


def test_a_visitor_with_a_message_waiting_sees_it(client, ledger):
    client.get("/ledger/")
    storage = CookieStorage(None)
    client.cookies[storage.cookie_name] = storage._encode([Message(constants.INFO, "Thank you!")])
    assert "Thank you!" in client.get("/ledger/").text


def test_a_phone_that_has_the_page_gets_an_empty_304_until_the_ledger_grows(client, ledger):
    first = client.get("/ledger/")
    again = client.get("/ledger/", headers={"if-none-match": first["ETag"]})
    assert (again.status_code, again.content) == (304, b"")
    services.append(kind="donation", payload=donation(amount="77.00"))
    grown = client.get("/ledger/", headers={"if-none-match": first["ETag"]})
    assert grown.status_code == 200 and grown["ETag"] != first["ETag"]


def test_the_etag_is_of_the_bytes_so_a_new_release_is_never_answered_with_304(rf):
    body = ["the old template"]

    @public_page(lambda: "the same ledger")
    def page(request):
        return HttpResponse(body[0])

    first = page(rf.get("/page/"))
    cache.clear()  # a deploy: the cached copy expires, the template is new
    body[0] = "the new template"
    again = page(rf.get("/page/", headers={"if-none-match": first["ETag"]}))
    assert (again.status_code, again.content) == (200, b"the new template")


def test_a_page_that_sets_a_cookie_or_fails_is_never_stored(rf):
    rendered = []

    @public_page(lambda: 1)
    def form(request):
        rendered.append(request.path)
        response = HttpResponse("a form")
        response.set_cookie("csrftoken", "token")
        return response

    @public_page(lambda: 1)
    def missing(request):
        rendered.append(request.path)
        return HttpResponse("gone", status=404)

    for _ in range(2):
        form(rf.get("/form/"))
        missing(rf.get("/missing/"))
    assert rendered == ["/form/", "/missing/"] * 2


def test_the_language_changes_without_a_csrf_token(ledger):
    client = Client(enforce_csrf_checks=True)
    assert 'lang="en"' in client.get("/ledger/").text
    response = client.post(reverse("set_language"), {"language": "ky", "next": "/ledger/"})
    assert response.status_code == 302
    assert 'lang="ky"' in client.get("/ledger/").text


def test_a_cache_that_is_down_slows_the_pages_but_breaks_nothing(client, ledger, settings):
    settings.CACHES = {  # nothing listens on port 1: every call fails at once
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    assert client.get("/ledger/").status_code == 200
    services.append(kind="donation", payload=donation(amount="77.00"))
    assert "77.00 KZT" in client.get("/ledger/").text
