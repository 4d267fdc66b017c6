"""An organiser invites a person by username or e-mail: the admin answers the same whether or
not an account has it, and nobody joins until they accept the e-mailed one-time link."""

import re

import pytest
from django.core import mail

from aidhub import invitations
from aidhub.models import AuditEvent
from groups.models import Member, Role
from tests.factories import PASSWORD, UserFactory
from tests.groups.test_admin import signed_in

pytestmark = pytest.mark.django_db

ADD = "/admin/groups/member/add/"


@pytest.fixture
def aigerim(db):
    return UserFactory(username="aigerim", email="aigerim@example.kg")


def invite(client, group, person, role="coordinator"):
    return client.post(ADD, {"person": person, "group": group.pk, "role": role}, follow=True)


def invitation_path(message) -> str:
    (link,) = re.findall(r"https?://\S+/groups/invitations/\S+/", message.body)
    return "/" + link.split("/", 3)[3]


def test_an_existing_and_a_missing_account_get_the_same_answer(
    client, almaty, organiser, aigerim, django_capture_on_commit_callbacks
):
    signed_in(client, organiser)
    with django_capture_on_commit_callbacks(execute=True):
        existing = invite(client, almaty, "AIGERIM@example.kg")
        missing = invite(client, almaty, "nobody@example.kg")
    assert existing.redirect_chain == missing.redirect_chain == [("/admin/groups/member/", 302)]
    said = [[str(m) for m in r.context["messages"]] for r in (existing, missing)]
    assert said[0] == said[1] and "an invitation is on its way" in said[0][0]
    assert [m.to for m in mail.outbox] == [["aigerim@example.kg"]]
    assert "Almaty initiative" in mail.outbox[0].subject
    assert not Member.objects.filter(user=aigerim).exists()  # not until they accept


def test_the_invited_account_joins_by_accepting_once(
    client, almaty, organiser, aigerim, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invite(signed_in(client, organiser), almaty, "aigerim")
    path = invitation_path(mail.outbox[0])
    client.logout()
    signed_in(client, aigerim)
    page = client.get(path)
    assert page.status_code == 200 and "Coordinator" in page.text
    assert not Member.objects.filter(user=aigerim).exists()  # opening it changes nothing
    joined = client.post(path)
    assert joined["Location"] == almaty.get_absolute_url()
    member = Member.objects.get(user=aigerim)
    assert (member.group, member.role, member.added_by) == (almaty, Role.COORDINATOR, organiser)
    assert AuditEvent.objects.filter(action="member_accepted", actor=aigerim).exists()
    member.delete()  # removed later: the old link does not bring them back
    assert client.post(path).status_code == 400
    assert not Member.objects.filter(user=aigerim).exists()


def test_the_link_works_only_for_the_account_it_names(
    client, almaty, organiser, aigerim, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invite(signed_in(client, organiser), almaty, "aigerim")
    path = invitation_path(mail.outbox[0])
    client.logout()
    other = UserFactory(username="someone")
    assert client.login(username=other.username, password=PASSWORD)
    assert client.post(path).status_code == 400
    assert not Member.objects.filter(group=almaty, user__in=[other, aigerim]).exists()


def test_a_link_from_an_organiser_removed_since_no_longer_works(
    client, almaty, organiser, aigerim, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invite(signed_in(client, organiser), almaty, "aigerim")
    Member.objects.filter(user=organiser).update(unreachable=True)
    client.logout()
    signed_in(client, aigerim)
    assert client.post(invitation_path(mail.outbox[0])).status_code == 400
    assert not Member.objects.filter(user=aigerim).exists()


def test_an_organiser_is_not_invited_and_another_group_cannot_be_chosen(
    client, almaty, batken, organiser, aigerim, django_capture_on_commit_callbacks
):
    signed_in(client, organiser)
    with django_capture_on_commit_callbacks(execute=True):
        as_organiser = invite(client, almaty, "aigerim", role="organiser")
        elsewhere = invite(client, batken, "aigerim")
    assert as_organiser.status_code == elsewhere.status_code == 200
    assert (
        "Select a valid choice" in as_organiser.text and "Select a valid choice" in elsewhere.text
    )
    assert not mail.outbox
    assert not AuditEvent.objects.exists()


def test_one_account_gets_a_bounded_number_of_invitations_across_hubs_and_groups(
    client, almaty, organiser, aigerim, django_capture_on_commit_callbacks
):
    signed_in(client, organiser)
    with django_capture_on_commit_callbacks(execute=True):
        for role in ["coordinator", "volunteer", "treasurer", "coordinator", "volunteer"]:
            invite(client, almaty, "aigerim", role=role)
    assert len(mail.outbox) == invitations.PER_ACCOUNT_DAY
