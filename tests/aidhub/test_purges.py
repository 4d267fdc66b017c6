"""What nobody will ask for again is deleted by beat (hourly): visitors' one-time tokens after a
day, subscriptions never confirmed after a week. Signed-in accounts' tokens and confirmed
subscriptions stay."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from aidhub.celery import app
from aidhub.models import IdempotentSubmission
from notifications.models import Subscription
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def run(entry: str) -> None:
    """The task beat's schedule names under `entry`, run here (as `run_periodic` would)."""
    app.loader.import_default_modules()  # the apps' tasks modules, as a worker does
    app.tasks[settings.CELERY_BEAT_SCHEDULE[entry]["task"]].apply(throw=True)


def test_anonymous_tokens_go_after_a_day_an_accounts_stay():
    IdempotentSubmission.objects.create(key="b-" + "0" * 32, user=None, result="1")
    mine = IdempotentSubmission.objects.create(key="k" * 32, user=UserFactory(), result="2")
    with time_machine.travel(timezone.now() + timedelta(hours=23), tick=False):
        run("submissions-anonymous-purge")
        assert IdempotentSubmission.objects.count() == 2
        fresh = IdempotentSubmission.objects.create(key="b-" + "1" * 32, user=None, result="3")
    with time_machine.travel(timezone.now() + timedelta(hours=25), tick=False):
        run("submissions-anonymous-purge")
    assert set(IdempotentSubmission.objects.all()) == {mine, fresh}


def test_subscriptions_never_confirmed_go_after_a_week(settings):
    def follow(address, **extra):
        return Subscription.objects.create(
            channel="email", address=address, scope="ledger", ref="", language="en", **extra
        )

    follow("pending@example.org")
    confirmed = follow("confirmed@example.org", confirmed_at=timezone.now())
    telegram = Subscription.objects.create(channel="telegram", scope="ledger", ref="")
    with time_machine.travel(timezone.now() + timedelta(days=6, hours=23), tick=False):
        run("subscriptions-pending-purge")
        assert Subscription.objects.count() == 3
        recent = follow("recent@example.org")
    with time_machine.travel(timezone.now() + timedelta(days=7, hours=1), tick=False):
        run("subscriptions-pending-purge")
    assert set(Subscription.objects.all()) == {confirmed, recent}
    assert not Subscription.objects.filter(pk=telegram.pk).exists()
    settings.SUBSCRIPTION_PENDING_DAYS = 30
    with time_machine.travel(timezone.now() + timedelta(days=20), tick=False):
        run("subscriptions-pending-purge")
    assert Subscription.objects.filter(pk=recent.pk).exists()
