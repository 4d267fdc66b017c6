"""Money passed from one group's fundraiser to another group's: proposed by one money person
of the sending group, approved by a second, accepted by the receiving group; only then one
`money_transfer` entry that both fundraisers' totals and reconciliations see."""

import json
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from donations import services
from donations.models import Fundraiser, FundraiserTotal, MoneyTransfer
from donations.queries import balance, totals
from donations.reconcile import reconcile, reconcile_group
from groups.models import Member
from ledger.models import LedgerEntry, LedgerRef
from tests.donations.transfers import batken_fundraiser, donated
from tests.factories import MemberFactory, UserFactory, money_person

pytestmark = [pytest.mark.django_db, pytest.mark.clock]


@pytest.fixture
def batken(db):
    return batken_fundraiser()


@pytest.fixture
def funded(fundraiser, rates):
    donated(fundraiser, "1000000.00")
    return fundraiser


def propose(fundraiser, batken, amount="400000.00", **fields):
    return services.transfer_propose(
        fundraiser=fundraiser, to_fundraiser=batken, amount=amount, by=fundraiser.organiser,
        **fields,
    )  # fmt: skip


def saule():
    return UserFactory(username="saule")


def approved(fundraiser, batken, amount="400000.00", **fields):
    transfer = propose(fundraiser, batken, amount, **fields)
    return services.transfer_approve(transfer=transfer, by=saule())


def books(fundraiser) -> dict:
    row = FundraiserTotal.objects.filter(fundraiser=fundraiser, currency="KZT").first()
    return {
        name: getattr(row, name) if row else 0
        for name in ("received", "received_converted", "transfers_in", "sent", "sent_converted",
                     "transfers_out")
    }  # fmt: skip


def test_accepted_transfer_is_one_entry_both_balances_see(funded, batken):
    transfer = approved(funded, batken)
    assert not LedgerEntry.objects.filter(kind="money_transfer").exists()
    assert balance(batken) == 0  # nothing in the other group's books before it accepts

    services.transfer_accept(transfer=transfer, by=UserFactory(username="nurlan"))

    entry = LedgerEntry.objects.get(kind="money_transfer")
    payload = json.loads(bytes(entry.leaf))["payload"]
    assert payload == {
        "from_fundraiser": {"id": "almaty-for-batken", "title": "Almaty for Batken"},
        "to_fundraiser": {"id": "batken-villages", "title": "Villages near Isfana"},
        "from_group": {"id": funded.group.slug, "name": funded.group.name},
        "to_group": {"id": batken.group.slug, "name": batken.group.name},
        "money": {"amount": "400000.00", "currency": "KZT"},
        "converted": {"amount": "69800.00", "currency": "KGS"},
        "rate": "0.1745",
        "rate_source": payload["rate_source"],
        "approved_by": "treasurer",
        "accepted_by": "treasurer",
    }
    assert payload["rate_source"].startswith("nbkr:")
    refs = LedgerRef.objects.filter(entry=entry, scope="fundraiser")
    assert set(refs.values_list("ref", flat=True)) == {"almaty-for-batken", "batken-villages"}
    transfer.refresh_from_db()
    assert transfer.ledger_index == entry.index and transfer.answered_role == "treasurer"
    assert books(funded)["sent"] == Decimal("400000") and books(funded)["transfers_out"] == 1
    assert books(batken)["received"] == Decimal("400000")
    assert books(batken)["received_converted"] == Decimal("69800")
    assert balance(funded) == Decimal("600000") and balance(batken) == Decimal("69800")
    assert totals(funded).raised == Decimal("1000000")  # a transfer is not a donation
    assert totals(batken).received == Decimal("69800") and totals(batken).raised == 0
    assert reconcile(funded).ok and reconcile(batken).ok


def test_a_manual_rate_needs_its_stated_source(funded, batken):
    with pytest.raises(ValidationError) as refused:
        propose(funded, batken, manual_rate=Decimal("0.18"))
    assert refused.value.code == "rate_source"
    transfer = propose(funded, batken, manual_rate=Decimal("0.18"), rate_source="Kaspi, 2 Dec")
    assert transfer.rate_source == "Kaspi, 2 Dec"
    assert transfer.converted_amount == Decimal("72000.00")
    assert not MoneyTransfer.objects.exclude(pk=transfer.pk).exists()


def test_proposal_e_mails_the_second_person_and_approval_the_receiving_group(
    funded, batken, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        transfer = propose(funded, batken)
    assert [m.to for m in mail.outbox] == [["saule@example.org"]]
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.transfer_approve(transfer=transfer, by=saule())
    assert sorted(m.to[0] for m in mail.outbox) == ["aibek@example.org", "nurlan@example.org"]
    assert "/batken-villages/manage/" in mail.outbox[0].body


def test_declined_transfer_writes_nothing_and_frees_the_money(funded, batken):
    transfer = approved(funded, batken, "900000.00")
    with pytest.raises(ValidationError) as refused:
        propose(funded, batken, "200000.00")  # 900 000 of 1 000 000 is set aside
    assert refused.value.code == "over_balance"
    with pytest.raises(ValidationError) as refused:
        services.transfer_decline(transfer=transfer, by=batken.organiser, reason="  ")
    assert refused.value.code == "reason"
    services.transfer_decline(transfer=transfer, by=batken.organiser, reason="Wrong fundraiser")
    transfer.refresh_from_db()
    assert transfer.acceptance == "declined" and transfer.decline_reason == "Wrong fundraiser"
    assert not LedgerEntry.objects.filter(kind="money_transfer").exists()
    assert books(funded)["sent"] == 0 and balance(batken) == 0
    assert propose(funded, batken, "200000.00").pk


def test_rejected_by_the_second_person_never_reaches_the_receiver(funded, batken):
    transfer = propose(funded, batken)
    services.transfer_reject(transfer=transfer, by=saule(), reason="Not agreed yet")
    with pytest.raises(ValidationError) as refused:
        services.transfer_accept(transfer=transfer, by=batken.organiser)
    assert refused.value.code == "already_decided"
    assert not LedgerEntry.objects.filter(kind="money_transfer").exists()


def refused_code(call) -> str:
    entries, transfers = LedgerEntry.objects.count(), list(MoneyTransfer.objects.values())
    totals_before = list(FundraiserTotal.objects.order_by("pk").values())
    with pytest.raises(ValidationError) as refused:
        call()
    assert LedgerEntry.objects.count() == entries
    assert list(MoneyTransfer.objects.values()) == transfers
    assert list(FundraiserTotal.objects.order_by("pk").values()) == totals_before
    assert refused.value.messages[0]
    return refused.value.code


def test_own_transfer_cannot_be_approved_by_its_proposer(funded, batken):
    transfer = propose(funded, batken)
    code = refused_code(lambda: services.transfer_approve(transfer=transfer, by=funded.organiser))
    assert code == "own_proposal"


def test_nobody_outside_the_receiving_group_accepts(funded, batken):
    transfer = approved(funded, batken)
    volunteer = UserFactory(username="vol")
    MemberFactory(group=batken.group, user=volunteer, role=Member.Role.VOLUNTEER)
    superuser = UserFactory(username="root", is_superuser=True)
    for by in (funded.organiser, saule(), volunteer, superuser):
        code = refused_code(lambda by=by: services.transfer_accept(transfer=transfer, by=by))
        assert code == "not_money_person"
        code = refused_code(
            lambda by=by: services.transfer_decline(transfer=transfer, by=by, reason="no")
        )
        assert code == "not_money_person"


def test_the_receiving_group_cannot_approve_for_the_sender(funded, batken):
    transfer = propose(funded, batken)
    code = refused_code(lambda: services.transfer_approve(transfer=transfer, by=batken.organiser))
    assert code == "not_money_person"
    code = refused_code(lambda: services.transfer_accept(transfer=transfer, by=batken.organiser))
    assert code == "already_decided"  # not approved yet: nothing to accept


def test_a_transfer_within_one_group_is_refused(funded, organiser):
    own = Fundraiser.objects.create(
        slug="own-second", title="Second", group=funded.group, organiser=organiser,
        goal_amount=Decimal("100"), currency="KZT", starts_on=funded.starts_on,
    )  # fmt: skip
    assert refused_code(lambda: propose(funded, own)) == "same_group"
    assert refused_code(lambda: propose(funded, funded)) == "same_group"


def test_more_than_the_balance_is_refused_with_the_balance_named(funded, batken):
    with pytest.raises(ValidationError) as refused:
        propose(funded, batken, "1000000.01")
    assert refused.value.code == "over_balance"
    assert "1000000.00 KZT available" in refused.value.messages[0]
    assert not MoneyTransfer.objects.exists()


def test_acceptance_checks_the_balance_again(funded, batken):
    first = approved(funded, batken, "600000.00")
    spent = services.correction_record(
        row=funded.donations.get(), reason="bounced", by=funded.organiser
    )
    assert spent
    code = refused_code(lambda: services.transfer_accept(transfer=first, by=batken.organiser))
    assert code == "over_balance"


def test_a_closed_receiving_fundraiser_is_refused(funded, batken):
    transfer = approved(funded, batken)
    Fundraiser.objects.filter(pk=batken.pk).update(status=Fundraiser.Status.CLOSED)
    code = refused_code(lambda: services.transfer_accept(transfer=transfer, by=batken.organiser))
    assert code == "closed"
    batken.refresh_from_db()
    assert refused_code(lambda: propose(funded, batken)) == "closed"


def test_a_decided_transfer_is_decided_once(funded, batken):
    transfer = approved(funded, batken)
    second = money_person(funded.group, username="third", role=Member.Role.ORGANISER)
    code = refused_code(lambda: services.transfer_approve(transfer=transfer, by=second))
    assert code == "already_decided"
    services.transfer_accept(transfer=transfer, by=batken.organiser)
    code = refused_code(lambda: services.transfer_accept(transfer=transfer, by=batken.organiser))
    assert code == "already_decided"
    code = refused_code(
        lambda: services.transfer_decline(transfer=transfer, by=batken.organiser, reason="late")
    )
    assert code == "already_decided"


def test_reconciliation_covers_each_group_and_its_fundraisers(funded, batken):
    transfer = approved(funded, batken)
    services.transfer_accept(transfer=transfer, by=batken.organiser)
    reports = reconcile_group(batken.group)
    assert [r.fundraiser for r in reports.fundraisers] == [batken]
    assert reports.ok
    assert reports.fundraisers[0].ledger.received == {"KZT": Decimal("400000.00")}
    assert reports.balances() == {"KGS": (Decimal("69800.00"), Decimal("69800.00"))}
    sender = reconcile_group(funded.group)
    assert sender.fundraisers[0].database.sent == {"KZT": Decimal("400000.00")}
    assert sender.balances() == {"KZT": (Decimal("600000.00"), Decimal("600000.00"))}
    assert sender.ok


def test_reconciliation_flags_a_broken_transfer_row(funded, batken):
    transfer = approved(funded, batken)
    services.transfer_accept(transfer=transfer, by=batken.organiser)
    FundraiserTotal.objects.filter(fundraiser=batken).update(received_converted=Decimal("1"))
    report = reconcile(batken)
    assert not report.ok
    assert any("received, in the fundraiser's currency" in p for p in report.problems)
    assert not reconcile_group(batken.group).ok
    MoneyTransfer.objects.filter(pk=transfer.pk).update(amount=Decimal("399999"))
    assert any("received in KZT" in p for p in reconcile(batken).problems)
    assert any("sent in KZT" in p for p in reconcile(funded).problems)
