"""No public page names a person by their username: the fundraiser page shows the organiser's
public name when one is set, and nothing when not."""

import dataclasses
import io

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management import call_command
from django.urls import reverse

from donations.models import Fundraiser
from ledger.models import LedgerEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_without_public_names(media, monkeypatch):
    """The demo, seeded under usernames no public word contains and with no public name, so
    whatever the seeding wrote (ledger entries, cached pages) would show a leaked username."""
    from aidhub import demo

    usernames = {d.username: f"qzx{n}-{d.username}-acct" for n, d in enumerate(demo.DEMO_USERS)}
    monkeypatch.setattr(demo, "SEEDED_USERNAMES", usernames)
    monkeypatch.setattr(
        demo, "DEMO_USERS", [dataclasses.replace(d, first_name="") for d in demo.DEMO_USERS]
    )
    call_command("seed_demo", stdout=io.StringIO())
    seeded = set(get_user_model().objects.values_list("username", flat=True))
    assert set(usernames.values()) <= seeded
    return sorted(seeded)


def public_responses(client) -> dict[str, str]:
    urls = [reverse("donations:list"), reverse("ledger:list"), reverse("api:fundraisers")]
    urls += [reverse("ledger:export", args=["csv"]), reverse("ledger:export", args=["json"])]
    for slug in Fundraiser.objects.values_list("slug", flat=True):
        urls += [reverse("donations:fundraiser", args=[slug])]
        urls += [reverse("api:fundraiser", args=[slug])]
        urls += [f"{reverse('ledger:list')}?fundraiser={slug}"]
    for index in LedgerEntry.objects.values_list("index", flat=True):
        urls += [reverse("ledger:entry", args=[index]), reverse("api:ledger-entry", args=[index])]
    bodies = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        content = b"".join(response) if response.streaming else response.content
        bodies[url] = content.decode()
    return bodies


def test_no_username_appears_on_any_public_page_or_api_response(client, demo_without_public_names):
    bodies = public_responses(client)
    assert len(bodies) > 10
    leaks = [
        (url, name) for url, body in bodies.items() for name in demo_without_public_names
        if name in body
    ]  # fmt: skip
    assert not leaks


def test_the_fundraiser_page_names_the_organiser_only_by_their_public_name(
    client, demo_without_public_names
):
    fundraiser = Fundraiser.objects.select_related("organiser").first()
    page = client.get(fundraiser.get_absolute_url()).text
    assert "Organised by" not in page
    fundraiser.organiser.first_name = "Dana"
    fundraiser.organiser.save(update_fields=["first_name"])
    cache.clear()  # public pages are cached until the ledger grows
    assert "Organised by Dana" in client.get(fundraiser.get_absolute_url()).text
