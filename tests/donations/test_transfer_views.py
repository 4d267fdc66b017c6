"""The pages of money passed between groups: the sender's form and waiting list, the
receiver's incoming list, the public entry and both fundraisers' pages."""

from decimal import Decimal

import pytest
from django.urls import reverse

from donations import services
from donations.models import MoneyTransfer
from ledger.models import LedgerEntry
from tests.donations.transfers import batken_fundraiser, donated
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.clock]


@pytest.fixture
def batken(db):
    return batken_fundraiser()


@pytest.fixture
def funded(fundraiser, rates):
    donated(fundraiser, "1000000.00")
    return fundraiser


def login(client, username):
    assert client.login(username=username, password=PASSWORD)


def manage(fundraiser):
    return reverse("donations:manage", args=[fundraiser.slug])


def test_form_lists_other_groups_active_fundraisers_by_public_name(client, funded, batken):
    login(client, "dana")
    page = client.get(reverse("donations:transfer_new", args=[funded.slug])).text
    assert "Villages near Isfana (" in page and 'name="idempotency_key"' in page
    assert f'value="{funded.pk}"' not in page  # not its own


def test_propose_approve_accept_through_the_pages(client, funded, batken):
    login(client, "dana")
    new = reverse("donations:transfer_new", args=[funded.slug])
    form = {"to_fundraiser": batken.pk, "amount": "400 000,00", "idempotency_key": "a" * 32}
    response = client.post(new, form, follow=True)
    assert "nothing moves until both have" in response.text
    transfer = MoneyTransfer.objects.get()
    assert transfer.amount == Decimal("400000.00") and transfer.is_pending
    assert "waiting for a second person" in client.get(manage(funded)).text

    login(client, "saule")
    page = client.get(manage(funded)).text
    assert reverse("donations:transfer_decide", args=[funded.slug, transfer.pk]) in page
    decide = reverse("donations:transfer_decide", args=[funded.slug, transfer.pk])
    response = client.post(decide, {"decision": "approve", "idempotency_key": "b" * 32},
                           follow=True)  # fmt: skip
    assert "set aside until the receiving group accepts it" in response.text
    assert not LedgerEntry.objects.filter(kind="money_transfer").exists()

    login(client, "aibek")
    page = client.get(manage(batken)).text
    answer = reverse("donations:transfer_answer", args=[batken.slug, transfer.pk])
    assert answer in page and "Almaty for Batken" in page
    response = client.post(answer, {"decision": "accept", "idempotency_key": "c" * 32},
                           follow=True)  # fmt: skip
    assert "The transfer is in the ledger and in both" in response.text
    entry = LedgerEntry.objects.get(kind="money_transfer")

    client.logout()
    shown = client.get(reverse("ledger:entry", args=[entry.index])).text
    assert "Sent from <a href=" in shown
    assert reverse("donations:fundraiser", args=[funded.slug]) in shown
    assert reverse("donations:fundraiser", args=[batken.slug]) in shown
    assert reverse("groups:group", args=[batken.group.slug]) in shown
    assert reverse("groups:group", args=[funded.group.slug]) in shown
    sender = client.get(funded.get_absolute_url()).text
    assert "Passed on to other groups" in sender and f"#{entry.index}" in sender
    receiver = client.get(batken.get_absolute_url()).text
    assert "Received from other groups" in receiver and "69,800.00" in receiver
    assert f"#{entry.index}" in receiver


def test_the_proposer_is_not_offered_approval_and_is_refused(client, funded, batken):
    transfer = services.transfer_propose(fundraiser=funded, to_fundraiser=batken,
                                         amount="10.00", by=funded.organiser)  # fmt: skip
    login(client, "dana")
    decide = reverse("donations:transfer_decide", args=[funded.slug, transfer.pk])
    response = client.post(decide, {"decision": "approve", "idempotency_key": "d" * 32},
                           follow=True)  # fmt: skip
    assert "You proposed this yourself" in response.text
    transfer.refresh_from_db()
    assert transfer.is_pending


def test_over_the_balance_is_refused_on_the_form(client, funded, batken):
    login(client, "dana")
    new = reverse("donations:transfer_new", args=[funded.slug])
    form = {"to_fundraiser": batken.pk, "amount": "2000000", "idempotency_key": "e" * 32}
    page = client.post(new, form).text
    assert "cannot pass on more than it holds" in page
    assert not MoneyTransfer.objects.exists()


def test_declining_needs_a_reason_and_keeps_the_books(client, funded, batken):
    transfer = services.transfer_propose(fundraiser=funded, to_fundraiser=batken,
                                         amount="10.00", by=funded.organiser)  # fmt: skip
    services.transfer_approve(transfer=transfer, by=UserFactory(username="saule"))
    login(client, "nurlan")
    answer = reverse("donations:transfer_answer", args=[batken.slug, transfer.pk])
    response = client.post(answer, {"decision": "decline", "idempotency_key": "f" * 32},
                           follow=True)  # fmt: skip
    assert "Say why it is declined." in response.text
    response = client.post(answer, {"decision": "decline", "reason": "Not ours",
                                    "idempotency_key": "g" * 32}, follow=True)  # fmt: skip
    assert "Nothing entered your books" in response.text
    transfer.refresh_from_db()
    assert transfer.acceptance == "declined"


def test_the_sending_group_cannot_open_the_receivers_answer(client, funded, batken):
    transfer = services.transfer_propose(fundraiser=funded, to_fundraiser=batken,
                                         amount="10.00", by=funded.organiser)  # fmt: skip
    services.transfer_approve(transfer=transfer, by=UserFactory(username="saule"))
    login(client, "dana")
    answer = reverse("donations:transfer_answer", args=[batken.slug, transfer.pk])
    assert client.post(answer, {"decision": "accept"}).status_code == 404
    # Nor through its own fundraiser's address: the transfer is not incoming there.
    wrong = reverse("donations:transfer_answer", args=[funded.slug, transfer.pk])
    assert client.post(wrong, {"decision": "accept"}).status_code == 404
    login(client, "aibek")
    decide = reverse("donations:transfer_decide", args=[batken.slug, transfer.pk])
    assert client.post(decide, {"decision": "approve"}).status_code == 404
    assert not LedgerEntry.objects.filter(kind="money_transfer").exists()


def test_a_donors_receipt_page_shows_the_money_passed_on(client, funded, batken):
    transfer = services.transfer_propose(fundraiser=funded, to_fundraiser=batken,
                                         amount="10.00", by=funded.organiser)  # fmt: skip
    services.transfer_approve(transfer=transfer, by=UserFactory(username="saule"))
    services.transfer_accept(transfer=transfer, by=batken.organiser)
    donation = funded.donations.get()
    page = client.get(reverse("ledger:receipt", args=[donation.receipt_code])).text
    entry = LedgerEntry.objects.get(kind="money_transfer")
    assert reverse("ledger:entry", args=[entry.index]) in page
    assert "Villages near Isfana" in page
