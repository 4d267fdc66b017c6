"""A donor's contact is encrypted at rest, reads back as text, and is erased after
DONOR_CONTACT_DAYS."""

import importlib
from datetime import timedelta
from types import SimpleNamespace

import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.conf import settings as django_settings
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.utils import timezone

from aidhub import crypto
from aidhub.checks import check_field_encryption_key
from donations import services, tasks
from donations.models import Donation

pytestmark = pytest.mark.django_db

CONTACT = "aibek@example.kg"
migration = importlib.import_module("donations.migrations.0003_donor_contact_encrypted")


def donate(fundraiser, contact=CONTACT):
    return services.donation_record(
        fundraiser=fundraiser, amount="100.00", currency="KZT", received_at=timezone.now(),
        channel="card", by=fundraiser.organiser, donor_contact=contact,
    )  # fmt: skip


def raw_contact(donation) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT donor_contact FROM donations_donation WHERE id = %s", [donation.pk])
        return cursor.fetchone()[0]


def test_the_database_holds_no_readable_contact(fundraiser):
    donation = donate(fundraiser)
    stored = raw_contact(donation)
    assert CONTACT not in stored and "aibek" not in stored
    assert Fernet(django_settings.FIELD_ENCRYPTION_KEY).decrypt(stored.encode()) == CONTACT.encode()
    assert Donation.objects.get(pk=donation.pk).donor_contact == CONTACT
    assert Donation.objects.values_list("donor_contact", flat=True).get() == CONTACT


def test_the_receipt_still_reaches_the_contact(fundraiser, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        donation = donate(fundraiser)
    assert [message.to for message in mail.outbox] == [[CONTACT]]
    assert donation.receipt_code in mail.outbox[0].body


def test_no_contact_is_stored_empty(fundraiser):
    assert raw_contact(donate(fundraiser, contact="")) == ""


def test_a_wrong_key_is_an_error_not_garbage(fundraiser, settings):
    donation = donate(fundraiser)
    settings.FIELD_ENCRYPTION_KEY = Fernet.generate_key().decode()
    with pytest.raises(ImproperlyConfigured, match="wrong or missing key"):
        Donation.objects.get(pk=donation.pk)


def test_an_old_key_still_reads_after_a_new_one_is_put_first(fundraiser, settings):
    donation = donate(fundraiser)
    settings.FIELD_ENCRYPTION_KEY = (
        f"{Fernet.generate_key().decode()},{settings.FIELD_ENCRYPTION_KEY}"
    )
    assert Donation.objects.get(pk=donation.pk).donor_contact == CONTACT


def test_contacts_are_erased_after_the_set_number_of_days(fundraiser, settings):
    settings.DONOR_CONTACT_DAYS = 30
    old, recent = donate(fundraiser), donate(fundraiser, "+996 555 123 456")
    Donation.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=31))
    Donation.objects.filter(pk=recent.pk).update(created_at=timezone.now() - timedelta(days=29))
    assert tasks.donor_contacts_purge.delay().get() == 1
    assert raw_contact(old) == "" and Donation.objects.get(pk=old.pk).donor_contact == ""
    assert Donation.objects.get(pk=recent.pk).donor_contact == "+996 555 123 456"
    assert services.donor_contacts_purge() == 0  # nothing left to erase


def test_the_purge_runs_on_beat():
    scheduled = {entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
    assert "donations.tasks.donor_contacts_purge" in scheduled


def test_the_migration_encrypts_contacts_stored_in_plain_text(fundraiser):
    donation = donate(fundraiser)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE donations_donation SET donor_contact = %s WHERE id = %s", [CONTACT, donation.pk]
        )
    # What RunPython hands the function (a real schema editor cannot open inside a test's
    # transaction on SQLite).
    editor = SimpleNamespace(connection=connection, quote_name=connection.ops.quote_name)
    migration.encrypt_contacts(apps, editor)
    once = raw_contact(donation)
    migration.encrypt_contacts(apps, editor)  # run again: not encrypted twice
    assert CONTACT not in once and raw_contact(donation) == once
    assert Donation.objects.get(pk=donation.pk).donor_contact == CONTACT
    migration.decrypt_contacts(apps, editor)
    assert raw_contact(donation) == CONTACT


def test_production_without_a_key_fails_the_deploy_check_and_refuses_to_encrypt(settings):
    settings.FIELD_ENCRYPTION_KEY = ""
    assert [e.id for e in check_field_encryption_key(None)] == ["aidhub.E001"]
    settings.PRODUCTION = True
    with pytest.raises(ImproperlyConfigured, match="must be set in production"):
        crypto.encrypt(CONTACT)


def test_a_malformed_key_fails_the_check_without_echoing_it(settings):
    settings.FIELD_ENCRYPTION_KEY = "c2VjcmV0LXNlY3JldA"
    errors = check_field_encryption_key(None)
    assert [e.id for e in errors] == ["aidhub.E002"]
    assert "c2VjcmV0" not in errors[0].msg


def test_development_generates_a_private_key_file(settings, tmp_path):
    settings.FIELD_ENCRYPTION_KEY = ""
    settings.FIELD_ENCRYPTION_DEV_KEY_FILE = tmp_path / ".field-key"
    token = crypto.encrypt(CONTACT)
    assert (tmp_path / ".field-key").stat().st_mode & 0o777 == 0o600
    assert crypto.decrypt(token) == CONTACT
