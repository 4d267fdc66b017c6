"""The member rules: nobody leaves a group without an active organiser, organisers are added
and removed by a superuser for now, every change is audited, a refusal writes nothing."""

import pytest
from django.core.exceptions import ValidationError

from aidhub.models import AuditEvent
from groups import queries, services
from groups.models import Group, Member, Role
from tests.factories import MemberFactory, UserFactory

pytestmark = pytest.mark.django_db


def organiser_row(group):
    return Member.objects.get(group=group, role=Role.ORGANISER)


def test_a_superuser_creates_a_group_with_its_first_organiser(superuser):
    dana = UserFactory(username="dana")
    group = services.group_create(
        name="Almaty initiative", slug="almaty", country="KZ", first_organiser=dana, by=superuser
    )
    assert queries.roles_in(dana, group) == {"organiser"}
    assert AuditEvent.objects.filter(actor=superuser, action="group created").exists()


def test_only_a_superuser_creates_a_group(organiser):
    with pytest.raises(ValidationError, match="Only a site administrator"):
        services.group_create(
            name="Mine", slug="mine", country="KG", first_organiser=organiser, by=organiser
        )
    assert not Group.objects.filter(slug="mine").exists()


def test_the_last_active_organiser_cannot_be_removed_or_demoted(almaty, organiser, superuser):
    row = organiser_row(almaty)
    with pytest.raises(ValidationError, match="last active organiser") as removed:
        services.member_remove(member=row, by=superuser)
    assert removed.value.code == "last_organiser"
    with pytest.raises(ValidationError, match="last active organiser"):
        services.member_change_role(member=row, role=Role.TREASURER, by=superuser)
    row.refresh_from_db()
    assert row.role == Role.ORGANISER
    assert not AuditEvent.objects.filter(action__startswith="member").exists()


def test_an_unreachable_organiser_does_not_count_as_the_other_active_one(
    almaty, organiser, superuser
):
    MemberFactory(group=almaty, role=Role.ORGANISER, unreachable=True)
    with pytest.raises(ValidationError, match="last active organiser"):
        services.member_remove(member=organiser_row_of(almaty, organiser), by=superuser)


def organiser_row_of(group, user):
    return Member.objects.get(group=group, user=user, role=Role.ORGANISER)


def test_with_a_second_organiser_a_superuser_may_remove_one(almaty, organiser, superuser):
    second = MemberFactory(group=almaty, role=Role.ORGANISER)
    services.member_remove(member=organiser_row_of(almaty, organiser), by=superuser)
    assert list(queries.active_organisers(almaty)) == [second]
    event = AuditEvent.objects.get(action="member removed")
    assert event.detail["role"] == "organiser" and event.actor == superuser


def test_an_organiser_cannot_add_or_remove_an_organiser_without_a_proposal(almaty, organiser):
    second = MemberFactory(group=almaty, role=Role.ORGANISER)
    with pytest.raises(ValidationError, match="second organiser's agreement") as exc:
        services.member_remove(member=second, by=organiser)
    assert exc.value.code == "organiser_change"
    with pytest.raises(ValidationError, match="second organiser's agreement"):
        services.member_add(group=almaty, user=UserFactory(), role=Role.ORGANISER, by=organiser)
    assert queries.active_organisers(almaty).count() == 2


def test_an_organiser_manages_the_other_roles_of_their_group(almaty, organiser, volunteer):
    services.member_change_role(member=volunteer, role=Role.TREASURER, by=organiser)
    services.member_set_unreachable(member=volunteer, unreachable=True, by=organiser)
    assert queries.roles_in(volunteer.user, almaty) == set()
    services.member_remove(member=volunteer, by=organiser)
    assert not Member.objects.filter(pk=volunteer.pk).exists()
    assert [e.action for e in AuditEvent.objects.order_by("created_at", "pk")] == [
        "member role changed",
        "member marked unreachable",
        "member removed",
    ]


def test_another_groups_organiser_changes_nothing(almaty, volunteer, other_organiser):
    by = other_organiser
    for change in (
        lambda: services.member_change_role(member=volunteer, role="treasurer", by=by),
        lambda: services.member_set_unreachable(member=volunteer, unreachable=True, by=by),
        lambda: services.member_remove(member=volunteer, by=by),
        lambda: services.member_add(group=almaty, user=by, role="volunteer", by=by),
    ):
        with pytest.raises(ValidationError, match="Only an organiser of Almaty initiative"):
            change()
    volunteer.refresh_from_db()
    assert (volunteer.role, volunteer.unreachable) == ("volunteer", False)
    assert not Member.objects.filter(user=other_organiser, group=almaty).exists()


def test_a_role_held_twice_is_refused_with_a_message(almaty, organiser, volunteer):
    with pytest.raises(ValidationError, match="already Volunteer of Almaty initiative"):
        services.member_add(group=almaty, user=volunteer.user, role="volunteer", by=organiser)
    MemberFactory(group=almaty, user=volunteer.user, role=Role.TREASURER)
    with pytest.raises(ValidationError, match="already Treasurer"):
        services.member_change_role(member=volunteer, role="treasurer", by=organiser)


def test_an_unreachable_organiser_loses_the_admin_and_the_money(almaty, organiser, superuser):
    second = MemberFactory(group=almaty, role=Role.ORGANISER)
    services.member_set_unreachable(
        member=organiser_row_of(almaty, organiser), unreachable=True, by=superuser
    )
    assert not queries.may_manage_members(organiser, almaty)
    assert list(queries.money_people(almaty)) == [second.user]
