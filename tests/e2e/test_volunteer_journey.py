"""A volunteer on a cheap phone with 2G: a report whose answer is lost is sent again while the
page is open, and once it is accepted the phone's pages say so, offline too."""

from deliveries.models import Delivery, ProofOfDelivery
from tests.ledger.factories import jpeg_bytes

from .steps import PHONE, log_in, lose_the_first_answer, wait_until

KEPT_PAGES = """async () => (await (await caches.open("aidhub-pages")).keys())
  .map(r => new URL(r.url).pathname)"""


def fill_the_report(page, tmp_path, people: str) -> None:
    photo = tmp_path / "IMG_0100.jpg"
    photo.write_bytes(jpeg_bytes(size=(1200, 900)))
    page.set_input_files("#id_photos", str(photo))
    page.fill("#id_people", people)
    page.fill("#id_note", "At the school gate.")
    page.click("#report-form [type=submit]")


def test_a_report_whose_answer_was_lost_is_sent_again_and_shown_accepted_without_a_reload(
    new_page, tmp_path
):
    delivery = Delivery.objects.get(place__slug="samarkandyk")
    report = f"{delivery.get_absolute_url()}report/"
    # No service worker: only the page itself can send the report again (Background Sync
    # would, minutes later).
    page = new_page(viewport=PHONE, is_mobile=True, has_touch=True, service_workers="block")

    def recorded():
        assert ProofOfDelivery.objects.filter(delivery=delivery).count() == 1

    keys = lose_the_first_answer(page, report, recorded)
    log_in(page, "volunteer")
    page.goto(report)
    fill_the_report(page, tmp_path, "31")

    # The page tries again by itself (after 1 to 2 s) with the same key and shows the answer.
    page.wait_for_url(f"**{delivery.get_absolute_url()}", timeout=8_000)
    page.locator(".alert-info", has_text="31").wait_for(timeout=2_000)
    notice = page.locator("#offline-sent li[data-state=sent]")
    assert "sent, the server has it" in notice.inner_text()
    assert "already recorded" in notice.inner_text()  # the server's own words
    assert page.evaluate("() => window.AidHubQueue.all().then(r => r.length)") == 0
    assert len(keys) == 2 and keys[0] == keys[1] and keys[0]
    proof = ProofOfDelivery.objects.get(delivery=delivery)
    assert (proof.people, proof.note) == (31, "At the school gate.")


def test_once_a_queued_report_is_sent_my_deliveries_and_the_delivery_say_so_offline_too(
    new_page, tmp_path
):
    delivery = Delivery.objects.get(place__slug="samarkandyk")
    url = delivery.get_absolute_url()
    report = f"{url}report/"
    page = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    log_in(page, "volunteer")
    page.goto("/deliveries/")
    page.wait_for_function("() => navigator.serviceWorker && navigator.serviceWorker.controller")
    wait_until(page, f"async () => (await ({KEPT_PAGES})()).includes('{report}')", timeout=30)
    page.goto(f"{url}handover/")  # the code is shown to the village head before the report
    assert page.locator("[aria-label=code]").inner_text().strip().isdigit()

    page.goto(report)
    page.context.set_offline(True)
    fill_the_report(page, tmp_path, "23")
    page.locator("#offline-queue li[data-state=waiting]").wait_for()
    page.goto("/deliveries/")  # from the phone
    card = page.locator("[data-offline-list] li", has_text="Samarkandyk")
    assert "On the way" in card.inner_text()

    # The connection returns while My deliveries is open: the report goes, and the page shows
    # it anew without the volunteer reloading it.
    page.context.set_offline(False)
    card.filter(has_text="Delivered, awaiting verification").wait_for(timeout=15_000)
    page.locator("#offline-sent li[data-state=sent]", has_text="Samarkandyk").wait_for()
    assert ProofOfDelivery.objects.get(delivery=delivery).people == 23

    # The phone's copies say the same, and its report form is gone.
    assert report not in page.evaluate(KEPT_PAGES)
    page.context.set_offline(True)
    page.goto("/deliveries/")
    assert "Delivered, awaiting verification" in card.inner_text()
    page.goto(url)
    main = page.inner_text("main")
    assert "Reported: 23 people received" in main
    # The code shown before the report can still be confirmed: it is still reachable.
    assert page.locator("a", has_text="Show the handover code").is_visible()
