"""Photos that are never published are not kept: a rejected proof's photos and an unblurred
original are deleted from storage, unless something else names the same bytes (files are
content-addressed, so one upload of a proof photo, a transfer screenshot or a receipt is one
file for all of them)."""

import hashlib
from decimal import Decimal

import pytest
from django.apps import apps
from django.utils import timezone

from aidhub.models import AuditEvent
from aidhub.uploads import CleanFile
from deliveries import services
from deliveries.models import ProofOfDelivery, ProofPhoto
from donations import services as donation_services
from donations.models import Donation, Fundraiser, PaymentMethod
from ledger.models import Evidence
from tests.deliveries.test_faces import face_photo
from tests.factories import expense_approved, organised_by, payment_method_approved
from tests.ledger.factories import jpeg_bytes

pytestmark = pytest.mark.django_db


def stored_hashes(media) -> set[str]:
    return {hashlib.sha256(p.read_bytes()).hexdigest() for p in media.rglob("*") if p.is_file()}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def plan(stocked, place, flour, coordinator):
    def make():
        return services.delivery_plan(
            hub=stocked, place=place, lines=[(flour, Decimal("5"))], by=coordinator
        )

    return make


def report(delivery, volunteer, *photos: bytes) -> ProofOfDelivery:
    services.delivery_claim(delivery=delivery, volunteer=volunteer)
    services.delivery_dispatch(delivery=delivery, volunteer=volunteer)
    return services.delivery_report(
        delivery=delivery,
        volunteer=volunteer,
        people=4,
        photos=[CleanFile(data, "image/jpeg") for data in photos],
    )


def reject(delivery, coordinator):
    services.delivery_reject(delivery=delivery, coordinator=coordinator, reason="count is wrong")


@pytest.fixture
def fundraiser(coordinator):
    return Fundraiser.objects.create(
        slug="almaty-for-batken", title="Almaty for Batken", **organised_by(coordinator),
        goal_amount=Decimal("1000000"), currency="KZT", starts_on=timezone.localdate(),
    )  # fmt: skip


def screenshot(fundraiser, data: bytes) -> Donation:
    return donation_services.donation_record(
        fundraiser=fundraiser, amount="100.00", currency="KZT", received_at=timezone.now(),
        channel="bank_transfer", by=fundraiser.organiser,
        evidence=CleanFile(data, "image/jpeg"), evidence_covered=True,
    )  # fmt: skip


def test_rejecting_a_proof_deletes_its_photos_from_storage(
    plan, volunteer, coordinator, media, django_capture_on_commit_callbacks
):
    delivery = plan()
    photos = [jpeg_bytes((10, 200, 30)), jpeg_bytes((10, 30, 200))]
    proof = report(delivery, volunteer, *photos)
    assert {sha(p) for p in photos} <= stored_hashes(media)
    with django_capture_on_commit_callbacks(execute=True):
        reject(delivery, coordinator)
    assert not stored_hashes(media) & {sha(p) for p in photos}
    assert not Evidence.objects.filter(sha256__in=[sha(p) for p in photos]).exists()
    proof.refresh_from_db()
    assert proof.review == ProofOfDelivery.Review.REJECTED and proof.people == 4
    assert not ProofPhoto.objects.filter(proof=proof).exists()
    assert AuditEvent.objects.get(action="proof rejected").detail["photos_deleted"] == "2"


def test_rejecting_a_blurred_proof_leaves_neither_the_original_nor_the_blurred_copy(
    plan, volunteer, coordinator, media, django_capture_on_commit_callbacks
):
    delivery = plan()
    original = face_photo()
    with django_capture_on_commit_callbacks(execute=True):
        photo = report(delivery, volunteer, original).photos.get()
    photo.refresh_from_db()
    assert photo.faces_blurred >= 1 and photo.evidence_sha256 in stored_hashes(media)
    with django_capture_on_commit_callbacks(execute=True):
        reject(delivery, coordinator)
    assert stored_hashes(media) == set()
    assert not Evidence.objects.exists()


def test_the_volunteer_reports_again_with_the_same_photo_after_a_rejection(
    plan, volunteer, coordinator, media, django_capture_on_commit_callbacks
):
    delivery = plan()
    data = jpeg_bytes((90, 90, 10))
    report(delivery, volunteer, data)
    with django_capture_on_commit_callbacks(execute=True):
        reject(delivery, coordinator)
    proof = services.delivery_report(
        delivery=delivery, volunteer=volunteer, people=5, photos=[CleanFile(data, "image/jpeg")]
    )
    assert proof.photos.get().evidence_sha256 == sha(data) and sha(data) in stored_hashes(media)
    services.delivery_verify(delivery=delivery, coordinator=coordinator)
    assert Evidence.objects.get(sha256=sha(data)).published


def test_a_rejected_photo_another_proof_shows_keeps_its_file(
    client, plan, volunteer, coordinator, media, django_capture_on_commit_callbacks
):
    first, second = plan(), plan()
    data = jpeg_bytes((200, 200, 10))
    report(first, volunteer, data)
    report(second, volunteer, data)
    with django_capture_on_commit_callbacks(execute=True):
        reject(first, coordinator)
    assert sha(data) in stored_hashes(media)
    client.force_login(coordinator)
    assert client.get(f"/deliveries/{second.slug}/photos/{sha(data)}").status_code == 200
    assert client.get(f"/deliveries/{first.slug}/photos/{sha(data)}").status_code == 404


def test_a_rejected_photo_that_is_published_evidence_keeps_its_file(
    client, plan, volunteer, coordinator, fundraiser, media, django_capture_on_commit_callbacks
):
    data = jpeg_bytes((10, 10, 10))
    screenshot(fundraiser, data)  # the same bytes, already in the ledger
    delivery = plan()
    report(delivery, volunteer, data)
    with django_capture_on_commit_callbacks(execute=True):
        reject(delivery, coordinator)
    assert sha(data) in stored_hashes(media)
    assert client.get(f"/ledger/evidence/{sha(data)}").status_code == 200


def test_blurring_keeps_an_original_whose_bytes_a_donation_screenshot_names(
    client, plan, volunteer, fundraiser, media, django_capture_on_commit_callbacks
):
    original = face_photo()
    donation = screenshot(fundraiser, original)
    photo = report(plan(), volunteer, original).photos.get()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.proof_photo_blur(photo=photo) >= 1
    assert donation.evidence_sha256 == sha(original) and sha(original) in stored_hashes(media)
    assert client.get(f"/ledger/evidence/{sha(original)}").status_code == 200


@pytest.mark.parametrize(("model", "field"), services.EVIDENCE_REFERENCES)
def test_a_file_named_by_any_referencing_row_is_in_use_and_not_discarded(
    model, field, plan, volunteer, fundraiser, media, django_capture_on_commit_callbacks
):
    # A row of each kind naming a file no ledger entry has published (yet): the check must
    # not lean on `published` alone, which an upload in flight has not set.
    other = jpeg_bytes((1, 2, 3))
    pending = report(plan(), volunteer, other).photos.get()
    with django_capture_on_commit_callbacks(execute=True):
        donation = screenshot(fundraiser, jpeg_bytes((4, 5, 6)))
        expense = expense_approved(
            fundraiser=fundraiser, vendor="Dordoi", amount="10.00", currency="KZT",
            paid_at=timezone.now(), receipt=CleanFile(jpeg_bytes((7, 8, 9)), "image/jpeg"),
        )  # fmt: skip
    named = jpeg_bytes((250, 5, 5))
    target = Evidence.objects.get(sha256=services.ledger.evidence_store(
        data=named, content_type="image/jpeg").sha256)  # fmt: skip
    assert not target.published and not services.evidence_in_use(sha256=target.sha256)
    method = payment_method_approved(donation_services.payment_method_add(
        fundraiser=fundraiser, by=fundraiser.organiser, kind="e_wallet", label="Kaspi",
        details="+7 700 000 00 00", currency="KZT",
    ))  # fmt: skip
    row = {ProofPhoto: pending, Donation: donation, PaymentMethod: method}.get(model, expense)
    model.objects.filter(pk=row.pk).update(**{field: target.sha256})
    assert services.evidence_in_use(sha256=target.sha256)
    with django_capture_on_commit_callbacks(execute=True):
        assert not services.evidence_discard_unused(sha256=target.sha256)
    assert sha(named) in stored_hashes(media)


def test_every_column_naming_an_evidence_file_is_checked_before_a_discard():
    """A new model that names evidence by hash must join EVIDENCE_REFERENCES, or a discard
    elsewhere could delete its file."""
    not_evidence = {
        ("ledger", "Evidence", "sha256"),  # the file's own row
        ("aidhub", "IdempotentSubmission", "body_sha256"),  # hash of a form's body
        ("donations", "ExpenseReceiptOriginal", "sha256"),  # a PDF kept in the database
    }
    checked = {(m._meta.app_label, m.__name__, f) for m, f in services.EVIDENCE_REFERENCES}
    hashed = {
        (model._meta.app_label, model.__name__, field.name)
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if field.name.endswith("sha256")
    }
    assert hashed - not_evidence == checked


def test_a_blur_of_a_photo_deleted_with_its_rejected_proof_does_nothing(
    plan, volunteer, coordinator, media, django_capture_on_commit_callbacks
):
    delivery = plan()
    photo = report(delivery, volunteer, face_photo()).photos.get()
    with django_capture_on_commit_callbacks(execute=True):
        reject(delivery, coordinator)
    assert services.proof_photo_blur(photo=photo) == 0
    assert stored_hashes(media) == set()
