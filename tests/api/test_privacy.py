"""The API publishes only what the site already publishes: walking every public endpoint on
the demo data finds none of the private values the database holds."""

import json

import pytest
from django.contrib.auth import get_user_model

from deliveries.models import Delivery, Handover, ProofOfDelivery, ProofPhoto
from donations.models import Donation
from hubs.models import SupplyRequest

pytestmark = pytest.mark.django_db

LISTS = [
    "/api/v1/hubs/",
    "/api/v1/places/",
    "/api/v1/requests/",
    "/api/v1/fundraisers/",
    "/api/v1/deliveries/",
    "/api/v1/ledger/entries/",
]


def private_values() -> dict[str, set[str]]:
    """What must never be published, as substrings, and as exact JSON strings (short values
    such as the username "volunteer" also occur inside public words)."""
    users = get_user_model().objects.all()
    pending = ProofPhoto.objects.exclude(proof__review=ProofOfDelivery.Review.APPROVED)
    substrings = {
        *SupplyRequest.objects.values_list("requester_contact", flat=True),
        *Donation.objects.values_list("donor_contact", flat=True),
        *Donation.objects.values_list("bank_reference", flat=True),
        *users.values_list("email", flat=True),
        *users.values_list("first_name", flat=True),
        *users.values_list("last_name", flat=True),
        *Delivery.objects.values_list("vehicle_note", flat=True),
        *ProofOfDelivery.objects.values_list("note", flat=True),
        *Handover.objects.values_list("code", flat=True),
        *Handover.objects.values_list("confirmed_role", flat=True),
        *pending.values_list("evidence_sha256", flat=True),
    }
    exact = {json.dumps(name) for name in users.values_list("username", flat=True)}
    return {"substrings": {v for v in substrings if v}, "exact": exact}


def public_bodies(client) -> dict[str, str]:
    """Every list page (following `next`) and the detail of every object they name."""
    bodies: dict[str, str] = {}
    pending = list(LISTS)
    while pending:
        url = pending.pop()
        if url in bodies:
            continue
        response = client.get(url)
        assert response.status_code == 200, url
        bodies[url] = response.content.decode()
        data = response.json()
        if "results" in data:
            pending += [data["next"]] if data["next"] else []
            for row in data["results"]:
                base = url.split("?")[0]
                key = row.get("slug", row.get("index"))
                if key is not None and "requests" not in base:
                    pending.append(f"{base}{key}/")
    return bodies


def test_no_private_value_appears_in_any_public_response(client, demo):
    secrets = private_values()
    assert "village head, by phone" in secrets["substrings"]
    assert "friends@example.org" in secrets["substrings"]
    assert "white Porter van" in secrets["substrings"]
    assert len(secrets["exact"]) == 6  # the demo accounts
    bodies = public_bodies(client)
    assert len(bodies) > 30
    leaks = [
        (url, value)
        for url, body in bodies.items()
        for value in secrets["substrings"] | secrets["exact"]
        if value in body
    ]
    assert not leaks


def test_the_schema_names_no_private_field(client):
    schema = client.get("/api/schema/?format=json").content.decode()
    for field in (
        "requester_contact", "donor_contact", "bank_reference", "created_by", "organiser",
        "volunteer", "vehicle_note", "email", "username",
    ):  # fmt: skip
        assert f'"{field}"' not in schema
