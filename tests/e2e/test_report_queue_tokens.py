"""A report the server refuses with 409 (its one-time key was already used for other contents)
is shown to the volunteer as not sent, with the server's words, and is not sent again by itself;
corrected, it goes with a key of its own."""

from aidhub.models import IdempotentSubmission
from deliveries.models import Delivery, ProofOfDelivery
from tests.ledger.factories import jpeg_bytes

from .steps import PHONE, log_in, wait_until

KEY = "0123456789abcdef0123456789abcdef"

QUEUE_A_REPORT = """([key, slug, place, url, deliveryPath]) => window.AidHubQueue.put({
  key, slug, place, url, deliveryPath, created: Date.now(), state: "waiting", html: "",
  people: "30", households: "", note: "Sent from a phone that lost the answer.", photos: [],
  csrf: document.querySelector("[name=csrfmiddlewaretoken]").value,
})"""

RECORDS = "() => window.AidHubQueue.all()"


def test_a_report_refused_with_409_is_shown_as_not_sent_and_not_retried(new_page, tmp_path):
    delivery = Delivery.objects.get(place__slug="samarkandyk")
    report = f"{delivery.get_absolute_url()}report/"
    # The server already recorded this key for this volunteer, with other contents.
    IdempotentSubmission.objects.create(
        key=KEY, user=delivery.volunteer, body_sha256="f" * 64, result=delivery.get_absolute_url()
    )
    page = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    posts = []
    page.on("request", lambda r: r.method == "POST" and r.url.endswith(report) and posts.append(r))
    log_in(page, "volunteer")
    page.goto(report)
    page.evaluate(
        QUEUE_A_REPORT,
        [KEY, delivery.slug, delivery.place.name, report, delivery.get_absolute_url()],
    )
    page.reload()  # the page drains the queue when it opens

    page.locator("#offline-queue li[data-state=rejected]", has_text="already sent").wait_for()
    page.locator("#report-status.alert-danger", has_text="already sent").wait_for()
    assert page.locator("#report-form").is_visible()
    assert page.input_value("#id_people") == "30"
    (record,) = page.evaluate(RECORDS)
    assert (record["state"], record["status"]) == ("rejected", 409)
    assert record["key"] != KEY  # the old key stands for what the server has

    # Not sent again by itself: another drain (the `online` event, Background Sync) skips it.
    sent = len(posts)
    page.evaluate("() => window.AidHubQueue.drain()")
    assert len(posts) == sent
    assert [r["state"] for r in page.evaluate(RECORDS)] == ["rejected"]
    assert not ProofOfDelivery.objects.filter(delivery=delivery).exists()

    # Corrected by the volunteer, it goes with its new key and is recorded once.
    photo = tmp_path / "IMG_0005.jpg"
    photo.write_bytes(jpeg_bytes(size=(1200, 900)))
    page.set_input_files("#id_photos", str(photo))
    page.click("#report-form [type=submit]")
    page.wait_for_url(f"**{delivery.get_absolute_url()}")
    wait_until(page, "() => window.AidHubQueue.all().then(r => r.length === 0)", timeout=30)
    proof = ProofOfDelivery.objects.get(delivery=delivery)
    assert (proof.people, proof.note) == (30, "Sent from a phone that lost the answer.")
