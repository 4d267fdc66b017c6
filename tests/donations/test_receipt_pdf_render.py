"""A receipt PDF too slow for the renderer is refused on the expense form, and nothing is kept."""

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from donations.models import Expense, ExpenseProposal, ExpenseReceiptOriginal
from ledger.models import Evidence, LedgerEntry
from tests.aidhub.test_uploads import page_objects, pdf_bytes
from tests.aidhub.test_uploads_pdf_render import slow_pdf
from tests.donations.test_views import expense_form, login, url
from tests.factories import second_approves

pytestmark = [pytest.mark.django_db, pytest.mark.clock]


def test_a_receipt_pdf_too_slow_to_draw_is_refused_and_nothing_is_stored(
    client, fundraiser, media, settings
):
    settings.PDF_RENDER_SECONDS = 1
    login(client, fundraiser.organiser)
    receipt = SimpleUploadedFile("r.pdf", slow_pdf(), content_type="application/pdf")
    started = time.monotonic()
    response = client.post(url(fundraiser, "expenses/new/"), expense_form(receipt))
    assert time.monotonic() - started < 1 + 5
    assert response.status_code == 200
    assert "This PDF is too complex for us to open." in response.text
    assert not Expense.objects.exists() and not ExpenseReceiptOriginal.objects.exists()
    assert not ExpenseProposal.objects.exists()
    assert not Evidence.objects.exists() and not LedgerEntry.objects.exists()
    assert not [path for path in media.rglob("*") if path.is_file()]


def test_a_receipt_pdf_is_still_recorded_through_the_renderer(client, fundraiser, media):
    pdf = pdf_bytes(page_objects(pages=2))
    login(client, fundraiser.organiser)
    receipt = SimpleUploadedFile("r.pdf", pdf, content_type="application/pdf")
    response = client.post(url(fundraiser, "expenses/new/"), expense_form(receipt))
    assert response.status_code == 302
    expense = second_approves(ExpenseProposal.objects.get())
    assert ExpenseReceiptOriginal.objects.get(expense=expense).data == pdf
    assert Evidence.objects.get().content_type == "image/jpeg"
