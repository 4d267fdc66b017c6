"""Fuzzing the pages: every URL pattern outside the admin (the API's own operations are
fuzzed against their schema in tests/api/test_schemathesis.py), each path parameter and the
query parameters pages read, filled with real demo values and with NUL bytes, huge and
negative numbers, odd Unicode and broken percent-encoding. No answer may be a server error.

Runs in the normal suite, on SQLite and (CI) on PostgreSQL, where NUL bytes matter most. The
demo is seeded once; every pattern first gets the fixed nasty values, then Hypothesis draws
a bounded number of combinations (derandomized, so a failure shows again on the next run)."""

import re
from io import StringIO
from urllib.parse import quote

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deliveries.models import Delivery
from donations.models import Donation, Expense, Fundraiser
from hubs.models import Hub, Place
from ledger.models import Evidence, LedgerEntry, ReceiptCode
from notifications.models import Subscription

pytestmark = pytest.mark.django_db

# Raw text, percent-encoded before use, and already-encoded (or deliberately broken) pieces.
NASTY = [
    "\x00",
    "a\x00b",
    "99999999999999999999",
    "-1",
    "-99999999999999999999",
    "0",
    "1e309",
    "NaN",
    "\u202e\u200f",  # right-to-left override and mark
    "\U0001f642\U0001f3f3\ufe0f\u200d\U0001f308",  # emoji, with a zero-width joiner
    "e\u0301\u0301\u0301\u0301",  # combining marks
    "\ufeff",
    "Ѯ" * 300,
    "x" * 5000,
    "../../etc/passwd",
    "<script>",
    "' OR 1=1 --",
    " ",
]
ENCODED = ["%ED%A0%80", "%F0%9F", "%zz", "%", "%00", "%C0%AF", "%FF%FE"]
# What pages and the verifiers' endpoints read from the query string.
QUERY_KEYS = [
    "code", "page", "cursor", "fundraiser", "q", "lang", "next", "size", "index", "tree_size",
    "first", "second", "start",
]  # fmt: skip
PARAM = re.compile(r"<(?:(?P<conv>[^>:]+):)?(?P<name>[^>]+)>|\(\?P<(?P<rname>\w+)>[^)]*\)")


def _routes() -> list[tuple[str, str]]:
    """(name, route) for every pattern outside the admin, its prefixes joined."""
    found: list[tuple[str, str]] = []

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            route = str(pattern.pattern).removeprefix("^").removesuffix("$").removesuffix(r"\Z")
            if isinstance(pattern, URLResolver):
                if pattern.app_name != "admin":
                    walk(pattern.url_patterns, prefix + route)
            elif isinstance(pattern, URLPattern):
                found.append((pattern.name or route, prefix + route))

    walk(get_resolver().url_patterns, "/")
    return found


ROUTES = _routes()


def _fill(route: str, value_for) -> str:
    return PARAM.sub(lambda m: value_for(m.group("name") or m.group("rname")), route)


def _encode(value: str) -> str:
    return value if value in ENCODED else quote(value, safe="")


@pytest.fixture
def demo_values(settings, tmp_path) -> dict[str, list[str]]:
    """Real values for each parameter name, from the demo."""
    settings.MEDIA_ROOT = tmp_path
    call_command("seed_demo", stdout=StringIO())
    receipts = list(ReceiptCode.objects.values_list("code", flat=True)[:3])
    values = {
        "slug": [
            *Hub.objects.values_list("slug", flat=True)[:3],
            *Place.objects.values_list("slug", flat=True)[:3],
            *Fundraiser.objects.values_list("slug", flat=True)[:3],
            *Delivery.objects.values_list("slug", flat=True)[:3],
        ],
        "hub_slug": list(Hub.objects.values_list("slug", flat=True)[:3]),
        "index": [str(i) for i in LedgerEntry.objects.values_list("index", flat=True)[:3]],
        "pk": [
            *(str(pk) for pk in Donation.objects.values_list("pk", flat=True)[:2]),
            *(str(pk) for pk in Expense.objects.values_list("pk", flat=True)[:2]),
        ],
        "code": receipts[:3],
        "sha256": list(Evidence.objects.values_list("sha256", flat=True)[:3]),
        "token": list(Subscription.objects.values_list("token", flat=True)[:3]),
        "fmt": ["csv", "json", "jsonl"],
        "fundraiser": list(Fundraiser.objects.values_list("slug", flat=True)[:3]),
        "page": ["1", "2"],
        "lang": ["ru", "ky"],
    }
    return {name: [v for v in found if v] or ["x"] for name, found in values.items()}


def _get(client, url: str) -> int:
    response = client.get(url)
    assert response.status_code < 500, url
    return response.status_code


def test_every_page_takes_nasty_values_in_every_parameter(client, demo_values):
    for _name, route in ROUTES:
        for nasty in ["\x00", "99999999999999999999", "%ED%A0%80"]:
            _get(client, _fill(route, lambda _param, v=nasty: _encode(v)))
        # Every query parameter at once; Hypothesis tries them one by one and mixed.
        real = _fill(route, lambda param: quote(demo_values.get(param, ["x"])[0], safe=""))
        for nasty in ["\x00", "99999999999999999999", "-1", "%ED%A0%80", "\u202e"]:
            _get(client, real + "?" + "&".join(f"{key}={_encode(nasty)}" for key in QUERY_KEYS))


@pytest.fixture
def clients(demo_values) -> list[Client]:
    """Signed out, and signed in as the demo's coordinator, organiser and volunteer."""
    signed_in = []
    for username in ["coordinator", "organizer", "volunteer"]:
        signed_in.append(Client())
        signed_in[-1].force_login(get_user_model().objects.get(username=username))
    return [Client(), *signed_in]


def test_hypothesis_finds_no_server_error_on_any_page(clients, demo_values):
    raw = st.one_of(
        st.sampled_from(NASTY),
        st.integers(min_value=-(10**30), max_value=10**30).map(str),
        st.text(max_size=40),  # any code point, surrogates included, percent-encoded
    )
    value = st.one_of(raw.map(_encode), st.sampled_from(ENCODED))

    @st.composite
    def urls(draw) -> str:
        _name, route = draw(st.sampled_from(ROUTES))

        def param(name: str) -> str:
            real = demo_values.get(name, ["x"])
            return draw(st.one_of(st.sampled_from(real).map(lambda v: quote(v, safe="")), value))

        path = _fill(route, param)
        query = draw(st.dictionaries(st.sampled_from(QUERY_KEYS), value, max_size=3))
        return path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")

    @settings(
        max_examples=200,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(client=st.sampled_from(clients), url=urls())
    def no_server_error(client: Client, url: str) -> None:
        _get(client, url)

    no_server_error()
