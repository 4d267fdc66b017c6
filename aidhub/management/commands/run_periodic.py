"""The periodic work of `celery beat` for the embedded mode (no Redis, no worker): `make run`.

With a broker, `celery -A aidhub beat` sends each task of CELERY_BEAT_SCHEDULE to a worker. In
the embedded mode Celery runs tasks in the calling process and there is no worker to send them
to, so this command is the beat and the worker at once: it runs each task in this process at its
interval (the first time one interval after starting, as beat does), so the demo signs
checkpoints as the ledger grows, releases expired claims and sweeps notifications the way
production does. A failing task is logged and tried again at its next time; it never stops the
others. Celery beat itself would be worse here: it has no way to run a task without a worker.
"""

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from aidhub.celery import app

log = logging.getLogger(__name__)


def intervals(schedule: dict[str, dict]) -> dict[str, float]:
    """Each task's interval in seconds, by the schedule entry's name. Only plain intervals
    (seconds or a timedelta) are understood; an entry with a crontab is refused by name."""
    found = {}
    for name, entry in schedule.items():
        every = entry["schedule"]
        if isinstance(every, timedelta):
            every = every.total_seconds()
        if not isinstance(every, int | float) or every <= 0:
            raise CommandError(f"{name}: only an interval in seconds can run here, not {every!r}")
        found[name] = float(every)
    return found


def run_task(name: str, entry: dict) -> bool:
    """Run one schedule entry's task now, in this process. False when it failed (logged)."""
    try:
        app.tasks[entry["task"]].apply(
            args=entry.get("args", ()), kwargs=entry.get("kwargs", {}), throw=True
        )
    except Exception:
        log.exception(
            "periodic task %s (%s) failed; it runs again at its next time", name, entry["task"]
        )
        return False
    return True


class Command(BaseCommand):
    help = (
        "Run the periodic tasks of CELERY_BEAT_SCHEDULE in this process, each at its interval: "
        "the beat for the embedded mode (make run). With Redis, run `celery -A aidhub beat`."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--once", action="store_true", help="run the tasks once now, then stop")
        parser.add_argument(
            "--runs", type=int, default=0, metavar="N", help="stop after N task runs (0: never)"
        )
        parser.add_argument(
            "--task",
            action="append",
            default=[],
            metavar="NAME",
            help="only this schedule entry (e.g. ledger-checkpoint); may be repeated",
        )

    def handle(self, *args, once: bool = False, runs: int = 0, task: list[str], **options) -> None:
        if not settings.CELERY_TASK_ALWAYS_EAGER:
            raise CommandError(
                "Celery has a broker (REDIS_URL is set): run `celery -A aidhub beat` and a worker."
            )
        schedule = settings.CELERY_BEAT_SCHEDULE
        unknown = sorted(set(task) - set(schedule))
        if unknown:
            raise CommandError(
                f"No such periodic task: {', '.join(unknown)}. Known: {', '.join(sorted(schedule))}"
            )
        if task:
            schedule = {name: schedule[name] for name in task}
        every = intervals(schedule)
        app.loader.import_default_modules()  # the apps' tasks modules, as a worker does
        if once:
            failed = [name for name in schedule if not run_task(name, schedule[name])]
            if failed:
                raise CommandError(f"failed: {', '.join(failed)} (see the log)")
            return
        self.stdout.write(
            "Periodic tasks in this process: "
            + ", ".join(f"{name} every {every[name]:g} s" for name in sorted(schedule))
        )
        start = time.monotonic()
        due = {name: start + every[name] for name in schedule}
        done = 0
        while not runs or done < runs:
            name = min(due, key=due.get)
            time.sleep(max(0.0, due[name] - time.monotonic()))
            run_task(name, schedule[name])
            done += 1
            due[name] = max(due[name] + every[name], time.monotonic())
