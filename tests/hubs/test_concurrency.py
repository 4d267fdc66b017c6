"""Two volunteers dispatch the last units at the same moment, on PostgreSQL."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.test import Client

from hubs import services
from hubs.models import StockLevel, StockMovement, SupplyRequest
from ledger.models import LedgerEntry
from tests.factories import HubFactory, ItemFactory, MembershipFactory, PlaceFactory, UserFactory


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
def test_two_requests_from_one_place_for_one_item_at_once_open_one(ledger_transactional_db):
    hub, item, place = HubFactory(), ItemFactory(), PlaceFactory()
    for _trial in range(4):
        outcomes = _at_once(
            *[
                lambda: services.request_create(hub=hub, place=place, lines=[(item, 5)], by=None)
                for _ in range(2)
            ]
        )
        assert sorted(type(o).__name__ for o in outcomes) == ["DuplicateRequest", "SupplyRequest"]
        assert SupplyRequest.objects.filter(place=place, status="open").count() == 1
        SupplyRequest.objects.filter(place=place).update(status="cancelled")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_7_soap_received_twice_at_once_with_one_token_is_7(ledger_transactional_db):
    hub = HubFactory(accepts=["hygiene"])
    soap = ItemFactory(slug="soap", name="Soap", category="hygiene", unit="piece")
    owner = MembershipFactory(hub=hub, user=UserFactory(is_staff=True)).user
    form = {"lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "0", "lines-0-item": soap.pk,
            "lines-0-quantity": "7", "public_name": "",
            "idempotency_key": "5b0c1d2e3f40415263748596a7b8c9d0"}  # fmt: skip

    def post():
        client = Client()
        client.force_login(owner)
        return client.post(f"/hubs/{hub.slug}/receive/", form).status_code

    assert _at_once(post, post) == [302, 302]
    assert StockLevel.objects.get(hub=hub, item=soap).quantity == 7
    assert StockMovement.objects.filter(kind="intake").count() == 1
    assert LedgerEntry.objects.filter(kind="intake").count() == 1
