"""A coordinator in the admin never sees a list of the site's accounts, and cannot make anyone
a coordinator: only members of their own hubs are listed, volunteers are invited by exact name
(tests/hubs/test_invitations.py)."""

from decimal import Decimal

import pytest

from deliveries import services as deliveries
from hubs.models import Membership
from tests.factories import (
    PASSWORD,
    HubFactory,
    ItemFactory,
    MembershipFactory,
    PlaceFactory,
    UserFactory,
    stock,
)

pytestmark = pytest.mark.django_db

ADD = "/admin/hubs/membership/add/"


@pytest.fixture
def root():
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def hub():
    return HubFactory(slug="sports-palace", name="Sports Palace")


@pytest.fixture
def coordinator(hub):
    user = UserFactory(username="aigerim-coord", is_staff=True)
    MembershipFactory(user=user, hub=hub, role=Membership.Role.COORDINATOR)
    return user


@pytest.fixture
def member(hub):
    return MembershipFactory(
        user=UserFactory(username="bakyt-member", email="bakyt@example.kg"),
        hub=hub,
        role=Membership.Role.VOLUNTEER,
    ).user


@pytest.fixture
def outsider(root):
    """A volunteer of another hub, with a delivery of their own there."""
    other = HubFactory(slug="ala-too", name="Ala-Too tent")
    user = MembershipFactory(
        user=UserFactory(username="zarina-outsider", email="zarina@example.kz"),
        hub=other,
        role=Membership.Role.VOLUNTEER,
    ).user
    flour = ItemFactory()
    stock(other, flour, "10")
    delivery = deliveries.delivery_plan(
        hub=other, place=PlaceFactory(), lines=[(flour, Decimal(1))], by=root
    )
    deliveries.delivery_claim(delivery=delivery, volunteer=user)
    return user


@pytest.fixture
def as_coordinator(client, coordinator):
    assert client.login(username=coordinator.username, password=PASSWORD)
    return client


def test_the_delivery_list_filters_by_the_hubs_own_people_only(
    as_coordinator, hub, member, outsider, root
):
    flour = ItemFactory(slug="rice")
    stock(hub, flour, "10")
    delivery = deliveries.delivery_plan(
        hub=hub, place=PlaceFactory(slug="isfana"), lines=[(flour, Decimal(1))], by=root
    )
    deliveries.delivery_claim(delivery=delivery, volunteer=member)
    page = as_coordinator.get("/admin/deliveries/delivery/")
    assert page.status_code == 200
    assert "bakyt-member" in page.text  # the hub's own volunteer, in the list and the filter
    assert "zarina-outsider" not in page.text


def test_a_superuser_filters_deliveries_by_anyone(client, outsider):
    assert client.login(username="root", password=PASSWORD)
    assert "zarina-outsider" in client.get("/admin/deliveries/delivery/").text


def test_the_membership_form_lists_no_accounts(as_coordinator, member, outsider):
    page = as_coordinator.get(ADD)
    assert page.status_code == 200
    assert "zarina-outsider" not in page.text and "bakyt-member" not in page.text
    assert 'name="person"' in page.text and 'name="user"' not in page.text
    assert 'value="coordinator"' not in page.text


def test_a_coordinator_cannot_make_an_outsider_a_coordinator(as_coordinator, hub, outsider):
    for data in (
        {"person": outsider.username, "hub": hub.pk, "role": "coordinator"},
        {"user": outsider.pk, "hub": hub.pk, "role": "coordinator"},  # the superuser's form
    ):
        response = as_coordinator.post(ADD, data)
        assert response.status_code == 200
    assert not Membership.objects.filter(user=outsider, hub=hub).exists()


def test_a_coordinator_cannot_promote_a_volunteer(as_coordinator, hub, member):
    membership = Membership.objects.get(user=member)
    url = f"/admin/hubs/membership/{membership.pk}/change/"
    page = as_coordinator.get(url)
    assert page.status_code == 200 and 'value="coordinator"' not in page.text
    response = as_coordinator.post(url, {"hub": hub.pk, "role": "coordinator"})
    assert response.status_code == 200
    membership.refresh_from_db()
    assert membership.role == "volunteer"


def test_a_coordinator_cannot_remove_another_coordinator(as_coordinator, hub):
    other = MembershipFactory(hub=hub, role=Membership.Role.COORDINATOR)
    url = f"/admin/hubs/membership/{other.pk}/"
    changed = as_coordinator.post(f"{url}change/", {"hub": hub.pk, "role": "volunteer"})
    assert changed.status_code == 403
    assert as_coordinator.post(f"{url}delete/", {"post": "yes"}).status_code == 403
    other.refresh_from_db()
    assert other.role == "coordinator"


def test_a_superuser_still_names_coordinators(client, hub, outsider):
    assert client.login(username="root", password=PASSWORD)
    response = client.post(ADD, {"user": outsider.pk, "hub": hub.pk, "role": "coordinator"})
    assert response.status_code == 302
    assert Membership.objects.filter(user=outsider, hub=hub, role="coordinator").exists()
