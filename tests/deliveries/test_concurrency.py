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


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_dispatch_and_a_return_at_the_same_moment_never_lose_stock(ledger_transactional_db):
    """20 trials: the car leaves while someone closes the delivery as "goods returned". Either
    the return comes first (nothing left the hub) or after (what left comes back)."""
    hub, flour = HubFactory(), ItemFactory()
    coordinator = MembershipFactory(hub=hub).user
    volunteer = MembershipFactory(hub=hub, role=Membership.Role.VOLUNTEER).user
    hub_services.hub_receive_goods(hub=hub, lines=[(flour, Decimal("1000"))], by=None)
    lost = []
    for trial in range(20):
        delivery = services.delivery_plan(
            hub=hub, place=PlaceFactory(), lines=[(flour, Decimal("10"))], by=coordinator
        )
        services.delivery_claim(delivery=delivery, volunteer=volunteer)
        start = StockLevel.objects.get(hub=hub, item=flour).quantity
        barrier = threading.Barrier(2)

        def go(step, pk, barrier):
            copy = Delivery.objects.get(pk=pk)  # each loaded its page before
            try:
                barrier.wait()
                step(copy)
            except services.DeliveryError:
                pass  # the dispatch came too late: the delivery was already closed
            finally:
                connections.close_all()

        steps = [
            lambda d: services.delivery_dispatch(delivery=d, volunteer=volunteer),
            lambda d: services.delivery_fail(
                delivery=d, by=coordinator, reason="road closed", returned=True
            ),
        ]
        threads = [threading.Thread(target=go, args=(step, delivery.pk, barrier)) for step in steps]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        delivery.refresh_from_db()
        on_hand = StockLevel.objects.get(hub=hub, item=flour).quantity
        out = 10 if delivery.status == Delivery.Status.DISPATCHED else 0
        if on_hand + out != start:
            lost.append(f"trial {trial}: {on_hand} on hand, {out} out, {delivery.status}")
    assert not lost
