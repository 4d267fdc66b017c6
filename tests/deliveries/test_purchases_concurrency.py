"""Several people plan deliveries of the same purchase at the same moment: together they may
never carry more than it bought (the expense's row is locked while what is left is counted)."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.utils import timezone

from deliveries import services
from deliveries.models import DeliveryLine
from donations.models import Fundraiser
from tests.deliveries.test_purchases import purchase
from tests.factories import GroupFactory, ItemFactory, MemberFactory, PlaceFactory, UserFactory


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_plans_at_the_same_moment_never_carry_more_than_the_purchase_bought(
    ledger_transactional_db, media
):
    group = GroupFactory(slug="batken-volunteers", name="Batken volunteers")
    organiser = MemberFactory(group=group, user=UserFactory(username="aziz")).user
    MemberFactory(group=group, user=UserFactory(username="saule"), role="treasurer")
    planners = [
        MemberFactory(group=group, user=UserFactory(username=f"c{n}"), role="coordinator").user
        for n in range(6)
    ]
    fundraiser = Fundraiser.objects.create(
        slug="batken-direct", title="Batken direct", organiser=organiser, group=group,
        goal_amount=Decimal("100000"), currency="KGS", starts_on=timezone.localdate(),
    )  # fmt: skip
    flour = ItemFactory()
    bought = purchase(fundraiser, [(flour, Decimal("100"))])
    place = PlaceFactory()
    barrier = threading.Barrier(len(planners))
    outcomes: list[str] = []

    def go(by):
        try:
            barrier.wait()
            services.delivery_plan_from_expense(
                expense=bought, place=place, by=by, lines=[(flour, Decimal("40"))]
            )
            outcomes.append("ok")
        except Exception as exc:  # the message is the point
            outcomes.append(" ".join(getattr(exc, "messages", [repr(exc)])))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=go, args=(by,)) for by in planners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcomes.count("ok") == 2
    refusals = [o for o in outcomes if o != "ok"]
    assert len(refusals) == 4
    assert all(o == "This purchase has 20 of Flour left to deliver, not 40." for o in refusals)
    carried = sum(DeliveryLine.objects.values_list("quantity", flat=True))
    assert carried == Decimal("80")
