"""A task used only by the integration tests: it proves the worker process ran it."""

import os

from celery import shared_task
from django.contrib.auth.models import Group


@shared_task
def mark_group_seen_by_worker(group_id: int) -> None:
    Group.objects.filter(pk=group_id).update(name=f"seen-by-worker-pid-{os.getpid()}")
