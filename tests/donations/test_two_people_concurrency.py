"""Second people approving the same expense at the same instant, on PostgreSQL: one expense,
one ledger entry, one receipt published; every other approval is told it was already decided."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.utils import timezone

from aidhub.uploads import CleanFile
from donations import services
from donations.models import Expense, ExpenseProposal, FundraiserTotal
from donations.reconcile import reconcile
from groups.models import Member
from ledger.models import LedgerEntry
from tests.factories import money_person
from tests.ledger.factories import jpeg_bytes

pytestmark = pytest.mark.clock

APPROVERS = 8


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_concurrent_approvals_of_one_expense_write_one_entry(
    ledger_transactional_db, fundraiser, rates, media
):
    approvers = [
        money_person(fundraiser.group, username=f"second-{n}",
                     role=Member.Role.TREASURER if n % 2 else Member.Role.ORGANISER)
        for n in range(APPROVERS)
    ]  # fmt: skip
    proposal = services.expense_propose(
        fundraiser=fundraiser, vendor="Dordoi market", amount="1200.00", currency="KGS",
        paid_at=timezone.now(), receipt=CleanFile(jpeg_bytes(), "image/jpeg"),
        by=fundraiser.organiser,
    )  # fmt: skip
    barrier = threading.Barrier(APPROVERS)
    approved: list[Expense] = []
    refused: list[str] = []
    errors: list[Exception] = []

    def approve(by):
        try:
            barrier.wait()
            # Each thread holds the proposal as its page showed it: still pending.
            approved.append(services.expense_approve(proposal=proposal, by=by))
        except ValidationError as exc:
            refused.append(exc.code)
        except Exception as exc:  # the outcome is the point
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=approve, args=(by,)) for by in approvers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len(approved) == 1 and refused == ["already_decided"] * (APPROVERS - 1)
    assert Expense.objects.count() == 1
    assert LedgerEntry.objects.filter(kind="expense").count() == 1
    assert ExpenseProposal.objects.get().expense == approved[0]
    assert FundraiserTotal.objects.get(fundraiser=fundraiser).expenses == 1
    assert reconcile(fundraiser).ok
