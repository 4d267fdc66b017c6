from celery import shared_task

from . import services


# acks_late with the claim in `services.send`: a task redelivered after a crash finds the row
# already sent or freshly claimed and does nothing twice.
@shared_task(acks_late=True, reject_on_worker_lost=True, time_limit=60, soft_time_limit=45)
def notification_send(notification_id: int) -> str:
    status = services.send(notification_id)
    if status == "pending":
        # A transient failure: try again after the backoff the row now records.
        from django.utils import timezone

        from .models import Notification

        row = Notification.objects.filter(pk=notification_id).first()
        if row and row.next_attempt_at:
            delay = max(0.0, (row.next_attempt_at - timezone.now()).total_seconds())
            notification_send.apply_async((notification_id,), countdown=delay)
    return status


@shared_task(time_limit=120, soft_time_limit=100)
def notifications_sweep() -> int:
    """Beat runs this every minute: nothing waits forever because a message to Redis was lost."""
    return services.sweep()
