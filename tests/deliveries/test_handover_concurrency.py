"""Many wrong handover codes sent at the same moment: each one claims an attempt before its
guess is compared, so no more than HANDOVER_ATTEMPTS guesses are ever checked, however many
arrive together. (Reading the count first and adding to it after let 7 of 40 through.)"""

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from deliveries import services
from deliveries.models import Handover
from hubs import services as hub_services
from hubs.models import Membership
from tests.factories import HubFactory, ItemFactory, MembershipFactory, PlaceFactory, UserFactory

GUESSES = 40


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_forty_wrong_codes_at_once_have_five_guesses_checked(ledger_transactional_db):
    hub, flour = HubFactory(), ItemFactory()
    coordinator = MembershipFactory(hub=hub).user
    volunteer = MembershipFactory(
        hub=hub, role=Membership.Role.VOLUNTEER, user=UserFactory(username="bakyt")
    ).user
    hub_services.hub_receive_goods(hub=hub, lines=[(flour, Decimal("10"))], by=None)
    delivery = services.delivery_plan(
        hub=hub, place=PlaceFactory(), lines=[(flour, Decimal("1"))], by=coordinator
    )
    services.delivery_claim(delivery=delivery, volunteer=volunteer)
    services.delivery_dispatch(delivery=delivery, volunteer=volunteer)
    code = services.handover_code_issue(delivery=delivery, volunteer=volunteer).code
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    barrier = threading.Barrier(GUESSES)
    outcomes: list[str] = []

    def guess():
        try:
            barrier.wait()
            services.handover_confirm(delivery=delivery, code=wrong)
            outcomes.append("confirmed")
        except ValidationError as exc:
            outcomes.append(exc.code or "")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=guess) for _ in range(GUESSES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(outcomes) == GUESSES
    assert outcomes.count("wrong_code") == services.HANDOVER_ATTEMPTS
    assert outcomes.count("expired") == GUESSES - services.HANDOVER_ATTEMPTS
    assert Handover.objects.get(delivery=delivery).failed_attempts == services.HANDOVER_ATTEMPTS
    with pytest.raises(ValidationError, match="expired"):
        services.handover_confirm(delivery=delivery, code=code)  # the code is spent
