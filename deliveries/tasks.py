from celery import shared_task

from . import services


@shared_task(time_limit=60, soft_time_limit=50)
def claims_release_expired() -> int:
    """Beat runs this every ten minutes: claims not dispatched in time become free again."""
    return services.claims_release_expired()
