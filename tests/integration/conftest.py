"""Integration tests run against the real PostgreSQL and Redis with a real Celery worker.

They run when AIDHUB_INTEGRATION=1 (as `.ci/run` and `make test-integration` do). Then a missing
server is a failure, never a silent skip.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
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


def start_worker(**env_extra: str) -> subprocess.Popen:
    """A real `celery worker` process on the test database."""
    env = {
        **os.environ,
        "DATABASE_URL": _database_url_of_test_db(),
        "DJANGO_SETTINGS_MODULE": "aidhub.settings",
        "LEDGER_SIGNING_KEY": settings.LEDGER_SIGNING_KEY,
        "LEDGER_ORIGIN": settings.LEDGER_ORIGIN,
        "LEDGER_KEY_NAME": settings.LEDGER_KEY_NAME,
        "FIELD_ENCRYPTION_KEY": settings.FIELD_ENCRYPTION_KEY,
        **env_extra,
    }
    log = (ROOT / ".pytest-worker.log").open("a")
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "aidhub",
            "worker",
            "--include",
            "tests.integration.tasks",
            "--pool",
            "solo",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--queues",
            "celery,webhooks",  # webhooks have their own queue (CELERY_TASK_ROUTES)
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def stop_worker(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture
def celery_worker_process(_real_services, ledger_transactional_db):
    """A real worker for the test, stopped after it."""
    (ROOT / ".pytest-worker.log").write_text("")
    proc = start_worker()
    try:
        yield proc
    finally:
        stop_worker(proc)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PrivateRedis:
    """A redis-server of the test's own, on a free port, that the test may stop and restart
    without disturbing the machine's shared Redis."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self._answers, timeout=10)

    def _answers(self) -> bool:
        """redis to answer"""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


@pytest.fixture
def private_redis(_real_services, monkeypatch):
    """This test process and its workers use a Redis of their own as the broker."""
    from aidhub.celery import app

    redis = PrivateRedis()
    redis.start()
    monkeypatch.setitem(app.conf, "broker_url", redis.url)
    monkeypatch.setitem(
        app.conf, "broker_transport_options", {"socket_connect_timeout": 1, "socket_timeout": 2}
    )
    monkeypatch.setitem(app.conf, "task_publish_retry", False)
    monkeypatch.setattr(app, "_pool", None)
    monkeypatch.setattr(app.amqp, "_producer_pool", None)
    try:
        yield redis
    finally:
        redis.stop()


class PrivatePostgres:
    """A PostgreSQL cluster of the test's own (initdb in a temporary folder, on a free port),
    which the test may crash and restart without disturbing the machine's shared one."""

    def __init__(self) -> None:
        found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
        if not found:
            pytest.fail("PostgreSQL's server programs are not in /usr/lib/postgresql/*/bin")
        self.bin = found[-1].parent
        self.folder = Path(tempfile.mkdtemp(prefix="aidhub-pg-"))
        self.data = self.folder / "data"
        self.port = _free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/aidhub"
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres")

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bin / program), *args]
        if os.geteuid() == 0:  # the server refuses to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        if not self.data.exists():
            self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8")
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder}"
        log = str(self.folder / "server.log")
        self._run("pg_ctl", "-D", str(self.data), "-l", log, "-o", options, "-w", "start")

    def crash(self) -> None:
        """Stop at once, as a power cut would: no shutdown checkpoint, recovery at the start."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture
def private_postgres(_real_services, ledger_transactional_db):
    """This test process (and the workers it starts) use a PostgreSQL cluster of their own,
    migrated, in place of the shared test database; put back afterwards."""
    import psycopg

    server = PrivatePostgres()
    db = connection.settings_dict  # the same dict as settings.DATABASES["default"]
    saved = dict(db)
    try:
        server.start()
        with psycopg.connect(server.url.replace("/aidhub", "/postgres"), autocommit=True) as conn:
            conn.execute("CREATE DATABASE aidhub")
        connection.close()
        db.update(HOST="127.0.0.1", PORT=str(server.port), NAME="aidhub", USER="postgres")
        call_command("migrate", verbosity=0)
        yield server
    finally:
        connection.close()
        db.clear()
        db.update(saved)
        server.remove()


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
