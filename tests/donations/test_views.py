import hashlib
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from donations import services
from donations.models import Donation, Expense, ExpenseProposal, ExpenseReceiptOriginal
from hubs.models import Membership
from ledger.models import Evidence, LedgerEntry
from tests.aidhub.test_uploads import HOSTILE_PDFS
from tests.factories import PASSWORD, MembershipFactory, UserFactory, second_approves
from tests.ledger.factories import jpeg_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.clock]

ORGANISER_URLS = [
    "manage/",
    "donations/new/",
    "expenses/new/",
    "statement/",
    "reconcile/",
]


def url(fundraiser, tail=""):
    return f"/fundraisers/{fundraiser.slug}/{tail}"


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)


def statement_confirm(preview) -> dict:
    """The preview's confirm button, with the hash of the rows it showed."""
    return {"confirm": "1", "rows_sha256": preview.context["confirm"].initial["rows_sha256"]}


@pytest.fixture
def recorded(fundraiser, rates):
    return services.donation_record(
        fundraiser=fundraiser, amount="1000.00", currency="USD", received_at=timezone.now(),
        channel="bank_transfer", by=None, donor_contact="+996 555 123 456",
        bank_reference="40817810099910004312", public_name="",
    )  # fmt: skip


def test_fundraiser_page_shows_progress_in_its_currency_and_per_original_currency(
    client, fundraiser, recorded
):
    response = client.get(url(fundraiser))
    assert response.status_code == 200
    totals = response.context["totals"]
    assert totals.raised == Decimal("501146.13") and totals.percent == 4
    assert totals.by_currency == {"USD": Decimal("1000.000")}
    assert "Kaspi card" in response.text
    assert 'property="og:image"' in response.text


def test_fundraiser_page_is_served_from_the_cache_and_shows_a_new_donation_at_once(
    client, fundraiser, recorded, django_assert_num_queries
):
    first = client.get(url(fundraiser))
    assert not first.cookies  # the follow form needs no CSRF token: nothing per visitor
    with django_assert_num_queries(0):  # the ledger's version is cached a moment too
        assert client.get(url(fundraiser)).content == first.content
    services.donation_record(
        fundraiser=fundraiser, amount="2000.00", currency="KZT", received_at=timezone.now(),
        channel="cash", by=None,
    )  # fmt: skip
    assert "2 donations" in client.get(url(fundraiser)).text


def test_public_fundraiser_pages_never_show_private_donor_details(client, fundraiser, recorded):
    for page in [url(fundraiser), "/fundraisers/", "/ledger/", f"/ledger/{recorded.ledger_index}/"]:
        text = client.get(page).text
        assert "555 123 456" not in text and "4312" not in text


def test_preview_image_is_a_png(client, fundraiser, recorded):
    response = client.get(url(fundraiser, "preview.png"))
    assert response["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(response.content)).size == (1200, 630)


@pytest.mark.parametrize("tail", ORGANISER_URLS)
def test_anonymous_visitors_are_sent_to_log_in(client, fundraiser, tail):
    response = client.get(url(fundraiser, tail))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("tail", ORGANISER_URLS)
def test_other_users_get_404_on_organiser_pages(client, fundraiser, tail):
    login(client, UserFactory(username="stranger"))
    assert client.get(url(fundraiser, tail)).status_code == 404


def test_other_users_cannot_record_or_correct_by_direct_post(client, fundraiser, recorded):
    login(client, UserFactory(username="stranger"))
    response = client.post(url(fundraiser, "donations/new/"),
                           {"amount": "5", "currency": "KZT", "channel": "cash"})  # fmt: skip
    assert response.status_code == 404
    response = client.post(url(fundraiser, f"donations/{recorded.pk}/correct/"), {"reason": "x"})
    assert response.status_code == 404
    assert Donation.objects.count() == 1 and not Donation.objects.get().is_corrected


def test_a_coordinator_of_a_supplied_hub_may_see_the_reconciliation(client, fundraiser, palace):
    fundraiser.hubs.add(palace)
    coordinator = MembershipFactory(hub=palace, role=Membership.Role.COORDINATOR).user
    login(client, coordinator)
    assert client.get(url(fundraiser, "reconcile/")).status_code == 200
    assert client.get(url(fundraiser, "manage/")).status_code == 404


def donation_form(**overrides):
    now = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    return {"amount": "2500", "currency": "KZT", "channel": "cash", "received_at": now,
            **overrides}  # fmt: skip


def test_organiser_records_a_donation_and_sees_the_receipt_code(client, fundraiser):
    login(client, fundraiser.organiser)
    response = client.post(url(fundraiser, "donations/new/"), donation_form(amount="2 500,50"),
                           follow=True)  # fmt: skip
    donation = Donation.objects.get()
    assert donation.amount == Decimal("2500.50")
    assert donation.receipt_code in response.text


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"amount": "10.001"}, "KZT has 2 decimal places"),
        ({"amount": "0"}, "cannot be zero"),
        ({"amount": "-5"}, "cannot be negative"),
        ({"currency": "ABC"}, "Select a valid choice"),
        ({"currency": "USD"}, "There is no exchange rate from USD to KZT"),
    ],
)
def test_bad_donation_input_gets_a_clear_message_and_writes_nothing(
    client, fundraiser, overrides, message
):
    login(client, fundraiser.organiser)
    response = client.post(url(fundraiser, "donations/new/"), donation_form(**overrides))
    assert response.status_code == 200
    assert message in response.text
    assert not Donation.objects.exists() and not LedgerEntry.objects.exists()


def expense_form(receipt, **overrides):
    return {"amount": "1200", "currency": "KZT", "vendor": "Dordoi market", "receipt": receipt,
            "paid_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "lines-TOTAL_FORMS": "4", "lines-INITIAL_FORMS": "0", **overrides}  # fmt: skip


def test_organiser_records_an_expense_with_a_photo_receipt(client, fundraiser, media):
    login(client, fundraiser.organiser)
    receipt = SimpleUploadedFile("r.jpg", jpeg_bytes(), content_type="image/jpeg")
    response = client.post(url(fundraiser, "expenses/new/"), expense_form(receipt))
    assert response.status_code == 302
    assert not Expense.objects.exists()  # proposed: it waits for a second person
    second_approves(ExpenseProposal.objects.get())
    assert Expense.objects.get().amount == 1200


@pytest.mark.parametrize(
    ("receipt", "message"),
    [
        (None, "This field is required"),
        (SimpleUploadedFile("r.html", b"<html>receipt</html>"), "not a photo we can read"),
        (SimpleUploadedFile("r.pdf", b"%PDF-1.4 /JavaScript %%EOF"), "cannot be opened"),
    ],
)
def test_an_expense_without_a_real_receipt_is_refused(client, fundraiser, receipt, message):
    login(client, fundraiser.organiser)
    data = expense_form(receipt)
    if receipt is None:
        del data["receipt"]
    response = client.post(url(fundraiser, "expenses/new/"), data)
    assert message in response.text
    assert not Expense.objects.exists() and not ExpenseProposal.objects.exists()


@pytest.mark.parametrize("make", HOSTILE_PDFS.values(), ids=HOSTILE_PDFS.keys())
def test_a_pdf_receipt_is_published_as_an_image_and_the_pdf_stays_private(
    client, fundraiser, media, make
):
    pdf = make()
    login(client, fundraiser.organiser)
    receipt = SimpleUploadedFile("r.pdf", pdf, content_type="application/pdf")
    response = client.post(url(fundraiser, "expenses/new/"), expense_form(receipt))
    assert response.status_code == 302
    expense = second_approves(ExpenseProposal.objects.get())
    assert ExpenseReceiptOriginal.objects.get(expense=expense).data == pdf
    assert bytes(ExpenseProposal.objects.get().receipt_original) == b""  # moved, not copied
    client.logout()
    published = client.get(f"/ledger/evidence/{expense.receipt_sha256}")
    assert published["Content-Type"] == "image/jpeg"
    assert hashlib.sha256(published.getvalue()).hexdigest() == expense.receipt_sha256
    assert b"MARKER" not in published.getvalue()
    assert client.get(f"/ledger/evidence/{hashlib.sha256(pdf).hexdigest()}").status_code == 404
    assert Evidence.objects.get().content_type == "image/jpeg"
    stored = [path.read_bytes() for path in media.rglob("*") if path.is_file()]
    assert stored and not any(b"%PDF" in data or b"MARKER" in data for data in stored)


def test_organiser_corrects_a_donation(client, fundraiser, recorded):
    login(client, fundraiser.organiser)
    response = client.post(url(fundraiser, f"donations/{recorded.pk}/correct/"),
                           {"reason": "wrong fundraiser"})  # fmt: skip
    assert response.status_code == 302
    recorded.refresh_from_db()
    assert recorded.is_corrected
    assert client.get(url(fundraiser, f"donations/{recorded.pk}/correct/")).status_code == 404


def test_bank_statement_rows_match_existing_donations_or_become_new_ones(
    client, fundraiser, recorded
):
    login(client, fundraiser.organiser)
    today = timezone.localdate().isoformat()
    csv_text = (
        "date,amount,currency,reference,description\n"
        f"{today},1000.00,USD,...4312,from abroad\n"
        f"{today},15000.00,KZT,77001234,Kaspi\n"
        f"{today},-300.00,KZT,,bank fee\n"
    )
    upload = SimpleUploadedFile("statement.csv", csv_text.encode())
    response = client.post(url(fundraiser, "statement/"), {"statement": upload})
    statuses = [row["status"] for row in response.context["rows"]]
    assert statuses == ["matched", "new", "skipped"]
    assert Donation.objects.count() == 1  # nothing written before confirming
    client.post(url(fundraiser, "statement/"), statement_confirm(response))
    assert Donation.objects.count() == 2
    new = Donation.objects.get(currency="KZT")
    assert (new.amount, new.channel, new.bank_reference) == (15000, "bank_transfer", "•••• 1234")


def test_a_statement_with_a_bad_row_is_not_imported(client, fundraiser):
    login(client, fundraiser.organiser)
    upload = SimpleUploadedFile("s.csv", b"date,amount,currency\nyesterday,5,KZT\n")
    response = client.post(url(fundraiser, "statement/"), {"statement": upload})
    assert response.context["rows"][0]["status"] == "error"
    response = client.post(url(fundraiser, "statement/"), statement_confirm(response), follow=True)
    assert "Fix the rows with errors first." in response.text
    assert not Donation.objects.exists()


def test_reconcile_page_and_command_agree_on_a_clean_fundraiser(client, fundraiser, recorded):
    from django.core.management import call_command

    login(client, fundraiser.organiser)
    assert "The ledger and the records agree" in client.get(url(fundraiser, "reconcile/")).text
    out = io.StringIO()
    call_command("reconcile", fundraiser.slug, stdout=out)
    assert out.getvalue().startswith("OK almaty-for-batken")
