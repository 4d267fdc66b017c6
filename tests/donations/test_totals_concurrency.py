"""Donations to one fundraiser at the same instant, on PostgreSQL: its totals rows end exactly
equal to the sum of what was recorded, none lost to another writer."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.db.models import Count, Sum
from django.utils import timezone

from donations import services
from donations.models import Donation, FundraiserTotal
from donations.reconcile import reconcile

pytestmark = pytest.mark.clock

WRITERS = 12


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_concurrent_donations_leave_the_totals_equal_to_their_sum(
    ledger_transactional_db, fundraiser, rates
):
    # Two currencies, so writers also race to create a currency's first totals row.
    amounts = [(Decimal(100 + n), "KZT" if n % 2 else "USD") for n in range(WRITERS)]
    barrier = threading.Barrier(WRITERS)
    errors: list[Exception] = []

    def give(amount, currency):
        try:
            barrier.wait()
            services.donation_record(
                fundraiser=fundraiser, amount=amount, currency=currency,
                received_at=timezone.now(), channel="cash", by=None,
            )  # fmt: skip
        except Exception as exc:  # the outcome is the point
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=give, args=pair) for pair in amounts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    recorded = {
        row["currency"]: (row["amount"], row["converted"], row["n"])
        for row in Donation.objects.values("currency")
        .order_by("currency")
        .annotate(amount=Sum("amount"), converted=Sum("converted_amount"), n=Count("id"))
    }
    assert recorded["KZT"][0] == sum(a for a, c in amounts if c == "KZT")
    totals = {
        row.currency: (row.raised, row.raised_converted, row.donations)
        for row in FundraiserTotal.objects.filter(fundraiser=fundraiser)
    }
    assert totals == recorded
    assert sum(n for *_, n in totals.values()) == WRITERS
    assert reconcile(fundraiser).ok
