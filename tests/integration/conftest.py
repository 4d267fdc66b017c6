"""Integration tests run against the real PostgreSQL and Redis with a real Celery worker.

They run when AIDHUB_INTEGRATION=1 (as `.ci/run` and `make test-integration` do). Then a missing
server is a failure, never a silent skip.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
ENABLED = os.environ.get("AIDHUB_INTEGRATION") == "1"


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.integration)
            if not ENABLED:
                item.add_marker(
                    pytest.mark.skip(reason="integration tests need AIDHUB_INTEGRATION=1")
                )


@pytest.fixture(scope="session")
def _real_services():
    if connection.vendor != "postgresql":
        pytest.fail("integration tests need DATABASE_URL pointing at PostgreSQL")
    if settings.CELERY_TASK_ALWAYS_EAGER:
        pytest.fail("integration tests need REDIS_URL so Celery uses a real broker")


@pytest.fixture
def celery_worker_process(_real_services, ledger_transactional_db):
    """A real `celery worker` process on the test database, stopped after the test."""
    env = {
        **os.environ,
        "DATABASE_URL": _database_url_of_test_db(),
        "DJANGO_SETTINGS_MODULE": "aidhub.settings",
        "LEDGER_SIGNING_KEY": settings.LEDGER_SIGNING_KEY,
        "LEDGER_ORIGIN": settings.LEDGER_ORIGIN,
        "LEDGER_KEY_NAME": settings.LEDGER_KEY_NAME,
    }
    log = (ROOT / ".pytest-worker.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "aidhub", "worker",
            "--include", "tests.integration.tasks",
            "--pool", "solo", "--loglevel", "INFO",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
            "--queues", "celery",
        ],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _database_url_of_test_db() -> str:
    db = settings.DATABASES["default"]
    user = db.get("USER") or "postgres"
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}@{host}:{port}/{db['NAME']}"


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.1):
    """Poll until predicate() is truthy; fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"gave up after {timeout}s waiting for {predicate.__doc__ or predicate}")
