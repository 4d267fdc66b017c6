"""A donor follows the money from a fundraiser to a delivery's proof, and learns to check it."""

from bench.page_weight import public_pages
from deliveries.models import Delivery

from .steps import PHONE


def test_a_donor_follows_a_fundraiser_entry_to_its_proof_and_the_verify_instructions(
    new_page, shots
):
    isfana = Delivery.objects.get(place__slug="isfana")
    page = new_page()
    page.goto("/fundraisers/")
    page.click("text=Almaty for Batken")
    page.wait_for_url("**/fundraisers/almaty-for-batken-2022/")
    shots(page, "fundraiser")

    page.click(f"a[href='/ledger/{isfana.ledger_index}/'] >> nth=0")
    page.wait_for_url(f"**/ledger/{isfana.ledger_index}/")
    assert "Isfana" in page.inner_text("main")
    thumbnails = page.locator("main img.thumb-lg")
    assert thumbnails.count() == 2
    thumbnails.first.scroll_into_view_if_needed()
    page.wait_for_function(
        "() => [...document.querySelectorAll('main img.thumb-lg')]"
        ".every(img => img.complete && img.naturalWidth > 0)"
    )
    shots(page, "entry-with-proof")

    with page.expect_response(lambda r: "/ledger/evidence/" in r.url) as photo:
        thumbnails.first.click()
    assert photo.value.status == 200
    assert photo.value.headers["content-type"] == "image/jpeg"
    shots(page, "proof-photo")

    page.go_back()
    page.click("text=How to check this by hand")
    page.click("text=how to verify the whole ledger")
    page.wait_for_url("**/ledger/verify/")
    assert "verify.py" in page.inner_text("main")
    shots(page, "verify-instructions")


def test_every_public_page_reads_without_javascript(new_page, shots):
    page = new_page(viewport=PHONE, java_script_enabled=False)
    for label, url in public_pages():
        response = page.goto(url)
        assert response.status == 200, f"{label} {url}: {response.status}"
        heading = page.locator("main h1").first
        assert heading.is_visible() and heading.inner_text().strip(), f"{label} {url}"
    shots(page, "last-page-without-javascript")
