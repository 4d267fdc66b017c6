"""A coordinator invites a volunteer by username or e-mail: the admin answers the same whether
or not an account has it, and nobody becomes a member until they accept the e-mailed link."""

import datetime
import re

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from aidhub.models import AuditEvent
from hubs.models import Membership
from tests.factories import PASSWORD, HubFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

ADD = "/admin/hubs/membership/add/"


@pytest.fixture
def hub():
    return HubFactory(slug="sports-palace", name="Sports Palace")


@pytest.fixture
def coordinator(hub):
    user = UserFactory(username="aigerim-coord", is_staff=True)
    MembershipFactory(user=user, hub=hub, role=Membership.Role.COORDINATOR)
    return user


@pytest.fixture
def outsider():
    """An account that belongs to no hub of the coordinator's."""
    return UserFactory(username="zarina-outsider", email="zarina@example.kz")


@pytest.fixture
def as_coordinator(client, coordinator):
    assert client.login(username=coordinator.username, password=PASSWORD)
    return client


def invite(client, hub, person: str):
    return client.post(ADD, {"person": person, "hub": hub.pk, "role": "volunteer"}, follow=True)


def invitation_path(message) -> str:
    (link,) = re.findall(r"https?://\S+/invitations/\S+/", message.body)
    return "/" + link.split("/", 3)[3]


def same_page(first: str, second: str) -> bool:
    """Equal but for the per-response CSP nonce and CSRF token."""
    volatile = r'(nonce|name="csrfmiddlewaretoken" value)="[^"]+"'
    return re.sub(volatile, "", first) == re.sub(volatile, "", second)


def test_an_existing_and_a_missing_account_get_the_same_answer(
    as_coordinator, hub, outsider, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        existing = invite(as_coordinator, hub, "ZARINA@example.kz")
        missing = invite(as_coordinator, hub, "nobody@example.kz")
        by_name = invite(as_coordinator, hub, "zarina-outsider")
    assert existing.redirect_chain == missing.redirect_chain == by_name.redirect_chain
    assert existing.redirect_chain == [("/admin/hubs/membership/", 302)]
    answers = [
        [str(m) for m in response.context["messages"]] for response in (existing, missing, by_name)
    ]
    assert answers[0] == answers[1] == answers[2]
    assert "an invitation is on its way" in answers[0][0]
    # The page is the coordinator's member list either way, with the same rows.
    assert same_page(existing.text, missing.text)
    assert [m.to for m in mail.outbox] == [["zarina@example.kz"], ["zarina@example.kz"]]


def test_an_invited_account_is_not_a_member_until_it_accepts(
    client, as_coordinator, hub, outsider, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invite(as_coordinator, hub, "zarina@example.kz")
    assert not Membership.objects.filter(user=outsider).exists()
    path = invitation_path(mail.outbox[0])
    client.force_login(outsider)
    page = client.get(path)
    assert page.status_code == 200 and "Join Sports Palace" in page.text
    assert not Membership.objects.filter(user=outsider).exists()  # opening is not accepting
    accepted = client.post(path)
    assert accepted["Location"] == "/hubs/sports-palace/"
    assert Membership.objects.filter(user=outsider, hub=hub, role="volunteer").count() == 1
    client.post(path)  # a second accept changes nothing
    assert Membership.objects.filter(user=outsider).count() == 1
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"membership_invited", "membership_accepted"} <= actions


def test_an_invitation_works_only_for_its_account_and_not_after_a_week(
    client, as_coordinator, hub, outsider, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invite(as_coordinator, hub, "zarina@example.kz")
    path = invitation_path(mail.outbox[0])
    client.force_login(UserFactory(username="dana"))
    assert client.post(path).status_code == 400
    with time_machine.travel(timezone.now() + datetime.timedelta(days=7, minutes=1)):
        client.force_login(outsider)
        refused = client.post(path)
    assert refused.status_code == 400 and "has expired" in refused.text
    assert client.post(path.replace("/invitations/", "/invitations/x")).status_code == 400
    assert not Membership.objects.filter(user=outsider).exists()


def test_a_member_or_an_account_without_an_address_is_sent_nothing(
    as_coordinator, hub, django_capture_on_commit_callbacks
):
    member = MembershipFactory(
        user=UserFactory(username="bakyt", email="bakyt@example.kg"), hub=hub, role="volunteer"
    ).user
    UserFactory(username="no-mail", email="")
    with django_capture_on_commit_callbacks(execute=True):
        invite(as_coordinator, hub, member.email)
        invite(as_coordinator, hub, "no-mail")
    assert not mail.outbox


def test_a_coordinator_invites_only_to_their_own_hubs(
    as_coordinator, outsider, django_capture_on_commit_callbacks
):
    other = HubFactory(slug="ala-too", name="Ala-Too tent")
    with django_capture_on_commit_callbacks(execute=True):
        response = as_coordinator.post(
            ADD, {"person": outsider.email, "hub": other.pk, "role": "volunteer"}
        )
    assert response.status_code == 200 and not mail.outbox


def test_an_outsider_cannot_open_the_invitation_form(client, outsider):
    client.force_login(outsider)
    assert client.get(ADD).status_code in (302, 403)


def test_a_removed_volunteer_cannot_rejoin_with_the_old_link(
    client, as_coordinator, coordinator, hub, outsider, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invite(as_coordinator, hub, "zarina@example.kz")
        invite(as_coordinator, hub, "zarina@example.kz")  # a second link, sent before joining
    first, second = (invitation_path(m) for m in mail.outbox)
    client.force_login(outsider)
    assert client.post(first).status_code == 302
    Membership.objects.filter(user=outsider, hub=hub).delete()  # the coordinator removes her
    for path in (first, second):
        refused = client.post(path)
        assert refused.status_code == 400 and "already been used" in refused.text
        assert client.get(path).status_code == 400
    assert not Membership.objects.filter(user=outsider).exists()
    # A link sent after the removal works (`client` is the coordinator's client too).
    client.force_login(coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        invite(as_coordinator, hub, "zarina@example.kz")
    assert len(mail.outbox) == 3
    client.force_login(outsider)
    assert client.post(invitation_path(mail.outbox[-1])).status_code == 302
    assert Membership.objects.filter(user=outsider, hub=hub, role="volunteer").count() == 1


def test_invitation_emails_are_limited_with_the_same_answer(
    as_coordinator, coordinator, hub, outsider, django_capture_on_commit_callbacks
):
    from hubs import services

    answers = set()
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(services.INVITATIONS_PER_ACCOUNT_DAY + 2):
            response = invite(as_coordinator, hub, "zarina@example.kz")
            answers.add(tuple(str(m) for m in response.context["messages"]))
    assert len(answers) == 1  # the limited ones are told the same
    assert len(mail.outbox) == services.INVITATIONS_PER_ACCOUNT_DAY
    # Per coordinator and hour, across accounts.
    others = [
        UserFactory(username=f"vol-{n}", email=f"vol{n}@example.kg")
        for n in range(services.INVITATIONS_PER_COORDINATOR_HOUR)
    ]
    with django_capture_on_commit_callbacks(execute=True):
        for other in others:
            invite(as_coordinator, hub, other.email)
    sent = services.INVITATIONS_PER_COORDINATOR_HOUR - services.INVITATIONS_PER_ACCOUNT_DAY
    assert len(mail.outbox) == services.INVITATIONS_PER_ACCOUNT_DAY + sent
    # An hour later the coordinator may invite again; a day later the account may be invited.
    later = timezone.now() + datetime.timedelta(hours=1, minutes=1)
    with time_machine.travel(later), django_capture_on_commit_callbacks(execute=True):
        invite(as_coordinator, hub, "zarina@example.kz")
        invite(as_coordinator, hub, others[-1].email)
    assert mail.outbox[-1].to == [others[-1].email]
    assert len(mail.outbox) == services.INVITATIONS_PER_ACCOUNT_DAY + sent + 1
