"""The group rules (groups.queries) and the rules routed through them: who acts for a
fundraiser, who coordinates and serves which hub, whom a coordinator sees listed."""

from datetime import date
from decimal import Decimal

import pytest

from aidhub.security import needs_two_factor
from donations.models import Fundraiser
from donations.queries import may_organise, organised_fundraisers, supplied_hubs
from groups import queries
from groups.models import Role
from hubs.queries import coordinated_hubs, hub_people, served_hubs
from tests.factories import (
    GroupFactory,
    HubFactory,
    MemberFactory,
    MembershipFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def almaty():
    return GroupFactory(slug="almaty", name="Almaty initiative", country="KZ")


@pytest.fixture
def batken():
    return GroupFactory(slug="batken", name="Batken volunteers")


def member(group, role, username=None, **fields):
    user = UserFactory(username=username) if username else UserFactory()
    return MemberFactory(group=group, user=user, role=role, **fields).user


def fundraiser(group, started_by):
    return Fundraiser.objects.create(
        slug=f"f-{group.slug}", title="Almaty for Batken", organiser=started_by, group=group,
        goal_amount=Decimal(100), currency="KZT", starts_on=date(2026, 11, 1),
    )  # fmt: skip


def test_an_unreachable_member_holds_no_role(almaty):
    reachable = member(almaty, Role.ORGANISER)
    arrested = member(almaty, Role.ORGANISER, unreachable=True)
    assert queries.roles_in(reachable, almaty) == {"organiser"}
    assert queries.roles_in(arrested, almaty) == set()
    assert list(queries.money_people(almaty)) == [reachable]


def test_money_people_are_the_active_organisers_and_treasurers(almaty):
    organiser = member(almaty, Role.ORGANISER)
    treasurer = member(almaty, Role.TREASURER)
    member(almaty, Role.COORDINATOR)
    member(almaty, Role.VOLUNTEER)
    gone = member(almaty, Role.TREASURER)
    gone.is_active = False
    gone.save()
    assert set(queries.money_people(almaty)) == {organiser, treasurer}


def test_a_treasurer_acts_for_the_groups_fundraiser_and_its_starter_alone_does_not(almaty, batken):
    treasurer = member(almaty, Role.TREASURER)
    starter = UserFactory()  # started it, holds no role in the group (any more)
    other_organiser = member(batken, Role.ORGANISER)
    f = fundraiser(almaty, started_by=starter)
    assert may_organise(treasurer, f)
    assert not may_organise(starter, f)
    assert not may_organise(other_organiser, f)
    assert list(organised_fundraisers(treasurer)) == [f]
    assert not organised_fundraisers(other_organiser).exists()


def test_a_group_coordinator_coordinates_every_hub_of_the_group_only(batken, almaty):
    coordinator = member(batken, Role.COORDINATOR)
    organiser = member(batken, Role.ORGANISER)
    treasurer = member(batken, Role.TREASURER)
    ours = [HubFactory(group=batken), HubFactory(group=batken)]
    HubFactory(group=almaty)
    assert set(coordinated_hubs(coordinator)) == set(ours)
    assert set(coordinated_hubs(organiser)) == set(ours)
    assert not coordinated_hubs(treasurer).exists()


def test_a_hub_coordinator_keeps_only_their_hub(batken):
    hub, other = HubFactory(group=batken), HubFactory(group=batken)
    coordinator = MembershipFactory(hub=hub).user
    assert list(coordinated_hubs(coordinator)) == [hub]
    assert other not in served_hubs(coordinator)


def test_a_group_volunteer_serves_every_hub_of_the_group_and_coordinates_none(batken, almaty):
    volunteer = member(batken, Role.VOLUNTEER)
    ours = HubFactory(group=batken)
    theirs = HubFactory(group=almaty)
    assert list(served_hubs(volunteer)) == [ours]
    assert theirs not in served_hubs(volunteer)
    assert not coordinated_hubs(volunteer).exists()


def test_a_coordinator_sees_listed_only_the_people_of_their_groups_and_hubs(batken, almaty):
    coordinator = member(batken, Role.COORDINATOR)
    colleague = member(batken, Role.VOLUNTEER)
    hub = HubFactory(group=almaty)
    hub_coordinator = MembershipFactory(hub=hub).user
    hub_volunteer = MembershipFactory(hub=hub, role="volunteer").user
    outsider = member(almaty, Role.ORGANISER)
    UserFactory()  # in no group
    assert set(hub_people(coordinator)) == {coordinator, colleague}
    assert set(hub_people(hub_coordinator)) == {hub_coordinator, hub_volunteer}
    assert outsider not in hub_people(hub_coordinator)
    assert not hub_people(colleague).exists()  # a volunteer sees no list


def test_purchases_go_only_into_the_groups_hubs_or_the_linked_ones(almaty, batken):
    f = fundraiser(almaty, started_by=member(almaty, Role.ORGANISER))
    own = HubFactory(group=almaty)
    linked = HubFactory(group=batken)
    unlinked = HubFactory(group=batken)
    f.hubs.add(linked)
    assert set(supplied_hubs(f)) == {own, linked}
    assert unlinked not in supplied_hubs(f)


def test_organisers_and_treasurers_must_use_two_factor_even_without_a_fundraiser(almaty):
    assert needs_two_factor(member(almaty, Role.TREASURER))
    assert needs_two_factor(member(almaty, Role.ORGANISER))
    assert not needs_two_factor(member(almaty, Role.VOLUNTEER))
