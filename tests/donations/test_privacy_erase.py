"""An organiser erases a donor's contact or a receipt's stored original PDF on request, from the
admin, through the services: audited, the ledger and the published evidence untouched."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from aidhub.models import AuditEvent
from aidhub.uploads import CleanFile
from donations import services
from donations.models import Donation, ExpenseReceiptOriginal, Fundraiser
from ledger.models import Evidence, LedgerEntry
from tests.factories import PASSWORD, UserFactory, expense_approved, organised_by
from tests.ledger.factories import jpeg_bytes

pytestmark = pytest.mark.django_db

CONTACT = "aibek@example.kg"
DONATIONS = "/admin/donations/donation/"
EXPENSES = "/admin/donations/expense/"
ORIGINAL = b"%PDF-1.7 the receipt as the shop sent it, Author: Aibek Sadykov"


@pytest.fixture
def organiser(organiser):
    organiser.is_staff = True
    organiser.save(update_fields=["is_staff"])
    return organiser


@pytest.fixture
def as_organiser(client, organiser):
    assert client.login(username=organiser.username, password=PASSWORD)
    return client


@pytest.fixture
def other_fundraiser(fundraiser):
    return Fundraiser.objects.create(
        slug="bishkek-for-osh", title="Bishkek for Osh",
        **organised_by(UserFactory(username="erlan", is_staff=True)),
        goal_amount=fundraiser.goal_amount, currency="KZT", starts_on=fundraiser.starts_on,
    )  # fmt: skip


def donate(fundraiser, contact=CONTACT):
    return services.donation_record(
        fundraiser=fundraiser, amount="100.00", currency="KZT", received_at=timezone.now(),
        channel="card", by=fundraiser.organiser, donor_contact=contact,
    )  # fmt: skip


def spend(fundraiser):
    receipt = CleanFile(jpeg_bytes(), "image/jpeg", private_original=ORIGINAL)
    return expense_approved(
        fundraiser=fundraiser, vendor="Dordoi market", amount="1200.00", currency="KZT",
        paid_at=timezone.now(), receipt=receipt,
    )  # fmt: skip


def raw_contact(donation) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT donor_contact FROM donations_donation WHERE id = %s", [donation.pk])
        return cursor.fetchone()[0]


def ledger_leaves() -> list[bytes]:
    return [
        bytes(leaf) for leaf in LedgerEntry.objects.order_by("index").values_list("leaf", flat=True)
    ]


def run(client, changelist, action, rows, **extra):
    return client.post(
        changelist,
        {"action": action, "_selected_action": [row.pk for row in rows], "index": "0"},
        **extra,
    )


def test_the_organiser_erases_a_donors_contact_from_the_admin(as_organiser, fundraiser):
    donation, other = donate(fundraiser), donate(fundraiser, contact="+996 555 123 456")
    before = ledger_leaves()
    response = run(as_organiser, DONATIONS, "erase_donor_contact", [donation], follow=True)
    assert "Erased the donor&#x27;s contact of 1 donation." in response.text
    assert raw_contact(donation) == ""
    assert Donation.objects.get(pk=donation.pk).donor_contact == ""
    assert Donation.objects.get(pk=other.pk).donor_contact == "+996 555 123 456"
    assert ledger_leaves() == before
    assert Donation.objects.get(pk=donation.pk).amount == donation.amount


def test_erasing_a_contact_is_audited_without_the_contact(as_organiser, fundraiser, organiser):
    donation = donate(fundraiser)
    run(as_organiser, DONATIONS, "erase_donor_contact", [donation])
    event = AuditEvent.objects.get(action="donor contact erased")
    assert event.actor == organiser and str(donation.pk) in event.target
    recorded = f"{event.target} {event.detail}"
    assert CONTACT not in recorded and "aibek" not in recorded


def test_erasing_again_changes_and_audits_nothing(fundraiser, organiser):
    donation = donate(fundraiser)
    assert services.donor_contact_erase(donation=donation, by=organiser)
    assert not services.donor_contact_erase(donation=donation, by=organiser)
    assert AuditEvent.objects.filter(action="donor contact erased").count() == 1


def test_the_action_is_offered_to_the_organiser(as_organiser, fundraiser):
    donate(fundraiser)
    assert 'value="erase_donor_contact"' in as_organiser.get(DONATIONS).text


def test_another_organiser_cannot_erase_the_contact(client, fundraiser, other_fundraiser):
    donation = donate(fundraiser)
    outsider = other_fundraiser.organiser
    with pytest.raises(ValidationError, match="Only the organiser"):
        services.donor_contact_erase(donation=donation, by=outsider)
    assert client.login(username=outsider.username, password=PASSWORD)
    run(client, DONATIONS, "erase_donor_contact", [donation])  # not in their list: nothing
    assert Donation.objects.get(pk=donation.pk).donor_contact == CONTACT
    assert not AuditEvent.objects.filter(action="donor contact erased").exists()


def test_a_superuser_erases_any_contact(fundraiser):
    donation = donate(fundraiser)
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    assert services.donor_contact_erase(donation=donation, by=root)
    assert raw_contact(donation) == ""


def test_the_organiser_deletes_a_stored_original_and_the_published_image_stays(
    as_organiser, fundraiser, organiser, media
):
    expense = spend(fundraiser)
    assert ExpenseReceiptOriginal.objects.filter(expense=expense).exists()
    before = ledger_leaves()
    response = run(as_organiser, EXPENSES, "delete_receipt_original", [expense], follow=True)
    assert "Deleted the original receipt PDF of 1 expense" in response.text
    assert not ExpenseReceiptOriginal.objects.filter(expense=expense).exists()
    assert ledger_leaves() == before
    assert Evidence.objects.get(sha256=expense.receipt_sha256).published
    assert as_organiser.get(f"/ledger/evidence/{expense.receipt_sha256}").status_code == 200
    event = AuditEvent.objects.get(action="receipt original deleted")
    assert event.actor == organiser and str(expense.pk) in event.target
    assert "Aibek" not in f"{event.target} {event.detail}"


def test_another_organiser_cannot_delete_a_stored_original(
    client, fundraiser, other_fundraiser, media
):
    expense = spend(fundraiser)
    outsider = other_fundraiser.organiser
    with pytest.raises(ValidationError, match="Only the organiser"):
        services.expense_receipt_original_delete(expense=expense, by=outsider)
    assert client.login(username=outsider.username, password=PASSWORD)
    run(client, EXPENSES, "delete_receipt_original", [expense])
    assert ExpenseReceiptOriginal.objects.get(expense=expense).data == ORIGINAL
    assert not AuditEvent.objects.filter(action="receipt original deleted").exists()


def test_a_volunteer_who_organises_nothing_gets_no_donations_admin(client, fundraiser):
    donation = donate(fundraiser)
    UserFactory(username="bakyt", is_staff=True)
    assert client.login(username="bakyt", password=PASSWORD)
    response = run(client, DONATIONS, "erase_donor_contact", [donation])
    assert response.status_code == 403
    assert Donation.objects.get(pk=donation.pk).donor_contact == CONTACT
