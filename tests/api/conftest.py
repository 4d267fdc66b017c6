import io
from decimal import Decimal

import pytest
from django.core.management import call_command

from deliveries import services as delivery_services
from hubs import services as hub_services
from hubs.models import Membership
from tests.factories import (
    PASSWORD,
    HubFactory,
    ItemFactory,
    MembershipFactory,
    PlaceFactory,
    UserFactory,
)


@pytest.fixture
def demo(media):
    """The demo scenario: the Sports Palace, the Almaty fundraiser, Batken's requests, and
    deliveries in every state (one verified and published)."""
    call_command("seed_demo", stdout=io.StringIO())


def login(client, user) -> None:
    assert client.login(username=user.username, password=PASSWORD)


@pytest.fixture
def hub(db):
    return HubFactory(slug="sports-palace", name="Sports Palace")


@pytest.fixture
def flour(db):
    return ItemFactory()


@pytest.fixture
def coordinator(hub):
    return MembershipFactory(hub=hub, user=UserFactory(username="aigerim", is_staff=True)).user


@pytest.fixture
def volunteer(hub):
    return MembershipFactory(
        hub=hub, role=Membership.Role.VOLUNTEER, user=UserFactory(username="bakyt")
    ).user


@pytest.fixture
def other_volunteer(hub):
    return MembershipFactory(
        hub=hub, role=Membership.Role.VOLUNTEER, user=UserFactory(username="nurlan")
    ).user


@pytest.fixture
def outsider(db):
    return UserFactory(username="charlie")


def plan_delivery(hub, flour, coordinator, place_slug: str):
    hub_services.hub_receive_goods(hub=hub, lines=[(flour, Decimal("100"))], by=None)
    place = PlaceFactory(slug=place_slug, name=place_slug.title())
    return delivery_services.delivery_plan(
        hub=hub, place=place, lines=[(flour, Decimal("30"))], by=coordinator
    )


@pytest.fixture
def dispatched(hub, flour, coordinator, volunteer):
    """A delivery on the way with the standing volunteer."""
    delivery = plan_delivery(hub, flour, coordinator, "isfana")
    delivery_services.delivery_claim(delivery=delivery, volunteer=volunteer)
    delivery_services.delivery_dispatch(delivery=delivery, volunteer=volunteer)
    return delivery
