"""The demo scenario: September 2022, the Sports Palace in Bishkek and villages in Batken.

Built through the same services the app uses, so the demo obeys every rule. Running it twice
changes nothing. Later parts of AidHub add their own steps to `seed()`.
"""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction

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
    """Create (or leave as they are) the demo users; return them for printing."""
    user_model = get_user_model()
    for demo in DEMO_USERS:
        user, created = user_model.objects.get_or_create(
            username=demo.username,
            defaults={"first_name": demo.first_name, "is_staff": demo.is_staff},
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
    return DEMO_USERS
