import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from deliveries import services
from deliveries.models import Delivery, ProofOfDelivery
from ledger.models import Evidence
from tests.aidhub.test_idempotency import one_time_token
from tests.aidhub.test_uploads import jpeg_with_gps
from tests.factories import PASSWORD
from tests.ledger.factories import jpeg_bytes

pytestmark = pytest.mark.django_db


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)


@pytest.fixture
def planned(stocked, place, flour, coordinator):
    return services.delivery_plan(
        hub=stocked, place=place, lines=[(flour, Decimal("30"))], by=coordinator
    )


@pytest.fixture
def dispatched(planned, volunteer):
    services.delivery_claim(delivery=planned, volunteer=volunteer)
    services.delivery_dispatch(delivery=planned, volunteer=volunteer)
    return planned


def report_data(key="k-0123456789", photos=None, **extra):
    photos = photos or [SimpleUploadedFile("p.jpg", jpeg_with_gps(), content_type="image/jpeg")]
    return {
        "idempotency_key": key,
        "people": "42",
        "households": "",
        "note": "",
        "photos": photos,
        **extra,
    }


def test_volunteer_sees_what_to_take_where_and_claims_it(client, planned, volunteer):
    login(client, volunteer)
    response = client.get("/deliveries/")
    assert [d.slug for d in response.context["free"]] == [planned.slug]
    page = client.get(planned.get_absolute_url())
    assert "Flour" in page.text and "Isfana" in page.text
    client.post(f"/deliveries/{planned.slug}/claim/", {"idempotency_key": one_time_token(page)})
    planned.refresh_from_db()
    assert planned.volunteer == volunteer


def test_a_report_with_a_gps_photo_is_stored_without_exif(client, dispatched, volunteer, media):
    login(client, volunteer)
    response = client.post(f"/deliveries/{dispatched.slug}/report/", report_data())
    assert response.status_code == 302
    proof = ProofOfDelivery.objects.get()
    evidence = Evidence.objects.get(sha256=proof.photos.get().evidence_sha256)
    with evidence.file.open("rb") as handle:
        image = Image.open(io.BytesIO(handle.read()))
        assert not image.getexif()


def test_the_same_submission_sent_three_times_is_recorded_once(
    client, dispatched, volunteer, media
):
    login(client, volunteer)
    responses = [
        client.post(f"/deliveries/{dispatched.slug}/report/", report_data(key="same-key-1"))
        for _ in range(3)
    ]
    assert {r.status_code for r in responses} == {302}
    assert len({r["Location"] for r in responses}) == 1
    assert ProofOfDelivery.objects.count() == 1


def test_an_idempotency_header_works_like_the_form_key(client, dispatched, volunteer, media):
    login(client, volunteer)
    for _ in range(2):
        client.post(
            f"/deliveries/{dispatched.slug}/report/",
            report_data(key="form-key-x"),
            headers={"Idempotency-Key": "offline-queue-7"},
        )
    assert ProofOfDelivery.objects.count() == 1


def test_a_decompression_bomb_is_refused_with_a_message(client, dispatched, volunteer):
    out = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(out, "PNG")
    login(client, volunteer)
    bomb = SimpleUploadedFile("bomb.png", out.getvalue(), content_type="image/png")
    response = client.post(f"/deliveries/{dispatched.slug}/report/", report_data(photos=[bomb]))
    assert response.status_code == 400
    assert "too large" in response.text
    assert not ProofOfDelivery.objects.exists()


def test_a_polyglot_is_refused(client, dispatched, volunteer):
    login(client, volunteer)
    gif = SimpleUploadedFile("x.jpg", b"GIF89a<script>alert(1)</script>", content_type="image/jpeg")
    response = client.post(f"/deliveries/{dispatched.slug}/report/", report_data(photos=[gif]))
    assert response.status_code == 400 and "not a photo" in response.text
    assert not ProofOfDelivery.objects.exists()


def test_volunteer_b_cannot_see_or_change_volunteer_as_delivery(
    client, dispatched, other_volunteer, media
):
    login(client, other_volunteer)
    slug = dispatched.slug
    assert client.get(f"/deliveries/{slug}/").status_code == 404
    assert client.get(f"/deliveries/{slug}/report/").status_code == 404
    assert client.get(f"/deliveries/{slug}/handover/").status_code == 404
    for action in ["dispatch", "claim", "fail"]:
        response = client.post(
            f"/deliveries/{slug}/{action}/",
            {"idempotency_key": f"b-{action}-1234", "reason": "mine"},
        )
        assert response.status_code == 404
    assert client.post(f"/deliveries/{slug}/report/", report_data()).status_code == 404
    dispatched.refresh_from_db()
    assert dispatched.status == Delivery.Status.DISPATCHED and not dispatched.proofs.exists()


def test_unpublished_proof_photos_are_only_for_the_volunteer_and_coordinators(
    client, dispatched, volunteer, other_volunteer, coordinator, media
):
    proof = services.delivery_report(
        delivery=dispatched,
        volunteer=volunteer,
        people=3,
        photos=[services.CleanFile(jpeg_bytes(), "image/jpeg")],
    )
    sha = proof.photos.get().evidence_sha256
    url = f"/deliveries/{dispatched.slug}/photos/{sha}"
    assert client.get(f"/ledger/evidence/{sha}").status_code == 404  # not public yet
    login(client, other_volunteer)
    assert client.get(url).status_code == 404
    login(client, coordinator)
    assert client.get(url).status_code == 200


def test_coordinator_verifies_from_the_verify_page(
    client, dispatched, volunteer, coordinator, media
):
    services.delivery_report(
        delivery=dispatched,
        volunteer=volunteer,
        people=3,
        photos=[services.CleanFile(jpeg_bytes(), "image/jpeg")],
    )
    login(client, coordinator)
    assert dispatched.slug in client.get("/deliveries/awaiting/").text
    client.post(f"/deliveries/{dispatched.slug}/verify/", {"approve": "1"})
    dispatched.refresh_from_db()
    assert dispatched.status == Delivery.Status.VERIFIED
    place_page = client.get("/places/isfana/")
    assert "Delivered to Isfana for 3 people" in place_page.text


def test_volunteers_cannot_open_the_verify_page(client, dispatched, volunteer):
    login(client, volunteer)
    assert client.get(f"/deliveries/{dispatched.slug}/verify/").status_code == 404
    assert (
        client.post(f"/deliveries/{dispatched.slug}/verify/", {"approve": "1"}).status_code == 404
    )


def test_handover_code_and_qr_then_the_recipient_confirms_without_an_account(
    client, dispatched, volunteer
):
    login(client, volunteer)
    page = client.get(f"/deliveries/{dispatched.slug}/handover/")
    code = page.context["handover"].code
    assert "<svg" in page.text and code in page.text
    client.logout()
    confirm = f"/handover/{dispatched.slug}/"
    assert client.get(f"{confirm}?code={code}").context["form"]["code"].value() == code
    wrong = client.post(confirm, {"code": "000000" if code != "000000" else "111111"})
    assert "not right" in wrong.text
    right = client.post(confirm, {"code": code, "role": "village head"})
    assert right.context["confirmed"]


def test_anonymous_visitors_are_sent_to_log_in(client, planned):
    for url in ["/deliveries/", f"/deliveries/{planned.slug}/", "/deliveries/awaiting/"]:
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_coordinator_plans_a_delivery(client, stocked, place, flour, coordinator):
    login(client, coordinator)
    data = {
        "place": place.pk,
        "lines-TOTAL_FORMS": "4",
        "lines-INITIAL_FORMS": "0",
        "lines-0-item": flour.pk,
        "lines-0-quantity": "10",
    }
    response = client.post(f"/hubs/{stocked.slug}/deliveries/new/", data)
    assert response.status_code == 302
    assert Delivery.objects.get().lines.get().quantity == 10
