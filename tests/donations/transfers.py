"""Helpers for tests of money passed between groups: the Batken group's fundraiser in KGS
with its two money people, and money in the Almaty fundraiser to pass on."""

import datetime
from decimal import Decimal

from django.utils import timezone

from donations import services
from donations.models import Fundraiser
from tests.factories import UserFactory, money_person, organised_by


def batken_fundraiser(*, slug: str = "batken-villages", currency: str = "KGS") -> Fundraiser:
    """A fundraiser of another group (the Batken activist's), whose organiser `aibek` and
    treasurer `nurlan` are its money people."""
    aibek = UserFactory(username="aibek", email="aibek@example.org")
    fundraiser = Fundraiser.objects.create(
        slug=slug, title="Villages near Isfana", **organised_by(aibek),
        goal_amount=Decimal("900000"), currency=currency,
        starts_on=timezone.localdate() - datetime.timedelta(days=3),
    )  # fmt: skip
    money_person(fundraiser.group, username="nurlan")
    return fundraiser


def donated(fundraiser: Fundraiser, amount: str, *, times: int = 1) -> list:
    return [
        services.donation_record(
            fundraiser=fundraiser,
            amount=amount,
            currency=fundraiser.currency,
            received_at=timezone.now(),
            channel="card",
            by=fundraiser.organiser,
        )
        for _ in range(times)
    ]
