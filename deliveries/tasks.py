from celery import shared_task

from . import services


@shared_task(time_limit=60, soft_time_limit=50)
def claims_release_expired() -> int:
    """Beat runs this every ten minutes: claims not dispatched in time become free again."""
    return services.claims_release_expired()


@shared_task(time_limit=120, soft_time_limit=100)
def proof_photo_blur(photo_id: int) -> int | None:
    """Blur faces in a proof photo (the coordinator's one-click button)."""
    from .models import ProofPhoto

    photo = ProofPhoto.objects.filter(pk=photo_id).first()
    return services.proof_photo_blur(photo=photo) if photo else None


@shared_task(time_limit=300, soft_time_limit=280)
def coordinator_digest() -> int:
    """Beat runs this daily; each (hub, day, coordinator) digest is sent once."""
    from django.db import transaction

    with transaction.atomic():
        return services.coordinator_digest()
