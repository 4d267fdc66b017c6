"""Group scoping across the site and the admin: a group's people see its hubs, fundraisers and
members, and nothing of another group's, not even by a typed id."""

from datetime import date
from decimal import Decimal

import pytest

from deliveries import services as deliveries
from donations.models import Fundraiser
from groups.models import Role
from tests.factories import (
    HubFactory,
    ItemFactory,
    MemberFactory,
    PlaceFactory,
    UserFactory,
    stock,
)
from tests.groups.test_admin import signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def fundraiser(almaty, organiser):
    return Fundraiser.objects.create(
        slug="almaty-for-batken", title="Almaty for Batken", organiser=organiser, group=almaty,
        goal_amount=Decimal(100), currency="KZT", starts_on=date(2026, 11, 1),
    )  # fmt: skip


def test_an_organiser_links_only_their_groups_hubs_to_a_fundraiser(
    client, almaty, batken, organiser, fundraiser
):
    HubFactory(group=almaty, name="Almaty warehouse")
    linked = HubFactory(group=batken, name="Sports Palace")
    HubFactory(group=batken, name="Ala-Too tent")
    fundraiser.hubs.add(linked)  # by a superuser
    page = signed_in(client, organiser).get(f"/admin/donations/fundraiser/{fundraiser.pk}/change/")
    assert page.status_code == 200
    assert "Almaty warehouse" in page.text and "Sports Palace" in page.text
    assert "Ala-Too tent" not in page.text
    assert 'name="group"' not in page.text  # its group is a superuser's to set


def test_an_organiser_adds_ways_to_pay_only_to_their_groups_fundraisers(
    client, almaty, batken, organiser, fundraiser, other_organiser
):
    Fundraiser.objects.create(
        slug="batken-winter", title="Batken winter", organiser=other_organiser, group=batken,
        goal_amount=Decimal(100), currency="KGS", starts_on=date(2026, 11, 1),
    )  # fmt: skip
    page = signed_in(client, organiser).get("/admin/donations/paymentmethod/add/")
    assert "Almaty for Batken" in page.text and "Batken winter" not in page.text


def test_another_groups_organiser_sees_nothing_of_this_fundraiser(
    client, fundraiser, other_organiser
):
    signed_in(client, other_organiser)
    admin = client.get(f"/admin/donations/fundraiser/{fundraiser.pk}/change/", follow=True)
    assert "Almaty for Batken" not in admin.text
    assert client.get(f"/fundraisers/{fundraiser.slug}/manage/").status_code == 404


def test_a_group_coordinator_runs_their_groups_hubs_and_no_other(client, batken, almaty):
    coordinator = UserFactory(username="aigerim", is_staff=True)
    MemberFactory(group=batken, user=coordinator, role=Role.COORDINATOR)
    ours, theirs = HubFactory(group=batken), HubFactory(group=almaty)
    signed_in(client, coordinator)
    assert client.get(f"/hubs/{ours.slug}/manage/").status_code == 200
    assert client.get(f"/hubs/{theirs.slug}/manage/").status_code == 404
    # Not in their admin either: the admin answers as for a row that does not exist.
    assert client.get(f"/admin/hubs/hub/{theirs.pk}/change/").status_code == 302
    assert client.get(f"/admin/hubs/hub/{ours.pk}/change/").status_code == 200


def test_a_group_coordinator_filters_deliveries_by_their_groups_people_only(client, batken, almaty):
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    coordinator = UserFactory(username="aigerim", is_staff=True)
    MemberFactory(group=batken, user=coordinator, role=Role.COORDINATOR)
    ours = MemberFactory(group=batken, user=UserFactory(username="bakyt-ours"), role="volunteer")
    stranger = MemberFactory(group=almaty, user=UserFactory(username="zarina-theirs"))
    flour = ItemFactory()
    for group, volunteer in ((batken, ours.user), (almaty, stranger.user)):
        hub = HubFactory(group=group)
        stock(hub, flour, "10")
        delivery = deliveries.delivery_plan(
            hub=hub, place=PlaceFactory(), lines=[(flour, Decimal(1))], by=root
        )
        deliveries.delivery_claim(delivery=delivery, volunteer=volunteer)
    page = signed_in(client, coordinator).get("/admin/deliveries/delivery/")
    assert page.status_code == 200
    assert "bakyt-ours" in page.text and "zarina-theirs" not in page.text
