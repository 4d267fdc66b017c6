import hashlib
import io
import json
from decimal import Decimal

import pytest
from PIL import Image, ImageDraw, ImageFilter

from aidhub.uploads import CleanFile
from deliveries import services
from deliveries.faces import blur_faces, find_faces
from deliveries.models import ProofPhoto
from ledger.models import Evidence, LedgerEntry
from tests.factories import PASSWORD


def face_photo(size: int = 400) -> bytes:
    """A drawn face that OpenCV's frontal cascade finds: oval, eyes, brows, nose, mouth."""
    image = Image.new("L", (size, size), 170)
    draw = ImageDraw.Draw(image)
    cx = cy = size // 2
    draw.ellipse((cx - 90, cy - 120, cx + 90, cy + 120), fill=200)
    draw.ellipse((cx - 55, cy - 45, cx - 15, cy - 25), fill=40)
    draw.ellipse((cx + 15, cy - 45, cx + 55, cy - 25), fill=40)
    draw.rectangle((cx - 60, cy - 70, cx - 10, cy - 60), fill=80)
    draw.rectangle((cx + 10, cy - 70, cx + 60, cy - 60), fill=80)
    draw.polygon([(cx, cy - 20), (cx - 15, cy + 25), (cx + 15, cy + 25)], fill=150)
    draw.ellipse((cx - 40, cy + 50, cx + 40, cy + 70), fill=70)
    out = io.BytesIO()
    image.filter(ImageFilter.GaussianBlur(3)).convert("RGB").save(out, "JPEG", quality=90)
    return out.getvalue()


def test_a_face_is_found_and_blurred_beyond_detection():
    original = face_photo()
    assert len(find_faces(Image.open(io.BytesIO(original)))) >= 1
    blurred, count = blur_faces(original)
    assert count >= 1
    assert find_faces(Image.open(io.BytesIO(blurred))) == []


def test_a_photo_without_faces_is_left_alone():
    out = io.BytesIO()
    Image.new("RGB", (300, 200), (120, 160, 90)).save(out, "JPEG")
    _data, count = blur_faces(out.getvalue())
    assert count == 0


@pytest.mark.django_db
def test_coordinator_blurs_before_approving_and_only_the_blurred_photo_is_published(
    client,
    stocked,
    place,
    flour,
    coordinator,
    volunteer,
    media,
    django_capture_on_commit_callbacks,
):
    delivery = services.delivery_plan(
        hub=stocked, place=place, lines=[(flour, Decimal("5"))], by=coordinator
    )
    services.delivery_claim(delivery=delivery, volunteer=volunteer)
    services.delivery_dispatch(delivery=delivery, volunteer=volunteer)
    proof = services.delivery_report(
        delivery=delivery,
        volunteer=volunteer,
        people=4,
        photos=[CleanFile(face_photo(), "image/jpeg")],
    )
    photo = proof.photos.get()
    original = photo.evidence_sha256
    assert client.login(username=coordinator.username, password=PASSWORD)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/deliveries/{delivery.slug}/verify/", {"blur": photo.pk})
    photo.refresh_from_db()
    assert photo.faces_blurred >= 1 and photo.evidence_sha256 != original
    client.post(f"/deliveries/{delivery.slug}/verify/", {"approve": "1"})
    assert Evidence.objects.get(sha256=photo.evidence_sha256).published
    assert not Evidence.objects.filter(sha256=original).exists()
    assert client.get(f"/ledger/evidence/{original}").status_code == 404
    assert ProofPhoto.objects.count() == 1


def stored_hashes(media) -> set[str]:
    return {hashlib.sha256(p.read_bytes()).hexdigest() for p in media.rglob("*") if p.is_file()}


def report_face(delivery, volunteer):
    services.delivery_claim(delivery=delivery, volunteer=volunteer)
    services.delivery_dispatch(delivery=delivery, volunteer=volunteer)
    return services.delivery_report(
        delivery=delivery,
        volunteer=volunteer,
        people=4,
        photos=[CleanFile(face_photo(), "image/jpeg")],
    )


@pytest.fixture
def planned(stocked, place, flour, coordinator):
    return services.delivery_plan(
        hub=stocked, place=place, lines=[(flour, Decimal("5"))], by=coordinator
    )


def test_the_unblurred_original_is_deleted_from_storage_once_blurred(
    client, planned, volunteer, media, django_capture_on_commit_callbacks
):
    photo = report_face(planned, volunteer).photos.get()
    original = photo.evidence_sha256
    assert original in stored_hashes(media)
    assert client.get(f"/ledger/evidence/{original}").status_code == 404  # never public
    with django_capture_on_commit_callbacks(execute=True):
        assert services.proof_photo_blur(photo=photo) >= 1
    photo.refresh_from_db()
    assert not Evidence.objects.filter(sha256=original).exists()
    assert original not in stored_hashes(media)
    assert photo.evidence_sha256 in stored_hashes(media)


def test_a_report_has_its_faces_blurred_before_the_coordinator_opens_it(
    planned, volunteer, media, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        proof = report_face(planned, volunteer)
    photo = proof.photos.get()
    assert photo.faces_blurred >= 1
    assert find_faces(Image.open(Evidence.objects.get(sha256=photo.evidence_sha256).file)) == []


def test_approving_before_the_blur_ran_publishes_only_a_blurred_photo(
    client, planned, volunteer, coordinator, media, django_capture_on_commit_callbacks
):
    original = report_face(planned, volunteer).photos.get().evidence_sha256  # blur not run
    with django_capture_on_commit_callbacks(execute=True):
        index = services.delivery_verify(delivery=planned, coordinator=coordinator)
    published = json.loads(bytes(LedgerEntry.objects.get(index=index).leaf))["payload"]
    assert published["evidence"] and original not in published["evidence"]
    photo = ProofPhoto.objects.get()
    assert photo.faces_blurred >= 1 and published["evidence"] == [photo.evidence_sha256]
    assert original not in stored_hashes(media)
    assert client.get(f"/ledger/evidence/{photo.evidence_sha256}").status_code == 200
