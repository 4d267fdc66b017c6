"""A coordinator opens a delivery's proof from the admin and approves it on its own page; the
place's public page shows it."""

from deliveries.models import Delivery

from .steps import log_in


def test_a_coordinator_approves_the_proof_in_the_admin_and_the_place_page_shows_it(new_page, shots):
    kara_bak = Delivery.objects.get(place__slug="kara-bak")
    assert kara_bak.status == "delivered"
    public = new_page()  # anyone, without an account
    public.goto("/places/kara-bak/")
    assert "Nothing has been delivered here yet." in public.inner_text("main")
    shots(public, "place-before")

    page = new_page()
    log_in(page, "coordinator")
    page.goto("/admin/deliveries/delivery/")
    shots(page, "changelist")
    page.check(f"input[name=_selected_action][value='{kara_bak.pk}']")
    # No bulk approval: the action opens the proof's own page, photos and all.
    page.select_option("select[name=action]", "review")
    page.click("button[name=index]")
    page.wait_for_url(f"**/deliveries/{kara_bak.slug}/verify/")
    shots(page, "proof")
    page.click("button[name=approve]")
    page.get_by_text("Verified: ledger entry").wait_for()
    shots(page, "approved")

    kara_bak.refresh_from_db()
    assert kara_bak.status == "verified"
    public.reload()
    entry = public.locator("main li", has_text="Delivered to Kara-Bak for 120 people")
    assert entry.locator(f"a[href='/ledger/{kara_bak.ledger_index}/']").is_visible()
    assert "Nothing has been delivered here yet." not in public.inner_text("main")
    shots(public, "place-after")
