"""Which database and broker this run really uses, and how SQLite is set up for two processes.

`.ci/run` sets AIDHUB_EXPECT_DB and AIDHUB_EXPECT_REDIS for its second pass, so a pass that
silently fell back to SQLite or eager Celery fails here instead of passing for the wrong reason.
"""

import os

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection

pytestmark = pytest.mark.django_db


def test_the_run_uses_the_database_it_was_asked_to():
    expected = os.environ.get("AIDHUB_EXPECT_DB", "sqlite")
    assert connection.vendor == expected
    if expected == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version_num")
            assert int(cursor.fetchone()[0]) >= 150000


def test_the_run_uses_redis_when_it_was_asked_to():
    if not os.environ.get("AIDHUB_EXPECT_REDIS"):
        assert settings.CELERY_TASK_ALWAYS_EAGER
        return
    assert not settings.CELERY_TASK_ALWAYS_EAGER
    assert settings.CACHES["default"]["BACKEND"].endswith("RedisCache")
    cache.set("aidhub:test:redis", "here", 5)
    assert cache.get("aidhub:test:redis") == "here"


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite settings only")
def test_sqlite_uses_wal_a_busy_timeout_and_immediate_transactions():
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] >= 5000
    assert settings.DATABASES["default"]["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in settings.DATABASES["default"]["OPTIONS"]["init_command"]
