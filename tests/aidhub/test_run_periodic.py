"""`manage.py run_periodic`: the beat of the embedded mode, so `make run` signs checkpoints."""

from datetime import timedelta

import pytest
from celery.schedules import crontab
from django.core.management import CommandError, call_command

from ledger import services as ledger
from ledger.models import Checkpoint
from tests.ledger.factories import donation

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _embedded(settings):
    """The embedded mode that `make run` uses; CI also runs the suite with a broker."""
    settings.CELERY_TASK_ALWAYS_EAGER = True


EVERY_SECOND = {
    "ledger-checkpoint": {"task": "ledger.tasks.checkpoint_sign", "schedule": 0.05},
    "claims-release-expired": {
        "task": "deliveries.tasks.claims_release_expired",
        "schedule": timedelta(seconds=0.08),
    },
}


def test_the_loop_signs_a_checkpoint_once_the_ledger_has_grown(settings):
    settings.CELERY_BEAT_SCHEDULE = EVERY_SECOND
    ledger.append(kind="donation", payload=donation())
    assert not Checkpoint.objects.exists()
    call_command("run_periodic", "--runs", "3")
    assert Checkpoint.objects.get().size == 1


def test_once_runs_only_the_named_task(settings):
    settings.CELERY_BEAT_SCHEDULE = EVERY_SECOND
    ledger.append(kind="donation", payload=donation())
    call_command("run_periodic", "--once", "--task", "ledger-checkpoint")
    assert Checkpoint.objects.get().size == 1


def test_a_failing_task_does_not_stop_the_others(settings):
    settings.CELERY_BEAT_SCHEDULE = {
        "broken": {"task": "ledger.tasks.checkpoint_sign", "schedule": 0.01, "args": ["no"]},
        **EVERY_SECOND,
    }
    ledger.append(kind="donation", payload=donation())
    call_command("run_periodic", "--runs", "6")
    assert Checkpoint.objects.exists()
    with pytest.raises(CommandError, match="failed: broken"):
        call_command("run_periodic", "--once", "--task", "broken")


def test_it_refuses_what_it_cannot_do(settings):
    with pytest.raises(CommandError, match="No such periodic task: nope"):
        call_command("run_periodic", "--once", "--task", "nope")
    settings.CELERY_BEAT_SCHEDULE = {"daily": {"task": "x", "schedule": crontab(hour=3)}}
    with pytest.raises(CommandError, match="only an interval"):
        call_command("run_periodic", "--once")
    settings.CELERY_TASK_ALWAYS_EAGER = False
    with pytest.raises(CommandError, match="celery -A aidhub beat"):
        call_command("run_periodic", "--once")


def test_every_task_of_the_real_schedule_can_run_here(settings):
    from aidhub.management.commands.run_periodic import intervals

    assert set(intervals(settings.CELERY_BEAT_SCHEDULE)) == set(settings.CELERY_BEAT_SCHEDULE)
