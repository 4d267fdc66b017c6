from celery import Task, shared_task
from django.utils import timezone

from . import services
from .models import Notification


def _send_and_schedule(task: Task, notification_id: int) -> str:
    status = services.send(notification_id)
    if status == "pending" and not task.request.is_eager:
        # A transient failure or a busy host: try again when the row says it is due. Run
        # eagerly (no broker), the row waits for the sweep instead: calling the task again
        # here would only recurse, inside the web request that recorded the event.
        row = Notification.objects.filter(pk=notification_id).first()
        if row and row.next_attempt_at:
            delay = max(0.0, (row.next_attempt_at - timezone.now()).total_seconds())
            task.apply_async((notification_id,), countdown=delay)
    return status


# acks_late with the claim in `services.send`: a task redelivered after a crash finds the row
# already sent or freshly claimed and does nothing twice.
@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, time_limit=60,
             soft_time_limit=45)  # fmt: skip
def notification_send(self: Task, notification_id: int) -> str:
    """An e-mail or Telegram message (the default `celery` queue)."""
    return _send_and_schedule(self, notification_id)


# Routed to the `webhooks` queue (CELERY_TASK_ROUTES): a receiver that answers slowly ties up
# the webhook workers only, never the ones that send confirmation e-mails.
@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, time_limit=60,
             soft_time_limit=45)  # fmt: skip
def webhook_send(self: Task, notification_id: int) -> str:
    return _send_and_schedule(self, notification_id)


@shared_task(time_limit=120, soft_time_limit=100)
def notifications_sweep() -> int:
    """Beat runs this every minute: nothing waits forever because a message to Redis was lost."""
    return services.sweep()


@shared_task(time_limit=120, soft_time_limit=100)
def subscriptions_pending_purge() -> int:
    """Beat runs this hourly: subscriptions nobody confirmed do not stay forever."""
    return services.subscriptions_pending_purge()
