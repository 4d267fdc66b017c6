import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from donations.models import ExchangeRate, Fundraiser
from tests.factories import HubFactory, ItemFactory, UserFactory, money_person, organised_by

# KGS per unit, as the National Bank of the Kyrgyz Republic quotes them.
RATES = {"USD": "87.45", "EUR": "101.20", "GBP": "115.30", "KZT": "0.1745", "RUB": "1.10"}


@pytest.fixture
def organiser(db):
    return UserFactory(username="dana")


@pytest.fixture
def fundraiser(organiser):
    """Almaty for Batken, whose group has the two money people every payment needs: its
    organiser and its treasurer (the `treasurer` fixture)."""
    fundraiser = Fundraiser.objects.create(
        slug="almaty-for-batken", title="Almaty for Batken", **organised_by(organiser),
        goal_amount=Decimal("10500000"), currency="KZT",
        starts_on=timezone.localdate() - datetime.timedelta(days=3),
        how_to_donate="Kaspi card, ask in our channel",
    )  # fmt: skip
    money_person(fundraiser.group, username="saule")
    return fundraiser


@pytest.fixture
def treasurer(fundraiser):
    """The second money person of the fundraiser's group: approves what the organiser proposes."""
    return money_person(fundraiser.group, username="saule")


@pytest.fixture
def rates(db):
    today = timezone.localdate()
    for code, value in RATES.items():
        ExchangeRate.objects.create(date=today, base=code, quote="KGS", rate=Decimal(value),
                                    source="nbkr")  # fmt: skip
    return RATES


@pytest.fixture
def palace(db):
    return HubFactory(slug="sports-palace", name="Sports Palace")


@pytest.fixture
def flour(db):
    return ItemFactory()
