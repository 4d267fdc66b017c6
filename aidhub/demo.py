"""The demo scenario: September 2022, the Sports Palace in Bishkek and villages in Batken.

Built through the same services the app uses, so the demo obeys every rule. Running it twice
changes nothing. Later parts of AidHub add their own steps to `seed()`.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from django.contrib.auth import get_user_model
from django.db import transaction

from ledger import services as ledger
from ledger.models import LedgerEntry

from . import demo_images

DEMO_PASSWORD = "aidhub-demo"  # noqa: S105 - printed for the demo; seeding refuses production


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    first_name: str
    is_staff: bool = False


DEMO_USERS = [
    DemoUser("coordinator", "coordinator", "Aigerim", is_staff=True),
    DemoUser("volunteer", "volunteer", "Bakyt"),
    DemoUser("volunteer2", "volunteer", "Nurlan"),
    DemoUser("organizer", "fundraiser organizer", "Dana"),
]


@transaction.atomic
def seed() -> list[DemoUser]:
    """Create (or leave as they are) the demo users and the demo ledger; return the users."""
    seed_users()
    seed_ledger()
    ledger.checkpoint_sign()
    return DEMO_USERS


def seed_users() -> None:
    user_model = get_user_model()
    for demo in DEMO_USERS:
        user, created = user_model.objects.get_or_create(
            username=demo.username,
            defaults={"first_name": demo.first_name, "is_staff": demo.is_staff},
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])


FUNDRAISER = {"id": "almaty-for-batken-2022", "title": "Almaty for Batken: aid for evacuees"}
PALACE = {"id": "sports-palace", "name": "Sports Palace, Bishkek"}
ISFANA = {"id": "isfana", "name": "Isfana", "region": "Batken", "district": "Leilek"}
AK_SAI = {"id": "ak-sai", "name": "Ak-Sai", "region": "Batken", "district": "Batken"}


def _at(day: int, hour: int) -> datetime:
    return datetime(2022, 9, day, hour, 0, tzinfo=UTC)


def _money(amount: str, currency: str) -> dict:
    return {"amount": amount, "currency": currency}


def _line(item: str, name: str, quantity: str, unit: str, category: str) -> dict:
    return {"item": item, "name": name, "quantity": quantity, "unit": unit, "category": category}


def _donation(amount: str, currency: str, kzt: str, rate: str, source: str, **extra) -> dict:
    return {
        "fundraiser": FUNDRAISER,
        "money": _money(amount, currency),
        "converted": _money(kzt, "KZT"),
        "rate": rate,
        "rate_source": source,
        "received_at": "2022-09-17T09:00:00Z",
        **extra,
    }


def seed_ledger() -> None:
    """The September 2022 story in the public ledger. Written straight into the ledger until
    the hubs, donations and deliveries apps exist; those will write these entries themselves."""
    if LedgerEntry.objects.exists():
        return
    flour = _line("flour", "Flour", "500", "kg", "food")
    water = _line("water", "Drinking water", "600", "litre", "water")
    nappies = _line("nappies", "Nappies", "40", "pack", "baby")
    bags = _line("sleeping-bag", "Sleeping bags", "120", "piece", "shelter")
    donations = [
        ("2500000.00", "KZT", "2500000.00", "1", "same currency", "card", None),
        ("150000.00", "KGS", "817500.00", "5.45", "nbkr:2022-09-17", "bank_transfer", None),
        ("1000.00", "USD", "477000.00", "477.00", "nbk:2022-09-17", "card", "Friends in Berlin"),
        ("500.00", "GBP", "551000.00", "1102.00", "bank: Kaspi", "e_wallet", None),
    ]
    first = None
    for day, (amount, currency, kzt, rate, source, channel, name) in enumerate(donations, 17):
        extra = {"channel": channel} | ({"public_name": name} if name else {})
        entry = ledger.append(
            kind="donation",
            payload=_donation(amount, currency, kzt, rate, source, **extra),
            at=_at(day, 10),
        )
        first = first or entry
    ledger.receipt_code_issue(entry=first)
    receipt = ledger.evidence_store(
        data=demo_images.receipt(["Flour 500 kg", "Drinking water 600 l", "Nappies 40 packs"],
                                 "163500.00 KGS"),
        content_type="image/jpeg",
    )  # fmt: skip
    ledger.append(
        kind="expense",
        payload={
            "fundraiser": FUNDRAISER,
            "money": _money("163500.00", "KGS"),
            "converted": _money("891075.00", "KZT"),
            "rate": "5.45",
            "rate_source": "nbkr:2022-09-18",
            "vendor": "Dordoi market wholesale",
            "paid_at": "2022-09-18T08:00:00Z",
            "items": [flour, water, nappies],
            "hub": PALACE,
            "evidence": [receipt.sha256],
        },
        at=_at(18, 9),
    )
    ledger.append(
        kind="intake",
        payload={
            "hub": PALACE,
            "items": [bags],
            "received_at": "2022-09-18T12:00:00Z",
            "public_name": "Garment workshop, Shymkent",
        },
        at=_at(18, 12),
    )
    ledger.append(
        kind="dispatch",
        payload={"hub": PALACE, "place": ISFANA, "delivery": "isfana-1",
                 "items": [flour, water, nappies, bags], "fundraisers": [FUNDRAISER]},
        at=_at(19, 6),
    )  # fmt: skip
    photos = [
        ledger.evidence_store(data=demo_images.delivery_photo(seed), content_type="image/jpeg")
        for seed in (1, 2)
    ]
    ledger.append(
        kind="delivery",
        payload={
            "delivery": "isfana-1",
            "hub": PALACE,
            "place": ISFANA,
            "items": [flour, water, nappies, bags],
            "people": 340,
            "households": 85,
            "delivered_at": "2022-09-19T16:00:00Z",
            "confirmed_by_recipient": True,
            "fundraisers": [FUNDRAISER],
            "evidence": [photo.sha256 for photo in photos],
        },
        at=_at(19, 18),
    )
    wrong = ledger.append(
        kind="donation",
        payload=_donation("50000.00", "KZT", "50000.00", "1", "same currency", channel="cash"),
        at=_at(20, 9),
    )
    ledger.append(
        kind="correction",
        payload={"reverses": wrong.index, "reason": "The same cash gift was recorded twice."},
        at=_at(20, 10),
    )
