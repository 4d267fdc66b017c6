"""Checks behind /healthz: does each configured part of AidHub answer?"""

from django.conf import settings
from django.core.cache import cache
from django.db import connection

from .celery import app as celery_app


def check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def check_cache() -> str:
    cache.set("aidhub:healthz", "1", timeout=10)
    if cache.get("aidhub:healthz") != "1":
        raise RuntimeError("the cache did not return what was stored")
    return "ok"


def check_broker() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "eager"  # no broker configured: tasks run inside the web process
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
    return "ok"


CHECKS = {"database": check_database, "cache": check_cache, "broker": check_broker}


def run_checks() -> tuple[bool, dict[str, str]]:
    """Run every check; return whether all passed and each part's state or error."""
    results: dict[str, str] = {}
    healthy = True
    for name, check in CHECKS.items():
        try:
            results[name] = check()
        except Exception as exc:  # any failure is reported, never raised
            healthy = False
            results[name] = f"error: {type(exc).__name__}: {exc}"[:300]
    return healthy, results
