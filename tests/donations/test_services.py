import json
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from aidhub.uploads import CleanFile
from donations import services
from donations.models import Donation, Expense, ExpenseProposal
from donations.rates import RateMissing
from donations.reconcile import reconcile
from hubs.models import StockLevel
from ledger.models import LedgerEntry
from tests.factories import expense_approved
from tests.ledger.factories import jpeg_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.clock]

RECEIPT = CleanFile(jpeg_bytes((240, 240, 230)), "image/jpeg")


def payload_of(index: int) -> dict:
    return json.loads(bytes(LedgerEntry.objects.get(index=index).leaf))["payload"]


def donate(fundraiser, amount="100.00", currency="KZT", **extra):
    return services.donation_record(
        fundraiser=fundraiser, amount=amount, currency=currency, received_at=timezone.now(),
        channel=extra.pop("channel", "card"), by=fundraiser.organiser, **extra,
    )  # fmt: skip


def test_donation_in_another_currency_is_converted_through_the_som(fundraiser, rates):
    donation = donate(fundraiser, "1000.00", "USD")
    # 87.45 KGS per USD / 0.1745 KGS per KZT
    assert donation.rate == Decimal("501.14613181")
    assert donation.converted_amount == Decimal("501146.13")
    assert "nbkr:" in donation.rate_source and "via KGS" in donation.rate_source
    payload = payload_of(donation.ledger_index)
    assert payload["money"] == {"amount": "1000.00", "currency": "USD"}
    assert payload["converted"] == {"amount": "501146.13", "currency": "KZT"}
    assert payload["rate"] == "501.14613181"


def test_the_rate_the_bank_gave_wins_over_the_official_one(fundraiser, rates):
    donation = donate(fundraiser, "500.00", "GBP", manual_rate=Decimal("620.5"))
    assert (donation.rate, donation.rate_source) == (Decimal("620.5"), "organiser")
    assert donation.converted_amount == Decimal("310250.00")


def test_without_any_rate_the_donation_is_refused_not_guessed(fundraiser):
    with pytest.raises(RateMissing, match="no exchange rate from USD to KZT"):
        donate(fundraiser, "10.00", "USD")
    assert not Donation.objects.exists() and not LedgerEntry.objects.exists()


@pytest.mark.parametrize(
    ("amount", "currency", "message"),
    [
        ("0", "KZT", "cannot be zero"),
        ("-5", "KZT", "cannot be negative"),
        ("10.001", "USD", "2 decimal places"),
        ("10.5", "JPY", "0 decimal places"),
        ("10", "XYZ", "not an ISO 4217"),
        ("ten", "KZT", "not an amount"),
    ],
)
def test_bad_amounts_are_refused_and_nothing_is_written(fundraiser, rates, amount, currency,
                                                         message):  # fmt: skip
    with pytest.raises(ValidationError, match=message):
        donate(fundraiser, amount, currency)
    assert not Donation.objects.exists() and not LedgerEntry.objects.exists()


def test_donor_stays_anonymous_and_private_details_stay_out_of_the_ledger(fundraiser):
    donation = donate(fundraiser, donor_contact="aibek@example.kg",
                      bank_reference="KZ86 125K ZT50 0410 0100")  # fmt: skip
    leaf = bytes(LedgerEntry.objects.get(index=donation.ledger_index).leaf)
    assert b"aibek" not in leaf and b"0100" not in leaf and b"public_name" not in leaf
    assert donation.bank_reference == "•••• 0100"


def test_the_donor_gets_a_receipt_code_by_email(fundraiser, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        donation = donate(fundraiser, donor_contact="aibek@example.kg")
    assert len(donation.receipt_code) == 11
    assert len(mail.outbox) == 1
    assert donation.receipt_code in mail.outbox[0].body
    assert mail.outbox[0].to == ["aibek@example.kg"]


def test_a_screenshot_is_published_only_once_names_are_confirmed_covered(fundraiser, media):
    shot = CleanFile(jpeg_bytes(), "image/jpeg")
    with pytest.raises(ValidationError, match="covered"):
        donate(fundraiser, evidence=shot)
    donation = donate(fundraiser, evidence=shot, evidence_covered=True)
    assert payload_of(donation.ledger_index)["evidence"] == [donation.evidence_sha256]


def test_a_closed_fundraiser_takes_no_money(fundraiser):
    fundraiser.status = "closed"
    fundraiser.save()
    with pytest.raises(ValidationError, match="is closed"):
        donate(fundraiser)


def test_a_time_in_the_future_is_refused(fundraiser):
    with pytest.raises(ValidationError, match="future"):
        services.donation_record(
            fundraiser=fundraiser, amount="1.00", currency="KZT", channel="cash", by=None,
            received_at=timezone.now() + timezone.timedelta(days=2),
        )  # fmt: skip


def test_expense_goods_go_into_the_hub_and_the_receipt_into_the_ledger(
    fundraiser, rates, palace, flour, media
):
    palace.group = fundraiser.group  # its own group's hub: no acceptance is asked
    palace.save()
    expense = expense_approved(
        fundraiser=fundraiser, vendor="Dordoi market", amount="1200.00", currency="KGS",
        paid_at=timezone.now(), receipt=RECEIPT, lines=[(flour, Decimal("50"))], hub=palace,
    )  # fmt: skip
    assert StockLevel.objects.get(hub=palace, item=flour).quantity == 50
    payload = payload_of(expense.ledger_index)
    assert payload["evidence"] == [expense.receipt_sha256]
    assert payload["hub"] == {"id": "sports-palace", "name": "Sports Palace"}
    assert payload["approved_by"] == "treasurer"
    assert expense.converted_amount == Decimal("6876.79")  # 1200 / 0.1745


def test_expense_without_a_receipt_is_refused(fundraiser):
    with pytest.raises(ValidationError, match="needs its receipt"):
        services.expense_propose(fundraiser=fundraiser, vendor="x", amount="1.00", currency="KZT",
                                 paid_at=timezone.now(), receipt=None,
                                 by=fundraiser.organiser)  # fmt: skip
    assert not Expense.objects.exists() and not ExpenseProposal.objects.exists()


def test_correcting_an_expense_reverses_it_and_takes_its_goods_back_out(
    fundraiser, rates, palace, flour, media
):
    palace.group = fundraiser.group  # its own group's hub: no acceptance is asked
    palace.save()
    expense = expense_approved(
        fundraiser=fundraiser, vendor="Dordoi", amount="1200.00", currency="KGS",
        paid_at=timezone.now(), receipt=RECEIPT, lines=[(flour, Decimal("50"))], hub=palace,
    )  # fmt: skip
    index = services.correction_record(row=expense, reason="typed 1200 for 120", by=None)
    assert payload_of(index)["reverses"] == expense.ledger_index
    assert StockLevel.objects.get(hub=palace, item=flour).quantity == 0
    with pytest.raises(ValidationError, match="already corrected"):
        services.correction_record(row=Expense.objects.get(), reason="again", by=None)
    assert reconcile(fundraiser).ok


def test_a_correction_and_a_new_entry_fix_a_wrong_amount(fundraiser):
    wrong = donate(fundraiser, "5000.00")
    services.correction_record(row=wrong, reason="it was 500", by=None)
    donate(fundraiser, "500.00")
    report = reconcile(fundraiser)
    assert report.ok
    assert report.ledger.raised_converted == Decimal("500.00")


def test_gift_in_kind_enters_the_hub_stock(palace, flour):
    gift = services.gift_in_kind_record(hub=palace, lines=[(flour, Decimal("20"))], by=None,
                                        public_name="Sewing workshop")  # fmt: skip
    assert StockLevel.objects.get(hub=palace, item=flour).quantity == 20
    assert payload_of(gift.ledger_index)["public_name"] == "Sewing workshop"


def test_reconcile_names_an_entry_whose_record_was_changed_behind_the_ledger(fundraiser):
    donation = donate(fundraiser, "100.00")
    Donation.objects.filter(pk=donation.pk).update(converted_amount=Decimal("1000.00"))
    report = reconcile(fundraiser)
    assert not report.ok
    assert any(f"entry {donation.ledger_index}" in p for p in report.problems)
    assert any(p.startswith("balance in KZT") for p in report.problems)
