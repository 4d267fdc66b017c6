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


def test_checkpoint_task_signs_in_the_worker(celery_worker_process, media):
    from ledger import services
    from ledger.keys import signer
    from ledger.models import Checkpoint
    from ledger.tasks import checkpoint_sign
    from ledger.verify import verify_note
    from tests.ledger.factories import donation

    for n in range(3):
        services.append(kind="donation", payload=donation(amount=f"{n + 1}.00"))
    checkpoint_sign.delay()

    def signed():
        """the worker to sign a checkpoint of size 3"""
        return Checkpoint.objects.filter(size=3).first()

    checkpoint = wait_for(signed, timeout=60)
    body = verify_note(checkpoint.note, signer().verifier_key)
    assert body.splitlines()[1] == "3"
