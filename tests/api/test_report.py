"""POST /api/v1/deliveries/<slug>/report/: the offline app's report, in the browser session."""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from aidhub import idempotency
from aidhub.models import IdempotentSubmission
from deliveries import services
from deliveries.models import Delivery, ProofOfDelivery
from ledger.models import Evidence
from tests.aidhub.test_uploads import jpeg_with_gps

from .conftest import login, plan_delivery

pytestmark = pytest.mark.django_db


def url(delivery) -> str:
    return f"/api/v1/deliveries/{delivery.slug}/report/"


def photo(name: str = "p.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, jpeg_with_gps(), content_type="image/jpeg")


def report(**fields) -> dict:
    return {"people": "42", "photos": [photo()], **fields}


def post(client, delivery, data=None, key: str | None = None, **extra):
    headers = {"Idempotency-Key": key} if key else {}
    return client.post(
        url(delivery), data if data is not None else report(), headers=headers, **extra
    )


def nothing_written(delivery) -> bool:
    delivery.refresh_from_db()
    return delivery.status == Delivery.Status.DISPATCHED and not ProofOfDelivery.objects.exists()


def test_the_volunteer_reports_with_a_photo_and_gets_201_with_the_report(
    client, dispatched, volunteer, media
):
    login(client, volunteer)
    response = post(client, dispatched, report(households="9", note="At the school"))
    assert response.status_code == 201
    proof = ProofOfDelivery.objects.get()
    assert response.json() == {
        "delivery": dispatched.slug,
        "report": proof.pk,
        "people": 42,
        "households": 9,
        "note": "At the school",
        "delivered_at": response.json()["delivered_at"],
        "photos": 1,
    }
    assert response.json()["delivered_at"].endswith("Z")
    dispatched.refresh_from_db()
    assert dispatched.status == Delivery.Status.DELIVERED


def test_a_reported_photo_is_stored_without_exif(client, dispatched, volunteer, media):
    login(client, volunteer)
    post(client, dispatched)
    evidence = Evidence.objects.get(
        sha256=ProofOfDelivery.objects.get().photos.get().evidence_sha256
    )
    with evidence.file.open("rb") as handle:
        assert not Image.open(io.BytesIO(handle.read())).getexif()


def test_a_repeat_with_the_same_key_gets_the_first_answer_and_records_once(
    client, dispatched, volunteer, media
):
    login(client, volunteer)
    responses = [post(client, dispatched, key="0f7c2e9a-offline-1") for _ in range(3)]
    assert [r.status_code for r in responses] == [201, 201, 201]
    assert responses[1].json() == responses[0].json() == responses[2].json()
    assert responses[1]["Idempotent-Replayed"] == "true"
    assert ProofOfDelivery.objects.count() == 1
    assert IdempotentSubmission.objects.get().key == "api:0f7c2e9a-offline-1"


def test_a_repeat_is_answered_even_after_the_delivery_moved_on(
    client, dispatched, volunteer, coordinator, media
):
    login(client, volunteer)
    first = post(client, dispatched, key="key-before-verify")
    services.delivery_verify(delivery=dispatched, coordinator=coordinator)
    again = post(client, dispatched, key="key-before-verify")
    assert (again.status_code, again.json()) == (201, first.json())


def test_the_key_may_come_as_a_form_field_when_headers_cannot_be_set(
    client, dispatched, volunteer, media
):
    login(client, volunteer)
    first = post(client, dispatched, report(idempotency_key="form-field-key"))
    again = post(client, dispatched, report(idempotency_key="form-field-key"))
    assert (first.status_code, again.status_code) == (201, 201)
    assert ProofOfDelivery.objects.count() == 1


def test_without_a_key_a_second_report_is_refused_by_the_service(
    client, dispatched, volunteer, media
):
    login(client, volunteer)
    assert post(client, dispatched).status_code == 201
    again = post(client, dispatched)
    assert again.status_code == 400
    assert "Only the volunteer on the way" in again.json()["detail"]
    assert again.json()["errors"]["non_field_errors"]
    assert ProofOfDelivery.objects.count() == 1


def test_a_key_used_for_another_delivery_is_a_409(
    client, dispatched, volunteer, hub, flour, coordinator, media
):
    second = plan_delivery(hub, flour, coordinator, "ak-sai")
    services.delivery_claim(delivery=second, volunteer=volunteer)
    services.delivery_dispatch(delivery=second, volunteer=volunteer)
    login(client, volunteer)
    assert post(client, dispatched, key="reused-key-1").status_code == 201
    response = post(client, second, key="reused-key-1")
    assert response.status_code == 409
    assert "Idempotency-Key" in response.json()["detail"]
    assert not second.proofs.exists()


def test_the_same_key_with_another_body_is_a_409_not_the_first_answer(
    client, dispatched, volunteer, media
):
    login(client, volunteer)
    assert post(client, dispatched, key="changed-body-1").status_code == 201
    response = post(client, dispatched, report(people="7"), key="changed-body-1")
    assert response.status_code == 409
    assert "Idempotency-Key" in response.json()["detail"]
    assert [p.people for p in ProofOfDelivery.objects.all()] == [42]


def test_a_key_kept_from_before_bodies_were_hashed_still_gets_its_answer(
    client, dispatched, volunteer, media
):
    login(client, volunteer)
    first = post(client, dispatched, key="queued-before-1")
    IdempotentSubmission.objects.update(body_sha256="")  # as the migration copied it
    again = post(client, dispatched, key="queued-before-1")
    assert (again.status_code, again.json()) == (201, first.json())


def test_a_malformed_idempotency_key_is_a_400_naming_it(client, dispatched, volunteer, media):
    login(client, volunteer)
    response = post(client, dispatched, key="short")
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["errors"]
    assert nothing_written(dispatched)


def test_another_volunteer_gets_404_for_someone_elses_delivery(
    client, dispatched, other_volunteer, media
):
    login(client, other_volunteer)
    response = post(client, dispatched)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
    assert nothing_written(dispatched)


def test_the_hubs_coordinator_cannot_report_for_the_volunteer(
    client, dispatched, coordinator, media
):
    login(client, coordinator)
    assert post(client, dispatched).status_code == 404
    assert nothing_written(dispatched)


def test_an_outsider_gets_404(client, dispatched, outsider, media):
    login(client, outsider)
    assert post(client, dispatched).status_code == 404
    assert nothing_written(dispatched)


def test_without_a_session_the_report_is_refused_with_403(client, dispatched, media):
    response = post(client, dispatched)
    assert response.status_code == 403
    assert response.json()["detail"]
    assert nothing_written(dispatched)


def test_a_session_post_without_the_csrf_token_is_refused(dispatched, volunteer, media):
    client = Client(enforce_csrf_checks=True)
    login(client, volunteer)
    response = post(client, dispatched)
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert nothing_written(dispatched)


def test_a_session_post_with_the_csrf_header_is_accepted(dispatched, volunteer, media):
    client = Client(enforce_csrf_checks=True)
    login(client, volunteer)
    client.get("/api/docs/")  # any page that uses the token sets the cookie
    token = client.cookies["csrftoken"].value
    assert post(client, dispatched, HTTP_X_CSRFTOKEN=token).status_code == 201


def test_a_file_that_is_not_a_photo_is_a_400_naming_photos(client, dispatched, volunteer, media):
    login(client, volunteer)
    fake = SimpleUploadedFile("p.jpg", b"%PDF-1.4 not a photo", content_type="image/jpeg")
    response = post(client, dispatched, report(photos=[photo(), fake]))
    assert response.status_code == 400
    assert response.json()["errors"]["photos"] == [
        "2: This file is not a photo we can read (JPEG, PNG or WebP)."
    ]
    assert nothing_written(dispatched) and not Evidence.objects.exists()


def test_more_than_five_photos_is_a_400(client, dispatched, volunteer, media):
    login(client, volunteer)
    response = post(client, dispatched, report(photos=[photo(f"{n}.jpg") for n in range(6)]))
    assert response.status_code == 400
    assert "photos" in response.json()["errors"]
    assert nothing_written(dispatched)


def test_a_report_without_photos_is_a_400(client, dispatched, volunteer, media):
    login(client, volunteer)
    response = post(client, dispatched, {"people": "3"})
    assert response.status_code == 400
    assert "photos" in response.json()["errors"]


@pytest.mark.parametrize("people", ["many", "", "0", "-3", "1.5", "99999999999999999999"])
def test_people_that_is_not_a_count_is_a_400_naming_it(
    client, dispatched, volunteer, media, people
):
    login(client, volunteer)
    response = post(client, dispatched, report(people=people))
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["people"]
    assert response.json()["detail"].startswith("people: ")
    assert nothing_written(dispatched)


def test_an_unknown_field_is_a_400_naming_it(client, dispatched, volunteer, media):
    login(client, volunteer)
    response = post(client, dispatched, report(recipient_phone="+996 555 123 456"))
    assert response.status_code == 400
    assert response.json()["errors"] == {"recipient_phone": ["This field is not part of a report."]}
    assert nothing_written(dispatched)


def test_a_json_body_is_a_415_not_a_500(client, dispatched, volunteer, media):
    login(client, volunteer)
    response = client.post(url(dispatched), '{"people": 4', content_type="application/json")
    assert response.status_code == 415
    assert "application/json" in response.json()["detail"]
    assert nothing_written(dispatched)


def test_a_broken_multipart_body_is_a_400(client, dispatched, volunteer, media):
    login(client, volunteer)
    response = client.post(
        url(dispatched),
        b'--xyz\r\nContent-Disposition: form-data; name="people"\r\n\r\n4',
        content_type="multipart/form-data",  # no boundary
    )
    assert response.status_code == 400
    assert response.json()["detail"]
    assert nothing_written(dispatched)


def test_a_field_bigger_than_the_upload_limit_is_a_413(client, dispatched, volunteer, media):
    login(client, volunteer)
    response = post(client, dispatched, report(note="x" * 3_000_000))
    assert response.status_code == 413
    assert response.json()["detail"]
    assert nothing_written(dispatched)


def test_a_body_announced_bigger_than_five_photos_is_a_413_unread(
    client, dispatched, volunteer, media
):
    login(client, volunteer)
    response = post(client, dispatched, CONTENT_LENGTH=str(60 * 1024 * 1024))
    assert response.status_code == 413
    assert "at most 51 MB" in response.json()["detail"]
    assert nothing_written(dispatched)


def test_a_get_on_the_report_endpoint_is_a_405(client, dispatched, volunteer):
    login(client, volunteer)
    response = client.get(url(dispatched))
    assert response.status_code == 405
    assert json.loads(response.content)["detail"]


def test_a_copy_that_raced_the_first_gets_the_first_answer(
    client, dispatched, volunteer, media, monkeypatch
):
    login(client, volunteer)
    first = post(client, dispatched, key="raced-key-01")
    real = idempotency.Submission.outcome
    calls = []

    def not_yet_committed(self):
        calls.append(self)
        return None if len(calls) == 1 else real(self)  # first look: the other still runs

    monkeypatch.setattr(idempotency.Submission, "outcome", not_yet_committed)
    again = post(client, dispatched, key="raced-key-01")
    assert (again.status_code, again.json()) == (201, first.json())
    assert ProofOfDelivery.objects.count() == 1
