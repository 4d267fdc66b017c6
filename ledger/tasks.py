from celery import shared_task

from . import exportfiles, services
from .models import Evidence


@shared_task(acks_late=True, time_limit=120, soft_time_limit=100)
def checkpoint_sign() -> int | None:
    """Sign a checkpoint when the tree has grown (beat runs this every minute)."""
    checkpoint = services.checkpoint_sign()
    return checkpoint.size if checkpoint else None


@shared_task(acks_late=True, time_limit=1800, soft_time_limit=1700)
def exports_update() -> int | None:
    """Append the newly signed entries to this machine's export files (after each checkpoint).
    Idempotent: a second run finds nothing new; a killed run resumes from its last save."""
    snapshot = exportfiles.update()
    return snapshot.size if snapshot else None


@shared_task(acks_late=True, time_limit=60, soft_time_limit=50)
def evidence_thumbnail(sha256: str) -> None:
    evidence = Evidence.objects.filter(sha256=sha256).first()
    if evidence is None or evidence.thumbnail:
        return  # gone, or already made: thumbnails are idempotent
    services.make_thumbnail(evidence)


@shared_task(time_limit=120, soft_time_limit=100)
def thumbnails_sweep() -> int:
    """Beat runs this every ten minutes: thumbnails whose task was lost are made after all."""
    return services.thumbnails_sweep()
