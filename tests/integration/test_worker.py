import os

import pytest
from django.contrib.auth.models import Group

from .conftest import wait_for


@pytest.mark.urls("tests.integration.urls")
def test_task_enqueued_on_commit_by_a_request_runs_in_a_real_worker(client, celery_worker_process):
    response = client.post("/record")
    assert response.status_code == 201
    group_id = int(response.text)

    def seen_by_worker():
        """the worker to rename the group"""
        name = Group.objects.get(pk=group_id).name
        return name if name.startswith("seen-by-worker-pid-") else None

    name = wait_for(seen_by_worker, timeout=60)
    worker_pid = int(name.rsplit("-", 1)[1])
    assert worker_pid != os.getpid()
    assert celery_worker_process.poll() is None, "the worker must still be running"
