from celery import shared_task

from . import idempotency


@shared_task(time_limit=120, soft_time_limit=100)
def submissions_anonymous_purge() -> int:
    """Beat runs this hourly: visitors' one-time tokens do not stay forever."""
    return idempotency.anonymous_purge()
