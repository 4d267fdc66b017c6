"""Goods bought by a fundraiser go only into the stock of the hubs linked to it."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django.utils.translation import override

from aidhub.uploads import CleanFile
from donations import services
from donations.forms import ExpenseForm
from donations.models import Expense, ExpenseLine, ExpenseProposal
from hubs.models import StockLevel, StockMovement
from ledger.models import Evidence, LedgerEntry
from tests.factories import PASSWORD, HubFactory
from tests.ledger.factories import jpeg_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.clock]


@pytest.fixture
def stranger_hub(db):
    return HubFactory(slug="other-hub", name="Somebody Else's Hub")


def test_the_expense_form_offers_only_the_fundraisers_own_hubs(fundraiser, palace, stranger_hub):
    fundraiser.hubs.add(palace)
    form = ExpenseForm(fundraiser=fundraiser)
    assert list(form.fields["hub"].queryset) == [palace]
    assert "Somebody Else" not in form.as_p()


def test_the_expense_form_refuses_a_hub_it_did_not_offer(fundraiser, palace, stranger_hub):
    fundraiser.hubs.add(palace)
    form = ExpenseForm(
        {"amount": "10", "currency": "KZT", "vendor": "Shop", "hub": stranger_hub.pk,
         "paid_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M")},
        {"receipt": SimpleUploadedFile("r.jpg", jpeg_bytes(), content_type="image/jpeg")},
        fundraiser=fundraiser,
    )  # fmt: skip
    assert not form.is_valid()
    assert "hub" in form.errors


def test_an_expense_into_a_hub_the_fundraiser_does_not_supply_is_refused_and_nothing_written(
    fundraiser, rates, palace, stranger_hub, flour, media
):
    fundraiser.hubs.add(palace)
    with override("ru"), pytest.raises(ValidationError) as refused:
        services.expense_propose(
            fundraiser=fundraiser, vendor="Soap wholesale", amount="5000.00", currency="KGS",
            paid_at=timezone.now(), receipt=CleanFile(jpeg_bytes(), "image/jpeg"),
            lines=[(flour, Decimal("500"))], hub=stranger_hub, by=fundraiser.organiser,
        )  # fmt: skip
    assert refused.value.code == "hub_not_supplied"
    assert "Somebody Else's Hub" in refused.value.messages[0]
    assert not Expense.objects.exists() and not ExpenseLine.objects.exists()
    assert not ExpenseProposal.objects.exists()
    assert not LedgerEntry.objects.exists() and not Evidence.objects.exists()
    assert not StockMovement.objects.exists()
    assert not StockLevel.objects.filter(quantity__gt=0).exists()


def test_an_organiser_posting_another_hub_gets_the_form_back_and_no_stock_moves(
    client, fundraiser, rates, palace, stranger_hub, flour, media
):
    fundraiser.hubs.add(palace)
    assert client.login(username=fundraiser.organiser.username, password=PASSWORD)
    response = client.post(
        f"/fundraisers/{fundraiser.slug}/expenses/new/",
        {"amount": "5000", "currency": "KGS", "vendor": "Soap wholesale",
         "paid_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"), "hub": stranger_hub.pk,
         "receipt": SimpleUploadedFile("r.jpg", jpeg_bytes(), content_type="image/jpeg"),
         "lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "0",
         "lines-0-item": flour.pk, "lines-0-quantity": "500"},
    )  # fmt: skip
    assert response.status_code == 200
    assert not Expense.objects.exists() and not StockMovement.objects.exists()
