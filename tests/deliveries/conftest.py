from decimal import Decimal

import pytest

from hubs import services as hub_services
from hubs.models import Membership
from tests.factories import HubFactory, ItemFactory, MembershipFactory, PlaceFactory, UserFactory


@pytest.fixture
def hub(db):
    return HubFactory(slug="sports-palace", name="Sports Palace")


@pytest.fixture
def flour(db):
    return ItemFactory()


@pytest.fixture
def stocked(hub, flour):
    hub_services.hub_receive_goods(hub=hub, lines=[(flour, Decimal("100"))], by=None)
    return hub


@pytest.fixture
def place(db):
    return PlaceFactory(slug="isfana", name="Isfana")


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
