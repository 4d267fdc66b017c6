"""Money out needs two people: an expense or a change to the ways to pay is proposed by one
organiser or treasurer of the fundraiser's group and becomes public only when a second, different
one approves it; either may reject it with a reason."""

import json
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from aidhub.uploads import CleanFile
from donations import services
from donations.models import (
    Expense,
    ExpenseProposal,
    ExpenseReceiptOriginal,
    Fundraiser,
    PaymentMethod,
    PaymentMethodProposal,
)
from groups.models import Member
from hubs.models import StockLevel
from ledger.models import Evidence, LedgerEntry
from tests.factories import (
    PASSWORD,
    MemberFactory,
    UserFactory,
    money_person,
    organised_by,
    payment_method_approved,
)
from tests.ledger.factories import jpeg_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.clock]

RECEIPT = CleanFile(jpeg_bytes((200, 10, 10)), "image/jpeg")
KASPI = {"kind": "e_wallet", "label": "Kaspi", "details": "+7 701 555 01 22", "currency": "KZT"}


def propose(fundraiser, *, by=None, **fields):
    return services.expense_propose(**({
        "fundraiser": fundraiser, "vendor": "Dordoi market", "amount": "1200.00",
        "currency": "KGS", "paid_at": timezone.now(), "receipt": RECEIPT,
        "by": by or fundraiser.organiser,
    } | fields))  # fmt: skip


def payload_of(index: int) -> dict:
    return json.loads(bytes(LedgerEntry.objects.get(index=index).leaf))["payload"]


def nothing_public() -> bool:
    return not (
        LedgerEntry.objects.exists() or Expense.objects.exists() or Evidence.objects.exists()
    )


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)


def member(fundraiser, username, role, **extra):
    return MemberFactory(
        group=fundraiser.group, user=UserFactory(username=username), role=role, **extra
    ).user


# The expense's path: proposed, seen, approved.


def test_a_proposed_expense_is_public_only_once_a_second_person_approves_it(
    fundraiser, treasurer, rates, palace, flour, media
):
    palace.group = fundraiser.group  # its own group's hub: no acceptance is asked
    palace.save()
    proposal = propose(fundraiser, lines=[(flour, Decimal("50"))], hub=palace)
    assert nothing_public() and not StockLevel.objects.filter(quantity__gt=0).exists()
    assert bytes(proposal.receipt) == RECEIPT.data  # kept privately, not in the evidence store

    expense = services.expense_approve(proposal=proposal, by=treasurer)
    payload = payload_of(expense.ledger_index)
    assert payload["approved_by"] == "treasurer"
    assert "saule" not in json.dumps(payload) and "dana" not in json.dumps(payload)
    assert Evidence.objects.get(sha256=expense.receipt_sha256).published
    assert StockLevel.objects.get(hub=palace, item=flour).quantity == 50
    assert expense.created_by == fundraiser.organiser
    proposal.refresh_from_db()
    assert (proposal.status, proposal.decided_by, proposal.decided_role) == (
        "approved", treasurer, "treasurer",
    )  # fmt: skip
    assert proposal.expense == expense and bytes(proposal.receipt) == b""


def test_a_second_organiser_is_named_by_role_in_the_entry(fundraiser, rates, media):
    second = member(fundraiser, "asel", Member.Role.ORGANISER)
    expense = services.expense_approve(proposal=propose(fundraiser), by=second)
    assert payload_of(expense.ledger_index)["approved_by"] == "organiser"


def test_a_pdf_receipts_original_stays_private_until_and_after_approval(
    fundraiser, treasurer, rates, media
):
    receipt = CleanFile(jpeg_bytes(), "image/jpeg", private_original=b"%PDF-1.4 original")
    proposal = propose(fundraiser, receipt=receipt)
    assert not ExpenseReceiptOriginal.objects.exists()
    expense = services.expense_approve(proposal=proposal, by=treasurer)
    assert ExpenseReceiptOriginal.objects.get(expense=expense).data == b"%PDF-1.4 original"
    assert bytes(ExpenseProposal.objects.get().receipt_original) == b""


def test_the_treasurer_proposes_and_the_organiser_approves(fundraiser, treasurer, rates, media):
    proposal = propose(fundraiser, by=treasurer)
    expense = services.expense_approve(proposal=proposal, by=fundraiser.organiser)
    assert payload_of(expense.ledger_index)["approved_by"] == "organiser"
    assert expense.created_by == treasurer


def test_either_may_reject_with_a_reason_and_the_receipt_is_deleted(
    fundraiser, treasurer, rates, media
):
    for by in (treasurer, fundraiser.organiser):  # the second person, or the proposer
        proposal = propose(fundraiser)
        services.expense_reject(proposal=proposal, by=by, reason="wrong shop on the receipt")
        proposal.refresh_from_db()
        assert (proposal.status, proposal.reason) == ("rejected", "wrong shop on the receipt")
        assert bytes(proposal.receipt) == b"" and proposal.decided_by == by
    assert nothing_public()


# Two people are needed before anything is proposed.


def test_a_group_with_one_money_person_cannot_propose_an_expense_or_a_way_to_pay(rates, media):
    alone = UserFactory(username="ermek")
    fundraiser = Fundraiser.objects.create(
        slug="osh", title="Osh", **organised_by(alone), goal_amount=100, currency="KGS",
        starts_on=timezone.localdate(),
    )  # fmt: skip
    # A coordinator, a volunteer and an unreachable treasurer are not a second money person.
    member(fundraiser, "coord", Member.Role.COORDINATOR)
    member(fundraiser, "vol", Member.Role.VOLUNTEER)
    member(fundraiser, "gone", Member.Role.TREASURER, unreachable=True)
    with pytest.raises(ValidationError) as refused:
        propose(fundraiser)
    assert refused.value.code == "one_money_person"
    assert "has only one active organiser or treasurer" in refused.value.messages[0]
    with pytest.raises(ValidationError, match="only one active organiser or treasurer"):
        services.payment_method_add(fundraiser=fundraiser, by=alone, **KASPI)
    assert not ExpenseProposal.objects.exists() and not PaymentMethodProposal.objects.exists()
    assert nothing_public()


# Bad input: a clear message, nothing written.


def test_nobody_approves_their_own_expense(fundraiser, rates, media):
    proposal = propose(fundraiser)
    with pytest.raises(ValidationError) as refused:
        services.expense_approve(proposal=proposal, by=fundraiser.organiser)
    assert refused.value.code == "own_proposal"
    assert "a second organiser or treasurer must approve it" in refused.value.messages[0]
    assert nothing_public() and ExpenseProposal.objects.get().status == "pending"


@pytest.mark.parametrize(
    "who",
    ["outsider", "organiser of another group", "coordinator", "volunteer",
     "unreachable treasurer"],
)  # fmt: skip
def test_only_a_second_active_money_person_of_the_group_approves(fundraiser, rates, media, who):
    proposal = propose(fundraiser)
    if who == "outsider":
        by = UserFactory(username="mallory")
    elif who == "organiser of another group":
        by = UserFactory(username="erlan")
        organised_by(by)
    elif who == "unreachable treasurer":
        by = member(fundraiser, "aibek", Member.Role.TREASURER, unreachable=True)
    else:
        by = member(fundraiser, "aibek", who)
    with pytest.raises(ValidationError) as refused:
        services.expense_approve(proposal=proposal, by=by)
    assert refused.value.code == "not_money_person"
    assert "Only an active organiser or treasurer of" in refused.value.messages[0]
    with pytest.raises(ValidationError, match="Only an active organiser or treasurer of"):
        services.expense_reject(proposal=proposal, by=by, reason="no")
    assert nothing_public() and ExpenseProposal.objects.get().status == "pending"


def test_a_superuser_outside_the_group_is_not_a_second_person(fundraiser, rates, media):
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    with pytest.raises(ValidationError, match="Only an active organiser or treasurer of"):
        services.expense_approve(proposal=propose(fundraiser), by=root)
    assert nothing_public()


def test_a_decided_expense_is_not_decided_again(fundraiser, treasurer, rates, media):
    approved, rejected = propose(fundraiser), propose(fundraiser)
    services.expense_approve(proposal=approved, by=treasurer)
    services.expense_reject(proposal=rejected, by=treasurer, reason="duplicate")
    entries = LedgerEntry.objects.count()
    for proposal in (approved, rejected):
        stale = ExpenseProposal.objects.get(pk=proposal.pk)
        stale.status = "pending"  # what a page opened before the decision still shows
        with pytest.raises(ValidationError) as refused:
            services.expense_approve(proposal=stale, by=treasurer)
        assert refused.value.code == "already_decided"
        assert "This was already" in refused.value.messages[0]
        with pytest.raises(ValidationError, match="This was already"):
            services.expense_reject(proposal=stale, by=fundraiser.organiser, reason="x")
    assert LedgerEntry.objects.count() == entries and Expense.objects.count() == 1
    assert ExpenseProposal.objects.get(pk=rejected.pk).reason == "duplicate"


def test_a_rejection_without_a_reason_is_refused(fundraiser, treasurer, rates, media):
    proposal = propose(fundraiser)
    with pytest.raises(ValidationError) as refused:
        services.expense_reject(proposal=proposal, by=treasurer, reason="   ")
    assert refused.value.messages == ["Say why it is rejected."]
    proposal.refresh_from_db()
    assert proposal.status == "pending" and bytes(proposal.receipt) == RECEIPT.data


def test_a_proposal_is_checked_as_the_expense_would_be(fundraiser, rates, media):
    with pytest.raises(ValidationError, match="Say who was paid"):
        propose(fundraiser, vendor=" ")
    with pytest.raises(ValidationError, match="2 decimal places"):
        propose(fundraiser, amount="10.001")
    with pytest.raises(ValidationError, match="in the future"):
        propose(fundraiser, paid_at=timezone.now() + timezone.timedelta(days=1))
    assert not ExpenseProposal.objects.exists()


def test_the_other_money_people_are_told_by_email(
    fundraiser, treasurer, rates, media, django_capture_on_commit_callbacks
):
    fundraiser.organiser.email = "dana@example.org"
    fundraiser.organiser.save()
    with django_capture_on_commit_callbacks(execute=True):
        propose(fundraiser)
    assert [message.to for message in mail.outbox] == [[treasurer.email]]
    assert "an expense waits for your approval" in mail.outbox[0].subject
    assert f"/fundraisers/{fundraiser.slug}/manage/" in mail.outbox[0].body
    with django_capture_on_commit_callbacks(execute=True):
        services.payment_method_add(fundraiser=fundraiser, by=treasurer, **KASPI)
    assert mail.outbox[1].to == ["dana@example.org"]
    assert "a change to the ways to pay waits for you" in mail.outbox[1].subject


# Ways to pay: the same rule, and their checks again on approval.


def test_a_way_to_pay_changes_only_once_a_second_person_approves(client, fundraiser, treasurer):
    proposal = services.payment_method_add(fundraiser=fundraiser, by=fundraiser.organiser, **KASPI)
    assert not PaymentMethod.objects.exists() and not LedgerEntry.objects.exists()
    assert KASPI["details"] not in client.get(fundraiser.get_absolute_url()).text
    with pytest.raises(ValidationError, match="You proposed this yourself"):
        services.payment_proposal_approve(proposal=proposal, by=fundraiser.organiser)
    approved = services.payment_proposal_approve(proposal=proposal, by=treasurer)
    assert payload_of(approved.ledger_index)["approved_by"] == "treasurer"
    assert approved.method == PaymentMethod.objects.get()
    assert KASPI["details"] in client.get(fundraiser.get_absolute_url()).text


def test_a_change_to_a_way_to_pay_changed_since_is_refused_on_approval(fundraiser, treasurer):
    method = payment_method_approved(
        services.payment_method_add(fundraiser=fundraiser, by=fundraiser.organiser, **KASPI)
    )
    first = services.payment_method_change(method=method, by=fundraiser.organiser,
                                           details="+7 701 555 09 99")  # fmt: skip
    second = services.payment_method_change(method=method, by=fundraiser.organiser,
                                            details="+7 777 000 00 01")  # fmt: skip
    services.payment_proposal_approve(proposal=first, by=treasurer)
    entries = LedgerEntry.objects.count()
    with pytest.raises(ValidationError, match="changed or removed after this was proposed"):
        services.payment_proposal_approve(proposal=second, by=treasurer)
    assert PaymentMethod.objects.get().details == "+7 701 555 09 99"
    assert LedgerEntry.objects.count() == entries
    assert PaymentMethodProposal.objects.get(pk=second.pk).status == "pending"


def test_the_checks_of_a_way_to_pay_run_again_on_approval(fundraiser, treasurer):
    one = services.payment_method_add(fundraiser=fundraiser, by=fundraiser.organiser, **KASPI)
    two = services.payment_method_add(fundraiser=fundraiser, by=fundraiser.organiser, **KASPI)
    services.payment_proposal_approve(proposal=one, by=treasurer)
    with pytest.raises(ValidationError, match="already listed for this fundraiser"):
        services.payment_proposal_approve(proposal=two, by=treasurer)
    assert PaymentMethod.objects.count() == 1
    services.payment_proposal_reject(proposal=two, by=treasurer, reason="the same twice")
    assert PaymentMethodProposal.objects.get(pk=two.pk).status == "rejected"


def test_a_removal_is_approved_like_any_change(fundraiser, treasurer):
    method = payment_method_approved(
        services.payment_method_add(fundraiser=fundraiser, by=fundraiser.organiser, **KASPI)
    )
    removal = services.payment_method_remove(method=method, by=treasurer)
    assert PaymentMethod.objects.exists()
    approved = services.payment_proposal_approve(proposal=removal, by=fundraiser.organiser)
    assert payload_of(approved.ledger_index)["approved_by"] == "organiser"
    assert payload_of(approved.ledger_index)["methods"] == []
    assert not PaymentMethod.objects.exists() and approved.before["details"] == KASPI["details"]


# The entry's page.


def test_the_entry_page_says_a_second_person_approved_it_by_role(
    client, fundraiser, treasurer, rates, media
):
    expense = services.expense_approve(proposal=propose(fundraiser), by=treasurer)
    page = client.get(reverse("ledger:entry", args=[expense.ledger_index])).text
    assert "approved by a second person (treasurer)" in page
    assert "saule" not in page


# The manage page, the receipt and the buttons.


def test_the_manage_page_shows_what_waits_with_the_receipt_and_the_buttons(
    client, fundraiser, treasurer, rates, media
):
    proposal = propose(fundraiser)
    receipt_url = reverse("donations:pending_receipt", args=[fundraiser.slug, proposal.pk])
    decide_url = reverse("donations:expense_decide", args=[fundraiser.slug, proposal.pk])
    login(client, fundraiser.organiser)
    mine = client.get(reverse("donations:manage", args=[fundraiser.slug])).text
    assert "waiting for a second person" in mine and receipt_url in mine
    assert 'value="approve"' not in mine and 'value="reject"' in mine  # the proposer withdraws
    login(client, treasurer)
    theirs = client.get(reverse("donations:manage", args=[fundraiser.slug])).text
    assert f'action="{decide_url}"' in theirs and 'value="approve"' in theirs
    assert theirs.count('name="idempotency_key"') == 2
    receipt = client.get(receipt_url)
    assert receipt.status_code == 200 and receipt["Content-Type"] == "image/jpeg"
    assert receipt.content == RECEIPT.data and "no-store" in receipt["Cache-Control"]


def test_the_pending_receipt_is_hidden_from_outsiders_and_once_decided(
    client, fundraiser, treasurer, rates, media
):
    proposal = propose(fundraiser)
    url = reverse("donations:pending_receipt", args=[fundraiser.slug, proposal.pk])
    assert "login" in client.get(url)["Location"]
    for username, role in [("coord", "coordinator"), ("vol", "volunteer")]:
        login(client, member(fundraiser, username, role))
        assert client.get(url).status_code == 404
    login(client, UserFactory(username="mallory"))
    assert client.get(url).status_code == 404
    services.expense_reject(proposal=proposal, by=treasurer, reason="blurred")
    login(client, treasurer)
    assert client.get(url).status_code == 404


def test_approving_on_the_page_writes_one_entry_even_when_sent_twice(
    client, fundraiser, treasurer, rates, media
):
    proposal = propose(fundraiser)
    url = reverse("donations:expense_decide", args=[fundraiser.slug, proposal.pk])
    login(client, treasurer)
    form = {"decision": "approve", "idempotency_key": "a" * 32}
    first = client.post(url, form, follow=True)
    assert "Approved. The expense and its receipt are in the ledger." in first.text
    again = client.post(url, form, follow=True)
    assert "it was not recorded twice" in again.text
    other_token = client.post(url, form | {"idempotency_key": "b" * 32}, follow=True)
    assert "This was already approved" in other_token.text
    assert Expense.objects.count() == 1 and LedgerEntry.objects.count() == 1


def test_the_page_refuses_a_rejection_without_reason_and_approving_ones_own(
    client, fundraiser, treasurer, rates, media
):
    proposal = propose(fundraiser)
    url = reverse("donations:expense_decide", args=[fundraiser.slug, proposal.pk])
    login(client, fundraiser.organiser)
    own = client.post(url, {"decision": "approve", "idempotency_key": "c" * 32}, follow=True)
    assert "You proposed this yourself" in own.text
    login(client, treasurer)
    bare = client.post(url, {"decision": "reject", "idempotency_key": "d" * 32}, follow=True)
    assert "Say why it is rejected." in bare.text
    assert ExpenseProposal.objects.get().status == "pending" and nothing_public()
    rejected = client.post(url, {"decision": "reject", "reason": "not our shop",
                                 "idempotency_key": "e" * 32}, follow=True)  # fmt: skip
    assert "Rejected. Nothing was published" in rejected.text
    assert ExpenseProposal.objects.get().status == "rejected" and nothing_public()


def test_the_page_asks_for_a_choice_when_the_decision_is_neither(
    client, fundraiser, treasurer, rates, media
):
    proposal = propose(fundraiser)
    url = reverse("donations:expense_decide", args=[fundraiser.slug, proposal.pk])
    login(client, treasurer)
    odd = client.post(url, {"decision": "publish", "idempotency_key": "f" * 32}, follow=True)
    assert "Choose Approve or Reject." in odd.text
    assert ExpenseProposal.objects.get().status == "pending" and nothing_public()


def test_outsiders_get_404_from_the_decision_views(client, fundraiser, rates, media):
    expense = propose(fundraiser)
    change = services.payment_method_add(fundraiser=fundraiser, by=fundraiser.organiser, **KASPI)
    login(client, UserFactory(username="mallory"))
    for url in (
        reverse("donations:expense_decide", args=[fundraiser.slug, expense.pk]),
        reverse("donations:payment_decide", args=[fundraiser.slug, change.pk]),
    ):
        assert client.post(url, {"decision": "approve"}).status_code == 404
    assert nothing_public() and not PaymentMethod.objects.exists()


def test_a_proposed_change_shows_old_and_new_details(client, fundraiser, treasurer):
    method = payment_method_approved(
        services.payment_method_add(fundraiser=fundraiser, by=fundraiser.organiser, **KASPI)
    )
    services.payment_method_change(method=method, by=fundraiser.organiser,
                                   details="+7 777 000 99 88")  # fmt: skip
    login(client, treasurer)
    page = client.get(reverse("donations:manage", args=[fundraiser.slug])).text
    row = page.split('<th scope="row">details</th>')[1].split("</tr>")[0]
    assert "+7 701 555 01 22" in row and "+7 777 000 99 88" in row
    assert "table-warning" in page.split('<th scope="row">details</th>')[0][-40:]


def test_the_expense_form_says_it_waits_for_a_second_person(client, fundraiser, rates, media):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.donations.test_views import expense_form

    login(client, fundraiser.organiser)
    form = client.get(reverse("donations:expense_new", args=[fundraiser.slug])).text
    assert "a second organiser or treasurer of the group sees the receipt" in form
    receipt = SimpleUploadedFile("r.jpg", jpeg_bytes(), content_type="image/jpeg")
    response = client.post(
        reverse("donations:expense_new", args=[fundraiser.slug]), expense_form(receipt),
        follow=True,
    )  # fmt: skip
    assert "waits for a second person" in response.text
    assert ExpenseProposal.objects.get().status == "pending" and nothing_public()


def test_the_demo_purchases_are_proposed_by_the_organiser_and_approved_by_the_treasurer(media):
    import io

    from django.core.management import call_command

    call_command("seed_demo", stdout=io.StringIO())
    proposals = ExpenseProposal.objects.select_related("proposed_by", "decided_by")
    assert proposals.count() == Expense.objects.count() > 0
    # The Almaty initiative's purchases, and the Batken group's own one (delivered straight).
    assert {(p.proposed_by.username, p.decided_by.username, p.status) for p in proposals} == {
        ("organizer", "almaty-treasurer", "approved"),
        ("coordinator", "batken-treasurer", "approved"),
    }
    expenses = LedgerEntry.objects.filter(kind="expense")
    assert {json.loads(bytes(e.leaf))["payload"]["approved_by"] for e in expenses} == {"treasurer"}
    assert not PaymentMethodProposal.objects.filter(status="pending").exists()


# The admin: the same services.


def test_the_admin_lists_what_waits_and_approves_and_rejects_through_the_services(
    client, fundraiser, treasurer, rates, media
):
    treasurer.is_staff = True
    treasurer.save()
    approve, reject = propose(fundraiser), propose(fundraiser, vendor="Beta Stores")
    login(client, treasurer)
    listing = client.get("/admin/donations/expenseproposal/").text
    assert "Dordoi market" in listing and "Beta Stores" in listing
    assert reverse("donations:pending_receipt", args=[fundraiser.slug, approve.pk]) in listing
    client.post("/admin/donations/expenseproposal/", {
        "action": "reject", "_selected_action": [reject.pk], "reason": "", "index": "0",
    })  # fmt: skip
    assert ExpenseProposal.objects.get(pk=reject.pk).status == "pending"  # no reason given
    client.post("/admin/donations/expenseproposal/", {
        "action": "reject", "_selected_action": [reject.pk], "reason": "twice", "index": "0",
    })  # fmt: skip
    client.post("/admin/donations/expenseproposal/", {
        "action": "approve", "_selected_action": [approve.pk], "index": "0",
    })  # fmt: skip
    assert ExpenseProposal.objects.get(pk=reject.pk).status == "rejected"
    expense = Expense.objects.get()
    assert payload_of(expense.ledger_index)["approved_by"] == "treasurer"
    assert "Dordoi market" not in client.get("/admin/donations/expenseproposal/").text


def test_the_admin_shows_no_other_groups_proposals(client, fundraiser, rates, media):
    propose(fundraiser)
    other = UserFactory(username="erlan", is_staff=True)
    Fundraiser.objects.create(
        slug="osh", title="Osh", **organised_by(other), goal_amount=100, currency="KGS",
        starts_on=timezone.localdate(),
    )  # fmt: skip
    money_person(Fundraiser.objects.get(slug="osh").group)
    login(client, other)
    response = client.get("/admin/donations/expenseproposal/")
    assert response.status_code == 200 and "Dordoi market" not in response.text


def test_a_change_in_the_ways_to_pay_admin_is_a_proposal_and_no_change_is_none(
    client, fundraiser, treasurer
):
    method = payment_method_approved(
        services.payment_method_add(fundraiser=fundraiser, by=fundraiser.organiser, **KASPI)
    )
    fundraiser.organiser.is_staff = True
    fundraiser.organiser.save()
    login(client, fundraiser.organiser)
    url = reverse("admin:donations_paymentmethod_change", args=[method.pk])
    form = KASPI | {"recipient_name": "", "order": method.order, "active": "on"}
    same = client.post(url, form, follow=True)
    assert "Nothing was changed." in same.text
    assert not PaymentMethodProposal.objects.filter(status="pending").exists()
    changed = client.post(url, form | {"details": "+7 777 000 99 88"})
    assert changed["Location"] == reverse("admin:donations_paymentmethodproposal_changelist")
    waiting = PaymentMethodProposal.objects.get(status="pending")
    assert waiting.after["details"] == "+7 777 000 99 88"
    assert PaymentMethod.objects.get().details == KASPI["details"]
