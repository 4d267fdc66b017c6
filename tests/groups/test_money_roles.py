"""One organiser cannot make their own second person (adversarial review of issue 15): while a
group has another organiser, making an account treasurer (added, invited or given the role) is
not one organiser's act, and marking the other organisers unreachable does not make an
organiser alone, so it opens no single-handed path. Every refusal says why and writes nothing."""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from groups import queries, services
from groups.models import Member, OrganiserChange, Role
from tests.factories import MemberFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.clock]


@pytest.fixture
def second(almaty, organiser):
    return MemberFactory(group=almaty, user=UserFactory(username="aigul"), role=Role.ORGANISER)


@pytest.fixture
def sock(almaty):
    return MemberFactory(group=almaty, user=UserFactory(username="sock"), role=Role.VOLUNTEER)


def money(group) -> set[str]:
    return set(queries.money_people(group).values_list("username", flat=True))


def test_with_a_second_organiser_one_cannot_make_a_member_treasurer(
    almaty, organiser, second, sock
):
    with pytest.raises(ValidationError, match="cannot make one"):
        services.member_change_role(member=sock, role=Role.TREASURER, by=organiser)
    with pytest.raises(ValidationError, match="cannot make one"):
        services.member_add(group=almaty, user=UserFactory(), role=Role.TREASURER, by=organiser)
    with pytest.raises(ValidationError, match="cannot make one"):
        services.member_invite(group=almaty, person="sock", role=Role.TREASURER, by=organiser)
    sock.refresh_from_db()
    assert sock.role == Role.VOLUNTEER and money(almaty) == {"dana", "aigul"}
    assert not mail.outbox


def test_marking_the_others_unreachable_opens_no_single_handed_path(
    almaty, organiser, second, sock
):
    treasurer = MemberFactory(group=almaty, user=UserFactory(username="saule"),
                              role=Role.TREASURER)  # fmt: skip
    services.member_set_unreachable(member=second, unreachable=True, by=organiser)
    services.member_set_unreachable(member=treasurer, unreachable=True, by=organiser)
    with pytest.raises(ValidationError, match="cannot make one"):
        services.member_change_role(member=sock, role=Role.TREASURER, by=organiser)
    proposal = services.organiser_propose(
        group=almaty, user=sock.user, change=OrganiserChange.Change.ADD, by=organiser
    )
    assert proposal.is_pending  # waits for a second organiser, who is unreachable
    assert money(almaty) == {"dana"}
    assert not Member.objects.filter(user=sock.user, role__in=[Role.ORGANISER, Role.TREASURER])


def test_a_groups_only_organiser_still_makes_its_first_treasurer_and_second_organiser(
    almaty, organiser, sock
):
    services.member_change_role(member=sock, role=Role.TREASURER, by=organiser)
    other = MemberFactory(group=almaty, user=UserFactory(username="aigul"), role=Role.VOLUNTEER)
    proposal = services.organiser_propose(
        group=almaty, user=other.user, change=OrganiserChange.Change.ADD, by=organiser
    )
    assert proposal.status == "approved"
    assert money(almaty) == {"dana", "sock", "aigul"}


def test_a_superuser_makes_a_treasurer_in_a_group_with_two_organisers(
    almaty, organiser, second, sock, superuser
):
    services.member_change_role(member=sock, role=Role.TREASURER, by=superuser)
    assert money(almaty) == {"dana", "aigul", "sock"}
