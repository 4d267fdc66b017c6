"""Two tabs confirm the same bank statement at the same instant, on PostgreSQL: one records
its donations, the other records nothing and says why."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.utils import timezone

from donations import statements
from donations.models import Donation

pytestmark = pytest.mark.clock


def _at_once(*calls) -> list[object]:
    """Run the calls in threads released together; what each returned or raised."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[object] = [None] * len(calls)

    def run(n, call):
        try:
            barrier.wait()
            outcomes[n] = call()
        except Exception as exc:  # the outcome is the point
            outcomes[n] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_two_tabs_confirming_one_statement_at_once_record_it_once(
    ledger_transactional_db, fundraiser, organiser
):
    today = timezone.localdate().isoformat()
    text = f"date,amount,currency,reference\n{today},5000,KZT,00001234\n{today},7000,KZT,\n"
    rows = statements.as_session(statements.statement_preview(fundraiser, text))
    sha = statements.statement_sha256(rows)
    assert [row["status"] for row in rows] == ["new", "new"]

    def confirm():
        return statements.statement_import(fundraiser, rows, previewed_sha256=sha, by=organiser)

    outcomes = _at_once(confirm, confirm)
    assert sorted(map(str, outcomes)) == [
        "2",
        str(
            [
                "Nothing was recorded: some of these rows were recorded meanwhile (in another "
                "tab, or by hand). Check the statement again and confirm what you see."
            ]
        ),
    ]
    assert isinstance(next(o for o in outcomes if o != 2), ValidationError)
    assert sorted(int(d.amount) for d in Donation.objects.all()) == [5000, 7000]


def test_a_confirm_after_the_rows_were_recorded_records_nothing(db, fundraiser, organiser):
    today = timezone.localdate().isoformat()
    text = f"date,amount,currency,reference\n{today},5000,KZT,00001234\n"
    rows = statements.as_session(statements.statement_preview(fundraiser, text))
    sha = statements.statement_sha256(rows)
    assert statements.statement_import(fundraiser, rows, previewed_sha256=sha, by=organiser) == 1
    with pytest.raises(ValidationError, match="recorded meanwhile"):
        statements.statement_import(fundraiser, rows, previewed_sha256=sha, by=organiser)
    assert Donation.objects.count() == 1
