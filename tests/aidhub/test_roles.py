"""The header knows the person, and each role lands on its own page after login."""

import pytest
from django.urls import reverse

from deliveries.models import Delivery
from donations.models import Fundraiser
from tests.factories import (
    PASSWORD,
    HubFactory,
    MembershipFactory,
    PlaceFactory,
    UserFactory,
    organised_by,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def hub(coordinator):
    hub = HubFactory(slug="sports-palace", name="Sports Palace")
    MembershipFactory(user=coordinator, hub=hub, role="coordinator")
    return hub


@pytest.fixture
def fundraiser(db):
    from datetime import date
    from decimal import Decimal

    return Fundraiser.objects.create(
        slug="almaty", title="Almaty for Batken", **organised_by(UserFactory(username="dana")),
        currency="KZT", goal_amount=Decimal(1000), starts_on=date(2026, 11, 1),
    )  # fmt: skip


def _login(client, user):
    return client.post(reverse("login"), {"username": user.username, "password": PASSWORD})


def test_a_coordinator_lands_on_their_hub_and_the_header_links_plan_verify_and_admin(
    client, coordinator, hub
):
    response = _login(client, coordinator)
    assert response.headers["Location"] == reverse("start")
    assert client.get(reverse("start")).headers["Location"] == reverse(
        "hubs:manage", args=[hub.slug]
    )
    page = client.get(reverse("hubs:list")).text
    assert reverse("deliveries:plan", args=[hub.slug]) in page
    assert reverse("deliveries:awaiting") in page
    assert 'href="/admin/"' in page


def test_an_organiser_lands_on_their_fundraiser_and_sees_no_coordinator_links(client, fundraiser):
    organiser = fundraiser.organiser
    organiser.set_password(PASSWORD)
    organiser.save()
    _login(client, organiser)
    manage = reverse("donations:manage", args=[fundraiser.slug])
    assert client.get(reverse("start")).headers["Location"] == manage
    page = client.get(reverse("hubs:list")).text
    assert manage in page
    assert reverse("deliveries:awaiting") not in page and 'href="/admin/"' not in page


def test_a_volunteer_lands_on_my_deliveries(client, volunteer, coordinator, hub):
    Delivery.objects.create(slug="d1", hub=hub, place=PlaceFactory(), volunteer=volunteer,
                            status="claimed")  # fmt: skip
    _login(client, volunteer)
    assert client.get(reverse("start")).headers["Location"] == reverse("deliveries:mine")
    page = client.get(reverse("hubs:list")).text
    assert reverse("deliveries:mine") in page
    assert reverse("deliveries:plan", args=[hub.slug]) not in page


def test_a_coordinator_of_many_hubs_costs_the_same_queries_as_of_one(
    client, coordinator, hub, django_assert_num_queries
):
    client.force_login(coordinator)
    client.get(reverse("hubs:list"))
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        client.get(reverse("hubs:list"))
    for _ in range(4):
        MembershipFactory(user=coordinator, hub=HubFactory(), role="coordinator")
    # New hubs forget the cached hub list (hubs.freshness): draw it once, as `one` was drawn.
    client.get(reverse("hubs:list"))
    with CaptureQueriesContext(connection) as five:
        page = client.get(reverse("hubs:list")).text
    assert len(five) == len(one)
    assert page.count("Plan a delivery") == 5


def test_an_outsider_sees_none_of_another_hubs_links(client, outsider, hub):
    client.force_login(outsider)
    page = client.get(reverse("hubs:list")).text
    assert reverse("hubs:manage", args=[hub.slug]) not in page
    assert reverse("deliveries:awaiting") not in page
