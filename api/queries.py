"""Reads for the API that the apps' own query modules do not offer: list-page sums computed in
SQL (a constant number of queries per page), and the published facts of deliveries, read from
their ledger entries so that the API can never say more than the ledger does."""

import json
from collections.abc import Iterable

from django.db.models import QuerySet

from deliveries.models import Delivery
from donations.models import Fundraiser
from donations.queries import public_fundraisers, total_of
from ledger.models import LedgerEntry


def fundraisers_with_sums() -> QuerySet[Fundraiser]:
    """Public fundraisers with `raised_total`, `spent_total` and `balance_total` (raised +
    received − sent − spent) in their own currency, the same figures `donations.queries.totals`
    gives one fundraiser (a test holds them equal)."""
    return public_fundraisers().annotate(
        raised_total=total_of("raised_converted"),
        spent_total=total_of("spent_converted"),
        received_total=total_of("received_converted"),
        sent_total=total_of("sent_converted"),
    )


def published_deliveries() -> QuerySet[Delivery]:
    """Deliveries a second person verified: the only ones in the public ledger."""
    return Delivery.objects.filter(
        status=Delivery.Status.VERIFIED, ledger_index__isnull=False
    ).select_related("hub", "place__region")


def ledger_payloads(indexes: Iterable[int]) -> dict[int, dict]:
    """The published payloads of the given ledger entries, by index, in one query."""
    leaves = LedgerEntry.objects.filter(index__in=list(indexes)).values_list("index", "leaf")
    return {index: json.loads(bytes(leaf))["payload"] for index, leaf in leaves}
