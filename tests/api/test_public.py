"""The public, read-only API on the demo data."""

import hashlib
import json

import pytest

from api.pagination import Cursor
from deliveries.models import Delivery
from donations.models import Fundraiser
from donations.queries import totals
from hubs.models import SupplyRequest
from ledger.models import LedgerEntry
from ledger.queries import Filters, filtered_entries
from tests.factories import organised_by

pytestmark = pytest.mark.django_db

FUNDRAISER = "almaty-for-batken-2022"


def results(client, url: str) -> list[dict]:
    """Every row of a list, following the cursor's `next` links."""
    rows: list[dict] = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        rows += response.json()["results"]
        url = response.json()["next"]
    return rows


def test_hubs_lists_the_active_hubs_with_what_they_accept(client, demo):
    hubs = {hub["slug"]: hub for hub in results(client, "/api/v1/hubs/")}
    assert len(hubs) == 4
    palace = hubs["sports-palace"]
    assert palace["kind"] == "central" and palace["region"]["slug"] == "bishkek"
    assert "food" in palace["accepts"]
    assert client.get("/api/v1/hubs/sports-palace/").json() == palace


def test_hubs_filter_by_kind(client, demo):
    rows = results(client, "/api/v1/hubs/?kind=collection_point")
    assert len(rows) == 3 and {row["kind"] for row in rows} == {"collection_point"}


def test_an_inactive_hub_is_not_in_the_api(client, demo):
    from hubs.models import Hub

    Hub.objects.filter(slug="dordoi-point").update(is_active=False)
    assert "dordoi-point" not in {h["slug"] for h in results(client, "/api/v1/hubs/")}
    assert client.get("/api/v1/hubs/dordoi-point/").status_code == 404


def test_places_filter_by_region(client, demo):
    rows = results(client, "/api/v1/places/?region=osh")
    assert rows and {row["region"]["slug"] for row in rows} == {"osh"}
    isfana = client.get("/api/v1/places/isfana/").json()
    assert isfana["region"]["slug"] == "batken" and isfana["last_delivery_at"].endswith("Z")


def test_requests_lists_only_open_ones(client, demo):
    ids = {row["id"] for row in results(client, "/api/v1/requests/")}
    open_ids = set(
        SupplyRequest.objects.filter(status__in=["open", "partly_fulfilled"]).values_list(
            "id", flat=True
        )
    )
    assert ids == open_ids
    assert SupplyRequest.objects.get(place__slug="isfana").id not in ids  # fulfilled


@pytest.mark.parametrize(
    ("query", "places"),
    [
        ("region=osh", {"nookat"}),
        ("place=ak-sai", {"ak-sai"}),
        ("category=medical", {"ak-sai"}),
        ("urgency=1", {"ak-sai", "batken-school-3"}),
        ("urgency=1&category=baby", {"batken-school-3"}),
    ],
)
def test_requests_filter_by_region_place_category_and_urgency(client, demo, query, places):
    rows = results(client, f"/api/v1/requests/?{query}")
    assert {row["place"]["slug"] for row in rows} == places


def test_a_fundraiser_shows_raised_spent_and_balance_from_totals(client, demo):
    fundraiser = Fundraiser.objects.get(slug=FUNDRAISER)
    expected = totals(fundraiser)
    body = client.get(f"/api/v1/fundraisers/{FUNDRAISER}/").json()
    assert body["totals"]["raised"] == f"{expected.raised:.2f}"
    assert body["totals"]["spent"] == f"{expected.spent:.2f}"
    assert body["totals"]["balance"] == f"{expected.balance:.2f}"
    assert body["totals"]["raised_by_currency"] == {
        "GBP": "500.00",
        "KGS": "150000.00",
        "KZT": "2500000.00",
        "USD": "1000.00",
    }
    assert body["totals"]["currency"] == "KZT" and body["totals"]["donations"] == 4


def test_the_fundraiser_list_gives_the_same_sums_as_the_detail(client, demo):
    # Every fundraiser of the demo: one passed money on to another group's, which received it.
    for listed in results(client, "/api/v1/fundraisers/"):
        detail = client.get(f"/api/v1/fundraisers/{listed['slug']}/").json()
        for field in ("raised", "spent", "balance", "goal"):
            assert listed[field] == detail["totals"][field], (listed["slug"], field)


def test_the_fundraiser_list_takes_the_same_queries_for_one_or_many(
    client, demo, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        client.get("/api/v1/fundraisers/")
    base = Fundraiser.objects.get(slug=FUNDRAISER)
    before = Fundraiser.objects.count()
    for n in range(3):
        Fundraiser.objects.create(
            slug=f"more-{n}",
            title=f"More {n}",
            **organised_by(base.organiser),
            goal_amount=100,
            currency="KGS",
            starts_on=base.starts_on,
        )
    with django_assert_num_queries(len(one)):
        assert len(client.get("/api/v1/fundraisers/").json()["results"]) == before + 3


def test_deliveries_lists_only_verified_ones_as_their_ledger_entry_says(client, demo):
    rows = results(client, "/api/v1/deliveries/")
    published = Delivery.objects.filter(status="verified").order_by("-ledger_index")
    assert Delivery.objects.count() > published.count() == 2
    assert [row["slug"] for row in rows] == [d.slug for d in published]
    # The Batken purchase went straight to Kulundu: no hub, the index of its expense entry.
    direct = published.get(hub__isnull=True)
    assert rows[0]["hub"] is None and rows[0]["expense"] == direct.expense.ledger_index
    verified = published.get(hub__isnull=False)  # from the Sports Palace to Isfana
    row = rows[1]
    assert row["hub"]["slug"] == "sports-palace" and row["expense"] is None
    entry = json.loads(bytes(LedgerEntry.objects.get(index=verified.ledger_index).leaf))
    assert row["ledger_index"] == verified.ledger_index
    assert row["people"] == entry["payload"]["people"] == 340
    assert row["confirmed_by_recipient"] is True
    assert row["delivered_at"] == entry["payload"]["delivered_at"]
    assert [url.rsplit("/", 1)[1] for url in row["evidence"]] == entry["payload"]["evidence"]
    assert all(client.get(url).status_code == 200 for url in row["evidence"])
    assert client.get(f"/api/v1/deliveries/{verified.slug}/").json() == row


def test_an_unverified_delivery_is_a_404(client, demo):
    pending = Delivery.objects.get(status="delivered")
    assert client.get(f"/api/v1/deliveries/{pending.slug}/").status_code == 404


def test_ledger_entries_of_a_fundraiser_are_those_of_the_ledger_page(client, demo):
    rows = results(client, f"/api/v1/ledger/entries/?fundraiser={FUNDRAISER}")
    expected = filtered_entries(Filters(fundraiser=FUNDRAISER)).order_by("-index")
    assert [row["index"] for row in rows] == list(expected.values_list("index", flat=True))


def test_ledger_entries_carry_their_signed_content_and_leaf_hash(client, demo):
    row = client.get("/api/v1/ledger/entries/0/").json()
    entry = LedgerEntry.objects.get(index=0)
    leaf = json.loads(bytes(entry.leaf))
    assert (row["kind"], row["time"], row["payload"]) == (
        leaf["kind"],
        leaf["time"],
        leaf["payload"],
    )
    assert row["leaf_hash"] == hashlib.sha256(b"\x00" + bytes(entry.leaf)).hexdigest()


def test_a_corrected_entry_names_the_correction_that_reverses_it(client, demo):
    correction = LedgerEntry.objects.get(kind="correction")
    row = client.get(f"/api/v1/ledger/entries/{correction.reverses_id}/").json()
    assert row["reversed_by"] == correction.index


@pytest.mark.parametrize(
    ("query", "kinds"),
    [("kind=expense", {"expense"}), ("hub=sports-palace&kind=delivery", {"delivery"})],
)
def test_ledger_entries_filter_by_kind_and_hub(client, demo, query, kinds):
    rows = results(client, f"/api/v1/ledger/entries/?{query}")
    assert rows and {row["kind"] for row in rows} == kinds


def test_following_next_walks_the_whole_ledger_newest_first(client, demo, monkeypatch):
    monkeypatch.setattr(Cursor, "page_size", 4)
    first = client.get("/api/v1/ledger/entries/").json()
    assert len(first["results"]) == 4 and first["previous"] is None
    indexes = [row["index"] for row in results(client, "/api/v1/ledger/entries/")]
    assert indexes == sorted(LedgerEntry.objects.values_list("index", flat=True), reverse=True)


def test_previous_goes_back_one_page(client, demo, monkeypatch):
    monkeypatch.setattr(Cursor, "page_size", 4)
    first = client.get("/api/v1/ledger/entries/").json()
    second = client.get(first["next"]).json()
    assert client.get(second["previous"]).json()["results"] == first["results"]


def test_the_verifiers_ledger_endpoints_still_answer_as_before(client, demo):
    response = client.get("/api/ledger/entries?start=0&end=2")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/jsonl")
    assert len(response.content.splitlines()) == 2
    assert client.get("/api/ledger/checkpoint").status_code == 200
    assert client.get("/api/ledger/entries?start=x").json() == {
        "error": "start must be a non-negative whole number"
    }
