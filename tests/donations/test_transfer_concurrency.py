"""Twenty transfers approved, then accepted, at the same instant on PostgreSQL, together more
than the sending fundraiser holds: those that fit pass, the rest are told the balance does not
cover them, and the balance never goes below zero."""

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from donations import services
from donations.models import FundraiserTotal, MoneyTransfer
from donations.queries import balance
from donations.reconcile import reconcile
from groups.models import Member
from ledger.models import LedgerEntry
from tests.donations.transfers import batken_fundraiser, donated
from tests.factories import money_person

pytestmark = [
    pytest.mark.clock,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]

TRANSFERS = 20


def at_once(calls) -> tuple[list, list[str], list[Exception]]:
    """Run each call in its own thread and connection, all released together."""
    barrier = threading.Barrier(len(calls))
    passed, refused, errors = [], [], []

    def run(call):
        try:
            barrier.wait()
            passed.append(call())
        except ValidationError as exc:
            refused.append(exc.code)
        except Exception as exc:  # the outcome is the point
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return passed, refused, errors


def proposed(fundraiser, batken, amount: str) -> list[MoneyTransfer]:
    return [
        services.transfer_propose(
            fundraiser=fundraiser, to_fundraiser=batken, amount=amount, by=fundraiser.organiser
        )
        for _ in range(TRANSFERS)
    ]


def approvers(fundraiser) -> list:
    return [
        money_person(fundraiser.group, username=f"second-{n}",
                     role=Member.Role.TREASURER if n % 2 else Member.Role.ORGANISER)
        for n in range(TRANSFERS)
    ]  # fmt: skip


def test_twenty_approvals_at_once_set_aside_only_what_the_balance_holds(
    ledger_transactional_db, fundraiser, rates
):
    batken = batken_fundraiser()
    donated(fundraiser, "70000.00")  # seven transfers of 10 000 fit, thirteen do not
    transfers = proposed(fundraiser, batken, "10000.00")
    people = approvers(fundraiser)
    calls = [
        lambda t=t, by=by: services.transfer_approve(transfer=t, by=by)
        for t, by in zip(transfers, people, strict=True)
    ]
    passed, refused, errors = at_once(calls)
    assert errors == []
    assert len(passed) == 7 and refused == ["over_balance"] * 13
    waiting = MoneyTransfer.objects.filter(status="approved", acceptance="waiting")
    assert waiting.count() == 7 and MoneyTransfer.objects.filter(status="pending").count() == 13

    accepters = [batken.organiser, money_person(batken.group, username="nurlan")]
    passed, refused, errors = at_once(
        [
            lambda t=t, n=n: services.transfer_accept(transfer=t, by=accepters[n % 2])
            for n, t in enumerate(waiting)
        ]
    )
    assert errors == [] and refused == [] and len(passed) == 7
    assert balance(fundraiser) == Decimal("0.00") and balance(batken) == Decimal("12215.00")
    assert LedgerEntry.objects.filter(kind="money_transfer").count() == 7
    assert reconcile(fundraiser).ok and reconcile(batken).ok


def test_twenty_acceptances_at_once_never_take_the_balance_below_zero(
    ledger_transactional_db, fundraiser, rates
):
    batken = batken_fundraiser()
    gifts = donated(fundraiser, "10000.00", times=TRANSFERS)
    transfers = proposed(fundraiser, batken, "10000.00")
    for transfer, by in zip(transfers, approvers(fundraiser), strict=True):
        services.transfer_approve(transfer=transfer, by=by)
    # Half the money turns out never to have arrived: the approved transfers exceed it now.
    for gift in gifts[:12]:
        services.correction_record(row=gift, reason="bounced", by=fundraiser.organiser)
    assert balance(fundraiser) == Decimal("80000.00")

    passed, refused, errors = at_once(
        [lambda t=t: services.transfer_accept(transfer=t, by=batken.organiser) for t in transfers]
    )
    assert errors == []
    assert len(passed) == 8 and refused == ["over_balance"] * 12
    assert balance(fundraiser) == Decimal("0.00")
    row = FundraiserTotal.objects.get(fundraiser=fundraiser)
    assert row.sent == Decimal("80000.00") and row.transfers_out == 8
    assert FundraiserTotal.objects.get(fundraiser=batken).transfers_in == 8
    assert LedgerEntry.objects.filter(kind="money_transfer").count() == 8
    assert reconcile(fundraiser).ok and reconcile(batken).ok


def test_without_the_lock_the_balance_would_go_below_zero(
    ledger_transactional_db, fundraiser, rates, monkeypatch
):
    """The lock is what holds the rule: with `_locked_fundraiser` a plain read, twenty
    approvals at once set aside more than the fundraiser holds."""
    monkeypatch.setattr(services, "_locked_fundraiser", lambda fundraiser: fundraiser)
    batken = batken_fundraiser()
    donated(fundraiser, "70000.00")
    transfers = proposed(fundraiser, batken, "10000.00")
    calls = [
        lambda t=t, by=by: services.transfer_approve(transfer=t, by=by)
        for t, by in zip(transfers, approvers(fundraiser), strict=True)
    ]
    passed, _refused, errors = at_once(calls)
    assert errors == []
    assert len(passed) > 7
