"""Bad input to the public API: a clear 4xx, never a 500."""

import base64
from urllib.parse import quote, urlencode

import pytest

pytestmark = pytest.mark.django_db


def cursor(position: str, reverse: bool = False) -> str:
    """A cursor as DRF encodes it, with a position of our choosing."""
    tokens = {"p": position} | ({"r": "1"} if reverse else {})
    return base64.b64encode(urlencode(tokens).encode()).decode()


def test_unknown_query_parameters_are_ignored(client, demo):
    plain = client.get("/api/v1/hubs/").json()
    assert client.get("/api/v1/hubs/?colour=red&limit=5&page=2").json() == plain


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/v1/requests/?urgency=9", "urgency"),
        ("/api/v1/requests/?urgency=high", "urgency"),
        ("/api/v1/requests/?category=toys", "category"),
        ("/api/v1/hubs/?kind=castle", "kind"),
        ("/api/v1/ledger/entries/?kind=gift", "kind"),
        ("/api/v1/ledger/entries/?since=yesterday", "since"),
        ("/api/v1/ledger/entries/?since=0001-01-01", "since"),
        ("/api/v1/ledger/entries/?until=9999-12-31", "until"),
        ("/api/v1/ledger/entries/?fundraiser=Not%20A%20Slug", "fundraiser"),
        ("/api/v1/places/?region=" + "x" * 65, "region"),
        ("/api/v1/deliveries/?hub=%00", "hub"),
    ],
)
def test_a_filter_with_a_bad_value_is_a_400_naming_it(client, demo, url, field):
    response = client.get(url)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]
    assert response.json()["detail"].startswith(f"{field}: ")


@pytest.mark.parametrize(
    "value",
    [
        "garbage",
        quote(cursor("abc")),
        quote(cursor("1.5")),
        quote(cursor("--5")),
        quote(cursor("99999999999999999999999")),
        quote(base64.b64encode("p=٣".encode()).decode()),
    ],
)
def test_a_cursor_we_did_not_make_is_a_404(client, demo, value):
    response = client.get(f"/api/v1/ledger/entries/?cursor={value}")
    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid cursor"}


@pytest.mark.parametrize(
    "value",
    [quote(cursor("-1", reverse=True)), quote(base64.b64encode(b"o=99999999&p=3").decode())],
)
def test_an_odd_but_harmless_cursor_gives_a_page(client, demo, value):
    response = client.get(f"/api/v1/ledger/entries/?cursor={value}")
    assert response.status_code == 200
    assert "results" in response.json()


@pytest.mark.parametrize("url", ["/api/v1/hubs/%00/", "/api/v1/ledger/entries/?cursor=%00"])
def test_a_nul_byte_in_the_address_is_a_json_400(client, demo, url):
    response = client.get(url)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "NUL" in response.json()["detail"]


def test_a_slug_cursor_with_a_nul_byte_is_a_404(client, demo):
    response = client.get(f"/api/v1/hubs/?cursor={quote(cursor(chr(0)))}")
    assert response.status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/hubs/no-such-hub/",
        "/api/v1/places/" + "a" * 5000 + "/",
        "/api/v1/fundraisers/%D0%B0%D0%B9/",
        "/api/v1/ledger/entries/99999999999999999999999/",
        "/api/v1/ledger/entries/-1/",
        "/api/v1/deliveries/nope/",
        "/api/v1/nothing-here/",
    ],
)
def test_a_missing_object_or_path_is_a_json_404(client, demo, url):
    response = client.get(url)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"].startswith("Not found.")


def test_a_path_without_its_final_slash_says_where_to_go(client, demo):
    response = client.get("/api/v1/hubs")
    assert response.status_code == 404
    assert response.json()["detail"] == "Not found. Did you mean /api/v1/hubs/ ?"


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_writing_to_a_public_endpoint_is_a_405(client, demo, method):
    response = getattr(client, method)(
        "/api/v1/hubs/", '{"name": ', content_type="application/json"
    )
    assert response.status_code == 405
    assert response.json()["detail"]


def test_a_huge_body_to_a_public_endpoint_is_refused_unread(client, demo):
    response = client.generic(
        "POST", "/api/v1/fundraisers/", b"{" * 3_000_000, content_type="application/json"
    )
    assert response.status_code == 405


def test_an_unacceptable_accept_header_is_a_406(client, demo):
    response = client.get("/api/v1/hubs/", headers={"Accept": "text/csv"})
    assert response.status_code == 406


def test_errors_are_in_the_visitors_language(client, demo):
    response = client.get("/api/v1/hubs/nope/", headers={"Accept-Language": "ru"})
    assert response.status_code == 404
    assert response.json()["detail"] != "Not found."
