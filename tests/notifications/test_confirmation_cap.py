"""An address gets at most CONFIRMATIONS_PER_ADDRESS_PER_DAY confirmation mails a day, whatever
it is asked to follow and however often: the form is public, so anyone can type a stranger's
address. The answer is the same when the cap is reached."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from donations.models import Fundraiser
from notifications import services
from notifications.models import Notification, Subscription
from tests.factories import organised_by

pytestmark = pytest.mark.django_db
SUBSCRIBE = "/notifications/subscribe/"
VICTIM = "victim@example.org"


def follow(client, slug: str, address: str = VICTIM):
    return client.post(
        SUBSCRIBE, {"scope": "fundraiser", "ref": slug, "channel": "email", "address": address}
    )


def confirmations(address: str = VICTIM) -> int:
    return Notification.objects.filter(kind="confirm", address=address).count()


def test_many_fundraisers_followed_by_one_address_mail_it_three_times_a_day(client, fundraiser):
    slugs = [fundraiser.slug]
    for i in range(5):
        slugs.append(f"winter-coal-{i}")
        Fundraiser.objects.create(
            slug=slugs[-1], title=f"Coal {i}", **organised_by(fundraiser.organiser),
            goal_amount=1000, currency="KGS", starts_on=timezone.localdate(),
        )  # fmt: skip
    answers = [follow(client, slug) for slug in slugs]
    assert {answer.status_code for answer in answers} == {200}
    assert Subscription.objects.filter(address=VICTIM).count() == 6
    assert confirmations() == 3 == services.CONFIRMATIONS_PER_ADDRESS_PER_DAY
    follow(client, fundraiser.slug, address="someone-else@example.org")
    assert confirmations("someone-else@example.org") == 1  # the cap is the address's own


def test_a_pending_subscription_is_not_reconfirmed_every_ten_minutes_forever(client, fundraiser):
    for step in range(8):
        when = timezone.now() + timedelta(minutes=11 * step)
        with time_machine.travel(when, tick=False):
            assert follow(client, fundraiser.slug).status_code == 200
    assert Subscription.objects.get().confirmed_at is None
    assert confirmations() == 3
