"""A volunteer in a village with no signal reports a delivery, and nothing is lost."""

import io
from urllib.parse import urlsplit

from PIL import Image

from deliveries.models import Delivery, ProofOfDelivery
from ledger.models import Evidence

from .steps import PHONE, log_in, wait_until

GPS_IFD = 0x8825


def phone_photo() -> bytes:
    """A 12-megapixel camera JPEG with the camera's make and a GPS position in its EXIF."""
    size = (4000, 3000)
    fractal = Image.effect_mandelbrot(size, (-2.0, -1.2, 1.0, 1.2), 60)
    grain = Image.effect_noise(size, 24)  # a camera's noise: hard to compress
    sky = Image.linear_gradient("L").resize(size)
    image = Image.merge("RGB", (fractal, grain, sky))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[GPS_IFD] = {1: "N", 2: (39.0, 50.0, 24.0), 3: "E", 4: (69.0, 31.0, 48.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95, exif=exif)
    return out.getvalue()


QUEUED_PHOTOS = """async () => {
  const reports = await window.AidHubQueue.all();
  return Promise.all(reports.flatMap(r => r.photos.map(async photo => {
    const bitmap = await createImageBitmap(photo);
    const bytes = new Uint8Array(await photo.arrayBuffer());
    const text = Array.from(bytes.subarray(0, 4096), b => String.fromCharCode(b)).join("");
    return {size: photo.size, width: bitmap.width, height: bitmap.height, type: photo.type,
            exif: text.includes("Exif") || text.includes("PhoneMaker")};
  })));
}"""


def test_a_report_made_offline_is_kept_across_a_reload_and_recorded_once_when_online(
    new_page, shots, tmp_path
):
    delivery = Delivery.objects.get(place__slug="samarkandyk")
    assert delivery.status == "dispatched" and delivery.volunteer.username == "volunteer"
    photo = tmp_path / "IMG_0001.jpg"
    photo.write_bytes(phone_photo())
    assert len(photo.read_bytes()) > 2_000_000

    page = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    log_in(page, "volunteer")
    page.goto("/deliveries/")
    # The service worker takes the page over and keeps the volunteer's pages.
    page.wait_for_function("() => navigator.serviceWorker && navigator.serviceWorker.controller")
    shots(page, "my-deliveries")

    page.click("text=Samarkandyk")
    page.wait_for_url(f"**{delivery.get_absolute_url()}")
    shots(page, "delivery")
    page.click("text=Delivered: add photos")
    page.wait_for_url("**/report/")

    page.context.set_offline(True)
    page.set_input_files("#id_photos", str(photo))
    page.fill("#id_people", "57")
    page.fill("#id_households", "12")
    page.fill("#id_note", "Unloaded at the mosque.")
    shots(page, "report-filled-offline")
    page.click("#report-form [type=submit]")

    status = page.locator("#report-status")
    status.wait_for(state="visible")
    page.wait_for_function(
        "() => document.querySelector('#offline-queue [data-queue-count]').textContent === '1'"
    )
    page.locator("#offline-queue li[data-state=waiting]").wait_for()
    shots(page, "saved-on-the-phone")
    # What waits on the phone is already small and has no EXIF: the canvas re-encoded it.
    (queued,) = page.evaluate(QUEUED_PHOTOS)
    assert queued["type"] == "image/jpeg"
    assert queued["size"] <= 300 * 1024
    assert max(queued["width"], queued["height"]) == 1600
    assert not queued["exif"]
    assert not ProofOfDelivery.objects.filter(delivery=delivery).exists()

    # Still offline: the page comes from the phone and the report is still there.
    page.reload()
    page.locator("#offline-queue li[data-state=waiting]").wait_for()
    assert page.locator("#offline-queue [data-queue-count]").inner_text() == "1"
    assert page.locator("#report-form").is_hidden()
    shots(page, "reloaded-offline")
    assert not ProofOfDelivery.objects.filter(delivery=delivery).exists()

    # The connection returns: the report goes, the queue empties, the delivery page shows it.
    page.context.set_offline(False)
    page.wait_for_url(f"**{delivery.get_absolute_url()}")
    page.locator(".alert-info", has_text="57").wait_for()
    page.wait_for_function("() => document.getElementById('offline-queue').hidden")
    assert page.evaluate("() => window.AidHubQueue.all().then(r => r.length)") == 0
    shots(page, "sent")

    proof = ProofOfDelivery.objects.get(delivery=delivery)
    assert (proof.people, proof.households, proof.note) == (57, 12, "Unloaded at the mosque.")
    delivery.refresh_from_db()
    assert delivery.status == "delivered"
    (stored,) = proof.photos.all()
    with Evidence.objects.get(sha256=stored.evidence_sha256).file.open("rb") as file:
        data = file.read()
    image = Image.open(io.BytesIO(data))
    assert not image.getexif()
    assert b"PhoneMaker" not in data
    assert max(image.size) <= 1600

    # Logging out leaves nothing of this volunteer on the phone for the next person.
    assert page.evaluate("() => caches.keys()")
    page.click('header form[action="/accounts/logout/"] button')
    page.wait_for_url(lambda url: urlsplit(url).path == "/")
    assert page.evaluate("() => caches.keys()") == []
    assert page.evaluate("() => indexedDB.databases().then(d => d.map(x => x.name))") == []
    assert page.evaluate("() => navigator.serviceWorker.getRegistrations()") == []
    shots(page, "logged-out")


def test_a_report_the_server_rejects_shows_the_reason_and_stays_editable(new_page, shots, tmp_path):
    delivery = Delivery.objects.get(place__slug="samarkandyk")
    not_a_photo = tmp_path / "IMG_0002.jpg"
    not_a_photo.write_bytes(b"%PDF-1.4 this is not a photo at all")
    photo = tmp_path / "IMG_0003.jpg"
    photo.write_bytes(phone_photo())

    page = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    log_in(page, "volunteer")
    page.goto(f"{delivery.get_absolute_url()}report/")
    page.set_input_files("#id_photos", str(not_a_photo))
    page.fill("#id_people", "40")
    page.fill("#id_note", "At the school.")
    page.click("#report-form [type=submit]")

    # The server's own reason, in the volunteer's language; the report stays on the phone.
    page.locator("#report-status.alert-danger", has_text="Photos of the handover").wait_for()
    assert page.locator("#offline-queue li[data-state=rejected]").count() == 1
    assert page.locator("#report-form").is_visible()
    assert page.input_value("#id_people") == "40"
    assert page.input_value("#id_note") == "At the school."
    shots(page, "rejected")
    assert not ProofOfDelivery.objects.filter(delivery=delivery).exists()

    # Corrected, it goes through, once.
    page.set_input_files("#id_photos", str(photo))
    page.fill("#id_people", "41")
    page.click("#report-form [type=submit]")
    page.wait_for_url(f"**{delivery.get_absolute_url()}")
    page.wait_for_function("() => document.getElementById('offline-queue').hidden")
    shots(page, "corrected-and-sent")
    proof = ProofOfDelivery.objects.get(delivery=delivery)
    assert (proof.people, proof.note, proof.photos.count()) == (41, "At the school.", 1)


QUEUE_LENGTH = """() => new Promise((resolve, reject) => {
  const open = indexedDB.open("aidhub");
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const count = open.result.transaction("reports").objectStore("reports").count();
    count.onsuccess = () => { open.result.close(); resolve(count.result); };
  };
})"""


def test_background_sync_sends_a_report_after_its_tab_was_closed(new_page, shots, tmp_path):
    delivery = Delivery.objects.get(place__slug="samarkandyk")
    photo = tmp_path / "IMG_0004.jpg"
    photo.write_bytes(phone_photo())
    page = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    context = page.context
    log_in(page, "volunteer")
    page.goto(f"{delivery.get_absolute_url()}report/")
    page.wait_for_function("() => navigator.serviceWorker && navigator.serviceWorker.controller")
    context.set_offline(True)
    page.set_input_files("#id_photos", str(photo))
    page.fill("#id_people", "23")
    page.click("#report-form [type=submit]")
    page.locator("#offline-queue li[data-state=waiting]").wait_for()
    shots(page, "saved-then-tab-closed")
    page.close()

    # No AidHub page is open when the connection returns: Chromium fires the service worker's
    # Background Sync, which sends the report by itself.
    context.set_offline(False)
    watcher = context.new_page()
    watcher.goto("/static/img/icon.svg")  # same origin, none of our scripts: it only looks
    # Chromium may wait a while before firing a sync when the machine is busy.
    wait_until(watcher, f"async () => (await ({QUEUE_LENGTH})()) === 0", timeout=120)
    proof = ProofOfDelivery.objects.get(delivery=delivery)
    assert (proof.people, proof.photos.count()) == (23, 1)


CACHES_NOW = """async () => {
  const pages = await caches.open("aidhub-pages");
  return {
    names: await caches.keys(),
    pages: (await pages.keys()).map(r => new URL(r.url).pathname),
  };
}"""


def test_a_new_release_keeps_the_pages_anew_and_lets_go_of_the_rest(new_page, monkeypatch):
    import aidhub.pwa

    delivery = Delivery.objects.get(place__slug="samarkandyk")
    page = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    log_in(page, "volunteer")
    page.goto("/deliveries/")
    page.wait_for_function("() => navigator.serviceWorker && navigator.serviceWorker.controller")
    before = wait_until(
        page,
        f"async () => {{ const now = await ({CACHES_NOW})();"
        f" return now.pages.includes('{delivery.get_absolute_url()}report/') && now; }}",
        timeout=30,
    )
    [old_shell] = [name for name in before["names"] if name.startswith("aidhub-shell-")]
    # A page kept from a delivery that is no longer this volunteer's.
    page.evaluate(
        """async () => (await caches.open("aidhub-pages"))
        .put("/deliveries/given-to-someone-else/", new Response("<p>old</p>"))"""
    )

    # The next release: another shell (new hashed CSS and scripts), so another worker.
    release = aidhub.pwa._render_worker().replace(
        'SHELL_CACHE = "aidhub-shell-', 'SHELL_CACHE = "aidhub-shell-next-'
    )
    assert release != aidhub.pwa._render_worker()
    monkeypatch.setattr(aidhub.pwa, "_cached_worker", lambda: release)
    page.evaluate("async () => (await navigator.serviceWorker.getRegistration()).update()")

    after = wait_until(
        page,
        f"async () => {{ const now = await ({CACHES_NOW})();"
        f" return !now.names.includes('{old_shell}')"
        " && !now.pages.includes('/deliveries/given-to-someone-else/') && now; }",
        timeout=30,
    )
    assert any(name.startswith("aidhub-shell-next-") for name in after["names"])
    assert {"/deliveries/", delivery.get_absolute_url()} <= set(after["pages"])


def test_a_page_opened_offline_does_not_say_its_flash_message_again(new_page):
    delivery = Delivery.objects.get(place__slug="ak-sai")
    url = delivery.get_absolute_url()
    page = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    log_in(page, "volunteer")
    page.goto("/deliveries/")
    page.wait_for_function("() => navigator.serviceWorker && navigator.serviceWorker.controller")
    page.goto(url)
    page.click("text=I will take it")
    page.wait_for_url(f"**{url}")
    assert "It is yours" in page.inner_text("main")

    # The phone keeps the page as it is now (claimed), without the message.
    kept = wait_until(
        page,
        f"""async () => {{
          const found = await (await caches.open("aidhub-pages")).match("{url}");
          const html = found && await found.text();
          return html && html.includes("The car is leaving now") && html;
        }}""",
        timeout=30,
    )
    assert "It is yours" not in kept
    page.context.set_offline(True)
    page.goto(url)
    main = page.inner_text("main")
    assert "The car is leaving now" in main and "It is yours" not in main
