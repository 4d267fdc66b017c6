"""A bank statement's confirm form names the rows its preview showed (a SHA-256 of them): a
confirm from an older preview, in another tab, records nothing instead of the rows checked
since."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from aidhub.models import IdempotentSubmission
from donations.models import Donation
from tests.factories import PASSWORD

from .test_views import url

pytestmark = [pytest.mark.django_db, pytest.mark.clock]

STALE = "Nothing was recorded: the statement on this page is no longer the one checked last"
HIDDEN = re.compile(r'<input type="hidden" name="([a-z_0-9]+)" value="([^"]*)"')


@pytest.fixture
def organiser_client(client, fundraiser):
    assert client.login(username=fundraiser.organiser.username, password=PASSWORD)
    return client


def preview(client, fundraiser, *amounts: str):
    today = timezone.localdate().isoformat()
    lines = "".join(f"{today},{amount},KZT,{n:08}\n" for n, amount in enumerate(amounts))
    upload = SimpleUploadedFile("s.csv", f"date,amount,currency,reference\n{lines}".encode())
    response = client.post(url(fundraiser, "statement/"), {"statement": upload})
    assert response.status_code == 200 and response.context["rows"]
    return response


def confirm_form(response) -> dict:
    """What the preview's confirm button sends, as a browser would."""
    button = response.text.index('name="confirm"')
    form = response.text[response.text.rindex("<form", 0, button) : button]
    return {"confirm": "1", **dict(HIDDEN.findall(form))}


def confirm(client, fundraiser, form):
    return client.post(url(fundraiser, "statement/"), form, follow=True)


def recorded_amounts() -> list[int]:
    return sorted(int(d.amount) for d in Donation.objects.all())


def test_the_confirm_form_carries_the_previewed_rows_hash(organiser_client, fundraiser):
    form = confirm_form(preview(organiser_client, fundraiser, "15000"))
    assert re.fullmatch(r"[0-9a-f]{64}", form["rows_sha256"])
    assert re.fullmatch(r"[0-9a-f]{32}", form["idempotency_key"])


def test_a_previewed_statement_is_recorded_on_confirm(organiser_client, fundraiser):
    form = confirm_form(preview(organiser_client, fundraiser, "15000", "2500"))
    response = confirm(organiser_client, fundraiser, form)
    assert response.redirect_chain[-1][0] == url(fundraiser, "manage/")
    assert "2 new donations recorded." in response.text
    assert recorded_amounts() == [2500, 15000]


def test_confirming_a_preview_after_another_tab_previewed_another_statement_records_nothing(
    organiser_client, fundraiser
):
    statement_a = confirm_form(preview(organiser_client, fundraiser, "15000"))
    statement_b = confirm_form(preview(organiser_client, fundraiser, "700", "800"))  # other tab
    response = confirm(organiser_client, fundraiser, statement_a)
    assert response.status_code == 200 and not response.redirect_chain
    assert STALE in response.text
    assert not Donation.objects.exists() and not IdempotentSubmission.objects.exists()
    assert [row["amount"] for row in response.context["rows"]] == ["700.00", "800.00"]
    confirm(organiser_client, fundraiser, statement_b)  # what the other tab showed still works
    assert recorded_amounts() == [700, 800]


def test_confirming_a_preview_after_another_tab_recorded_its_statement_records_nothing(
    organiser_client, fundraiser
):
    statement_a = confirm_form(preview(organiser_client, fundraiser, "15000"))
    statement_b = confirm_form(preview(organiser_client, fundraiser, "700"))
    confirm(organiser_client, fundraiser, statement_b)
    response = confirm(organiser_client, fundraiser, statement_a)
    assert STALE in response.text
    assert recorded_amounts() == [700]


def test_a_confirm_without_the_rows_hash_records_nothing(organiser_client, fundraiser):
    form = confirm_form(preview(organiser_client, fundraiser, "15000"))
    del form["rows_sha256"]  # a page rendered before the hash, or a hand-made request
    assert STALE in confirm(organiser_client, fundraiser, form).text
    assert not Donation.objects.exists()


def test_a_confirm_with_another_statements_hash_records_nothing(organiser_client, fundraiser):
    statement_a = confirm_form(preview(organiser_client, fundraiser, "15000"))
    statement_b = confirm_form(preview(organiser_client, fundraiser, "700"))
    forged = {**statement_b, "rows_sha256": statement_a["rows_sha256"]}
    assert STALE in confirm(organiser_client, fundraiser, forged).text
    assert not Donation.objects.exists()
