"""Two volunteers dispatch deliveries that both need the last units, at the same moment."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections

from deliveries import services
from deliveries.models import Delivery
from hubs import services as hub_services
from hubs.models import Membership, StockLevel
from tests.factories import HubFactory, ItemFactory, MembershipFactory, PlaceFactory, UserFactory


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_two_volunteers_dispatching_the_last_units_one_goes_one_is_told_why(
    ledger_transactional_db,
):
    hub, flour = HubFactory(), ItemFactory()
    coordinator = MembershipFactory(hub=hub).user
    hub_services.hub_receive_goods(hub=hub, lines=[(flour, Decimal("10"))], by=None)
    volunteers = [
        MembershipFactory(
            hub=hub, role=Membership.Role.VOLUNTEER, user=UserFactory(username=f"v{n}")
        ).user
        for n in range(2)
    ]
    deliveries = []
    for volunteer in volunteers:
        delivery = services.delivery_plan(
            hub=hub, place=PlaceFactory(), lines=[(flour, Decimal("10"))], by=coordinator
        )
        services.delivery_claim(delivery=delivery, volunteer=volunteer)
        deliveries.append(delivery)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def go(delivery, volunteer):
        try:
            barrier.wait()
            services.delivery_dispatch(delivery=delivery, volunteer=volunteer)
            outcomes.append("ok")
        except Exception as exc:  # the message is the point
            outcomes.append(" ".join(getattr(exc, "messages", [repr(exc)])))
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=go, args=pair) for pair in zip(deliveries, volunteers, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes, key=len)[0] == "ok"
    assert "has only 0 kg of Flour left" in sorted(outcomes, key=len)[1]
    assert StockLevel.objects.get(hub=hub, item=flour).quantity == 0
    statuses = sorted(Delivery.objects.values_list("status", flat=True))
    assert statuses == ["claimed", "dispatched"]
