"""A fundraiser whose organiser is gone is handed to another member of its group: one of the
remaining money people proposes, a second agrees (a site administrator only when one is left),
the new holder accepts and becomes its organiser; the public entry names roles, and the new
organiser only if they chose it. Every refusal says why and writes nothing."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from donations import services
from donations.models import FundraiserHandover
from groups import queries as group_queries
from groups.models import Member
from ledger.models import LedgerEntry
from tests.factories import PASSWORD, MemberFactory, UserFactory

pytestmark = pytest.mark.django_db


def gone(fundraiser):
    """The organiser who started it is marked unreachable (arrested, cut off)."""
    Member.objects.filter(group=fundraiser.group, user=fundraiser.organiser).update(
        unreachable=True
    )


@pytest.fixture
def people(fundraiser, treasurer):
    """saule (treasurer) and a second treasurer remain; bakyt, a volunteer, takes it over."""
    second = MemberFactory(group=fundraiser.group, user=UserFactory(username="aibek"),
                           role="treasurer").user  # fmt: skip
    holder = MemberFactory(
        group=fundraiser.group,
        user=UserFactory(username="bakyt", first_name="Bakyt", last_name="Osmonov"),
        role="volunteer",
    ).user
    gone(fundraiser)
    return treasurer, second, holder


def entry_payload():
    entry = LedgerEntry.objects.get(kind="fundraiser_handover")
    return json.loads(bytes(entry.leaf))["payload"]


def test_two_people_hand_it_over_and_the_new_holder_accepts(fundraiser, people):
    treasurer, second, holder = people
    handover = services.handover_propose(fundraiser=fundraiser, to_user=holder, by=treasurer)
    services.handover_approve(handover=handover, by=second)
    assert not LedgerEntry.objects.filter(kind="fundraiser_handover").exists()
    services.handover_answer(handover=handover, by=holder, accept=True)
    fundraiser.refresh_from_db()
    assert fundraiser.organiser == holder
    assert "organiser" in group_queries.roles_in(holder, fundraiser.group)
    payload = entry_payload()
    assert payload == {"fundraiser": fundraiser.ledger_ref(), "proposed_by": "treasurer",
                       "approved_by": "treasurer", "to_role": "organiser"}  # fmt: skip
    assert "bakyt" not in json.dumps(payload) and "saule" not in json.dumps(payload)


def test_the_new_organiser_is_named_only_if_they_choose(client, fundraiser, people):
    treasurer, second, holder = people
    handover = services.handover_propose(fundraiser=fundraiser, to_user=holder, by=treasurer)
    services.handover_approve(handover=handover, by=second)
    handover = services.handover_answer(
        handover=handover, by=holder, accept=True, named_publicly=True
    )
    assert entry_payload()["public_name"] == "Bakyt Osmonov"
    page = client.get(reverse("ledger:entry", args=[handover.ledger_index])).text
    assert "handed to a new organiser (Bakyt Osmonov)" in page and "saule" not in page


def test_nothing_is_handed_over_while_its_organiser_is_there(fundraiser, treasurer):
    holder = MemberFactory(group=fundraiser.group, role="volunteer").user
    with pytest.raises(ValidationError, match="still has its organiser"):
        services.handover_propose(fundraiser=fundraiser, to_user=holder, by=treasurer)
    assert not FundraiserHandover.objects.exists()


def test_own_approval_outsiders_and_a_superuser_beside_a_second_person_are_refused(
    fundraiser, people
):
    treasurer, second, holder = people
    handover = services.handover_propose(fundraiser=fundraiser, to_user=holder, by=treasurer)
    root = UserFactory(username="root", is_superuser=True)
    for by, message in (
        (treasurer, "a second person must agree"),
        (holder, "Only an active organiser or treasurer"),
        (UserFactory(username="mallory"), "Only an active organiser or treasurer"),
        (root, "Only an active organiser or treasurer"),  # aibek could agree instead
    ):
        with pytest.raises(ValidationError, match=message):
            services.handover_approve(handover=handover, by=by)
    with pytest.raises(ValidationError, match="Only the person it is handed to"):
        services.handover_answer(handover=handover, by=second, accept=True)
    with pytest.raises(ValidationError, match="not waiting for your answer"):
        services.handover_answer(handover=handover, by=holder, accept=True)
    handover.refresh_from_db()
    assert handover.is_pending and not LedgerEntry.objects.exists()


def test_with_one_person_left_a_site_administrator_confirms(fundraiser, treasurer):
    holder = MemberFactory(group=fundraiser.group, role="volunteer").user
    gone(fundraiser)
    handover = services.handover_propose(fundraiser=fundraiser, to_user=holder, by=treasurer)
    root = UserFactory(username="root", is_superuser=True)
    services.handover_approve(handover=handover, by=root)
    services.handover_answer(handover=handover, by=holder, accept=True)
    assert entry_payload()["approved_by"] == "site_administrator"


def test_bad_hand_overs_say_why_and_write_nothing(fundraiser, people):
    treasurer, second, holder = people
    for to_user in (treasurer, fundraiser.organiser, UserFactory(username="stranger")):
        with pytest.raises(ValidationError, match="another active member"):
            services.handover_propose(fundraiser=fundraiser, to_user=to_user, by=treasurer)
    handover = services.handover_propose(fundraiser=fundraiser, to_user=holder, by=treasurer)
    with pytest.raises(ValidationError, match="already waits"):
        services.handover_propose(fundraiser=fundraiser, to_user=holder, by=second)
    with pytest.raises(ValidationError, match="Say why"):
        services.handover_reject(handover=handover, by=second, reason=" ")
    services.handover_reject(handover=handover, by=second, reason="ask Bakyt first")
    with pytest.raises(ValidationError, match="already decided"):
        services.handover_approve(handover=handover, by=second)
    assert not LedgerEntry.objects.exists()


def test_a_declined_hand_over_changes_nothing(fundraiser, people):
    treasurer, second, holder = people
    handover = services.handover_propose(fundraiser=fundraiser, to_user=holder, by=treasurer)
    services.handover_approve(handover=handover, by=second)
    services.handover_answer(handover=handover, by=holder, accept=False)
    fundraiser.refresh_from_db()
    assert fundraiser.organiser.username == "dana" and not LedgerEntry.objects.exists()
    with pytest.raises(ValidationError, match="not waiting"):
        services.handover_answer(handover=handover, by=holder, accept=True)


def test_the_admin_proposes_and_agrees_and_the_holder_accepts_on_the_page(client, fundraiser,
                                                                          people):  # fmt: skip
    treasurer, second, holder = people
    for user in (treasurer, second):
        user.is_staff = True
        user.save()
    assert client.login(username="saule", password=PASSWORD)
    added = client.post("/admin/donations/fundraiserhandover/add/",
                        {"fundraiser": fundraiser.pk, "to_user": holder.pk})  # fmt: skip
    assert added.status_code == 302
    handover = FundraiserHandover.objects.get()
    client.logout()
    assert client.login(username="aibek", password=PASSWORD)
    client.post("/admin/donations/fundraiserhandover/",
                {"action": "approve", "_selected_action": [handover.pk], "index": "0"})  # fmt: skip
    handover.refresh_from_db()
    assert handover.status == "approved"
    url = f"/fundraisers/handovers/{handover.pk}/"
    assert client.get(url).status_code == 404  # only the holder opens it
    client.logout()
    assert client.login(username="bakyt", password=PASSWORD)
    assert "Name me publicly" in client.get(url).text
    client.post(url, {"decision": "accept", "named_publicly": "on"})
    assert entry_payload()["public_name"] == "Bakyt Osmonov"


def test_the_admin_form_shows_a_refusal_and_writes_nothing(client, fundraiser, treasurer):
    treasurer.is_staff = True
    treasurer.save()
    holder = MemberFactory(group=fundraiser.group, role="volunteer").user
    assert client.login(username="saule", password=PASSWORD)
    page = client.post("/admin/donations/fundraiserhandover/add/",
                       {"fundraiser": fundraiser.pk, "to_user": holder.pk})  # fmt: skip
    assert page.status_code == 200 and "still has its organiser" in page.text
    assert not FundraiserHandover.objects.exists()
