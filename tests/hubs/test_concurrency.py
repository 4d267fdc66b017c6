"""Two volunteers dispatch the last units at the same moment, on PostgreSQL."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections

from hubs import services
from hubs.models import StockLevel, StockMovement
from tests.factories import HubFactory, ItemFactory, PlaceFactory


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_two_concurrent_dispatches_of_the_last_units_one_wins_one_is_refused(
    ledger_transactional_db,
):
    hub, item, place = HubFactory(), ItemFactory(), PlaceFactory()
    services.hub_receive_goods(hub=hub, lines=[(item, Decimal("10"))], by=None)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def dispatch(reference: str) -> None:
        try:
            barrier.wait()
            services.stock_dispatch(hub=hub, place=place, lines=[(item, Decimal("10"))],
                                    by=None, reference=reference)  # fmt: skip
            outcomes.append("ok")
        except services.StockError as exc:
            outcomes.append(exc.messages[0])
        finally:
            connections.close_all()

    threads = [threading.Thread(target=dispatch, args=(f"d-{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes, key=len) == [
        "ok", f"{hub.name} has only 0 kg of Flour left; 10 kg cannot be taken."
    ]  # fmt: skip
    assert StockLevel.objects.get(hub=hub, item=item).quantity == 0
    assert StockMovement.objects.filter(kind="dispatch").count() == 1
