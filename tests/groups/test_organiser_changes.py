"""Organisers add, remove and demote each other only with a second organiser's agreement; a
group's only organiser may add a second one alone; any organiser marks another unreachable at
once, never the last one; unmarking needs a second organiser when there is one. Every refusal
says why and writes nothing."""

import pytest
from django.core.exceptions import ValidationError

from aidhub.models import AuditEvent
from groups import queries, services
from groups.models import Member, OrganiserChange, Role
from tests.factories import MemberFactory, UserFactory

pytestmark = pytest.mark.django_db
Change = OrganiserChange.Change


@pytest.fixture
def second(almaty, organiser):
    return MemberFactory(group=almaty, user=UserFactory(username="aigul"), role=Role.ORGANISER)


def organisers(group) -> set[str]:
    return {m.user.username for m in queries.active_organisers(group).select_related("user")}


def test_an_organiser_is_removed_only_when_a_second_one_approves(almaty, organiser, second):
    third = MemberFactory(group=almaty, user=UserFactory(username="timur"), role=Role.ORGANISER)
    proposal = services.organiser_propose(
        group=almaty, user=third.user, change=Change.REMOVE, by=organiser
    )
    assert proposal.is_pending and organisers(almaty) == {"dana", "aigul", "timur"}
    services.organiser_approve(proposal=proposal, by=second.user)
    proposal.refresh_from_db()
    assert proposal.status == "approved" and proposal.decided_by == second.user
    assert organisers(almaty) == {"dana", "aigul"}
    assert AuditEvent.objects.filter(action="organiser change made", actor=second.user).exists()


def test_a_member_is_made_organiser_with_a_second_organisers_agreement(
    almaty, organiser, second, volunteer
):
    proposal = services.organiser_propose(
        group=almaty, user=volunteer.user, change=Change.ADD, by=organiser
    )
    assert "bakyt" not in organisers(almaty)
    services.organiser_approve(proposal=proposal, by=second.user)
    assert "bakyt" in organisers(almaty)
    assert queries.roles_in(volunteer.user, almaty) == {"organiser", "volunteer"}


def test_a_demoted_organiser_keeps_the_role_chosen_instead(almaty, organiser, second):
    proposal = services.organiser_propose(
        group=almaty, user=second.user, change=Change.DEMOTE, new_role="treasurer", by=organiser
    )
    services.organiser_approve(proposal=proposal, by=second.user)
    assert queries.roles_in(second.user, almaty) == {"treasurer"}


def test_the_only_organiser_adds_a_second_one_alone(almaty, organiser, volunteer):
    proposal = services.organiser_propose(
        group=almaty, user=volunteer.user, change=Change.ADD, by=organiser
    )
    assert proposal.status == "approved" and proposal.decided_by == organiser
    assert organisers(almaty) == {"dana", "bakyt"}


def test_the_only_organiser_cannot_remove_or_demote_another_alone_nor_themself(
    almaty, organiser, second
):
    proposal = services.organiser_propose(
        group=almaty, user=second.user, change=Change.REMOVE, by=organiser
    )
    assert proposal.is_pending  # two active organisers: the second must agree
    services.organiser_reject(proposal=proposal, by=second.user, reason="I stay")
    Member.objects.filter(pk=second.pk).update(unreachable=True)
    for change, role in ((Change.REMOVE, ""), (Change.DEMOTE, "volunteer")):
        with pytest.raises(ValidationError, match="last active organiser"):
            services.organiser_propose(
                group=almaty, user=organiser, change=change, new_role=role, by=organiser
            )
    assert OrganiserChange.objects.count() == 1
    assert organisers(almaty) == {"dana"}


def test_own_approval_outsiders_and_non_organisers_are_refused(
    almaty, organiser, second, volunteer, other_organiser, superuser
):
    proposal = services.organiser_propose(
        group=almaty, user=second.user, change=Change.REMOVE, by=organiser
    )
    for by, message in (
        (organiser, "cannot approve your own proposal"),
        (other_organiser, "Only an active organiser of Almaty initiative"),
        (volunteer.user, "Only an active organiser of Almaty initiative"),
        (superuser, "Only an active organiser of Almaty initiative"),
    ):
        with pytest.raises(ValidationError, match=message):
            services.organiser_approve(proposal=proposal, by=by)
    with pytest.raises(ValidationError, match="Only an active organiser"):
        services.organiser_propose(
            group=almaty, user=volunteer.user, change=Change.ADD, by=other_organiser
        )
    proposal.refresh_from_db()
    assert proposal.is_pending and organisers(almaty) == {"dana", "aigul"}


def test_an_approval_is_checked_again_and_decided_once(almaty, organiser, second):
    proposal = services.organiser_propose(
        group=almaty, user=second.user, change=Change.REMOVE, by=organiser
    )
    # Meanwhile the proposer became unreachable: removing the other would leave nobody.
    services.member_set_unreachable(
        member=Member.objects.get(user=organiser, group=almaty), unreachable=True,
        by=second.user,
    )  # fmt: skip
    with pytest.raises(ValidationError, match="last active organiser"):
        services.organiser_approve(proposal=proposal, by=second.user)
    proposal.refresh_from_db()
    assert proposal.is_pending
    services.organiser_reject(proposal=proposal, by=second.user, reason="Dana is gone")
    with pytest.raises(ValidationError, match="already rejected"):
        services.organiser_approve(proposal=proposal, by=second.user)
    with pytest.raises(ValidationError, match="already decided"):
        services._organiser_change_decide(proposal, by=second.user, status="approved")


def test_a_rejection_needs_a_reason_and_bad_proposals_say_why(almaty, organiser, second, volunteer):
    proposal = services.organiser_propose(
        group=almaty, user=second.user, change=Change.REMOVE, by=organiser
    )
    with pytest.raises(ValidationError, match="Say why"):
        services.organiser_reject(proposal=proposal, by=second.user, reason="  ")
    with pytest.raises(ValidationError, match="already waits"):
        services.organiser_propose(group=almaty, user=second.user, change=Change.DEMOTE,
                                   new_role="volunteer", by=organiser)  # fmt: skip
    cases = (
        (second.user, Change.ADD, "", "already an organiser"),
        (UserFactory(username="stranger"), Change.ADD, "", "not an active member"),
        (volunteer.user, Change.REMOVE, "", "not an organiser"),
        (organiser, Change.DEMOTE, "organiser", "Choose the role"),
        (organiser, Change.REACHABLE, "", "not marked unreachable"),
    )
    for user, change, role, message in cases:
        with pytest.raises(ValidationError, match=message):
            services.organiser_propose(
                group=almaty, user=user, change=change, new_role=role, by=organiser
            )
    assert OrganiserChange.objects.count() == 1


def test_any_organiser_marks_another_unreachable_at_once_but_never_the_last(
    almaty, organiser, second, volunteer
):
    services.member_set_unreachable(member=second, unreachable=True, by=organiser)
    assert organisers(almaty) == {"dana"}
    assert AuditEvent.objects.filter(action="member marked unreachable").count() == 1
    row = Member.objects.get(user=organiser, group=almaty)
    with pytest.raises(ValidationError, match="last active organiser") as exc:
        services.member_set_unreachable(member=row, unreachable=True, by=organiser)
    assert exc.value.code == "last_organiser"
    row.refresh_from_db()
    assert not row.unreachable
    with pytest.raises(ValidationError, match="Only an organiser"):
        services.member_set_unreachable(member=row, unreachable=True, by=volunteer.user)


def test_the_last_organiser_is_not_marked_unreachable_by_a_superuser_either(
    almaty, organiser, superuser
):
    row = Member.objects.get(user=organiser, group=almaty)
    with pytest.raises(ValidationError, match="last active organiser"):
        services.member_set_unreachable(member=row, unreachable=True, by=superuser)
    assert not AuditEvent.objects.exists()


def test_unmarking_an_organiser_needs_a_second_organiser_when_there_is_one(
    almaty, organiser, second
):
    third = MemberFactory(group=almaty, user=UserFactory(username="timur"), role=Role.ORGANISER)
    services.member_set_unreachable(member=third, unreachable=True, by=organiser)
    with pytest.raises(ValidationError, match="second organiser's agreement"):
        services.member_set_unreachable(member=third, unreachable=False, by=organiser)
    proposal = services.organiser_propose(
        group=almaty, user=third.user, change=Change.REACHABLE, by=organiser
    )
    third.refresh_from_db()
    assert third.unreachable and proposal.is_pending
    services.organiser_approve(proposal=proposal, by=second.user)
    assert organisers(almaty) == {"dana", "aigul", "timur"}


def test_the_only_active_organiser_unmarks_another_alone(almaty, organiser, second):
    services.member_set_unreachable(member=second, unreachable=True, by=organiser)
    services.member_set_unreachable(member=second, unreachable=False, by=organiser)
    assert organisers(almaty) == {"dana", "aigul"}
    assert AuditEvent.objects.filter(action="member reachable again", actor=organiser).exists()
