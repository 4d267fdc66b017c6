"""Organiser changes in the admin: an organiser proposes one among their own group's members,
a second organiser approves it with the list's action, through the same services; outsiders
see nothing and a refusal is shown and writes nothing."""

import pytest

from groups import queries
from groups.models import Member, OrganiserChange, Role
from tests.factories import PASSWORD, MemberFactory, UserFactory

pytestmark = pytest.mark.django_db
CHANGES = "/admin/groups/organiserchange/"


def signed_in(client, user):
    client.logout()
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def second(almaty, organiser):
    user = UserFactory(username="aigul", is_staff=True)
    return MemberFactory(group=almaty, user=user, role=Role.ORGANISER)


def test_an_organiser_proposes_and_a_second_approves_in_the_admin(
    client, almaty, organiser, second, volunteer
):
    form = signed_in(client, organiser).get(f"{CHANGES}add/")
    assert "bakyt" in form.text
    response = client.post(
        f"{CHANGES}add/",
        {"group": almaty.pk, "user": volunteer.user.pk, "change": "add", "new_role": ""},
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    proposal = OrganiserChange.objects.get()
    assert proposal.is_pending and not queries.may_manage_members(volunteer.user, almaty)
    refused = client.post(CHANGES, {"action": "approve", "_selected_action": [proposal.pk]},
                          follow=True)  # fmt: skip
    assert "cannot approve your own proposal" in refused.text
    signed_in(client, second.user).post(
        CHANGES, {"action": "approve", "_selected_action": [proposal.pk]}
    )
    assert queries.may_manage_members(volunteer.user, almaty)


def test_the_admin_form_lists_no_account_outside_the_group(
    client, almaty, organiser, other_organiser
):
    UserFactory(username="stranger")
    form = signed_in(client, organiser).get(f"{CHANGES}add/")
    assert "stranger" not in form.text and "zarina" not in form.text
    response = client.post(
        f"{CHANGES}add/", {"group": almaty.pk, "user": other_organiser.pk, "change": "add"}
    )
    assert response.status_code == 200 and not OrganiserChange.objects.exists()


def test_a_refused_proposal_is_shown_on_the_form_and_writes_nothing(
    client, almaty, organiser, second
):
    response = signed_in(client, organiser).post(
        f"{CHANGES}add/",
        {"group": almaty.pk, "user": organiser.pk, "change": "demote", "new_role": ""},
    )
    assert response.status_code == 200 and "Choose the role" in response.text
    assert not OrganiserChange.objects.exists()


def test_a_rejection_in_the_admin_needs_a_reason(client, almaty, organiser, second):
    from groups import services

    proposal = services.organiser_propose(
        group=almaty, user=second.user, change="remove", by=organiser
    )
    signed_in(client, second.user)
    page = client.post(CHANGES, {"action": "reject", "_selected_action": [proposal.pk],
                                 "reason": ""}, follow=True)  # fmt: skip
    assert "Say why" in page.text
    client.post(CHANGES, {"action": "reject", "_selected_action": [proposal.pk],
                          "reason": "I stay"})  # fmt: skip
    proposal.refresh_from_db()
    assert proposal.status == "rejected" and Member.objects.filter(pk=second.pk).exists()


def test_another_groups_organiser_sees_no_proposal_and_cannot_decide_one(
    client, almaty, organiser, second, other_organiser
):
    from groups import services

    proposal = services.organiser_propose(
        group=almaty, user=second.user, change="remove", by=organiser
    )
    signed_in(client, other_organiser)
    assert client.get(f"{CHANGES}{proposal.pk}/change/").status_code == 302  # not found
    assert "aigul" not in client.get(CHANGES).text
    client.post(CHANGES, {"action": "approve", "_selected_action": [proposal.pk]})
    proposal.refresh_from_db()
    assert proposal.is_pending


def test_any_organiser_marks_another_organiser_unreachable_from_the_member_list(
    client, almaty, organiser, second
):
    signed_in(client, organiser).post(
        "/admin/groups/member/", {"action": "mark_unreachable", "_selected_action": [second.pk]}
    )
    second.refresh_from_db()
    assert second.unreachable
    own = Member.objects.get(user=organiser, group=almaty)
    page = client.post(
        "/admin/groups/member/",
        {"action": "mark_unreachable", "_selected_action": [own.pk]},
        follow=True,
    )
    assert "last active organiser" in page.text
    own.refresh_from_db()
    assert not own.unreachable
