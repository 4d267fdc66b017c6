"""Donors' contacts encrypted at rest: the column becomes text (a Fernet token is longer than
the contact) and every contact already stored is encrypted in place."""

from django.core.exceptions import ImproperlyConfigured
from django.db import migrations

import aidhub.crypto


def _rewrite(apps, schema_editor, change) -> None:
    # Raw SQL: the model's field would decrypt on read, and the old values are plain text.
    table = schema_editor.quote_name(apps.get_model("donations", "Donation")._meta.db_table)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"SELECT id, donor_contact FROM {table} WHERE donor_contact <> ''")  # noqa: S608
        for pk, value in cursor.fetchall():
            new = change(value)
            if new != value:
                cursor.execute(
                    f"UPDATE {table} SET donor_contact = %s WHERE id = %s",  # noqa: S608
                    [new, pk],
                )


def _is_token(value: str) -> bool:
    try:
        aidhub.crypto.decrypt(value)
    except ImproperlyConfigured:
        return False
    return True


def encrypt_contacts(apps, schema_editor) -> None:
    _rewrite(apps, schema_editor, lambda v: v if _is_token(v) else aidhub.crypto.encrypt(v))


def decrypt_contacts(apps, schema_editor) -> None:
    _rewrite(apps, schema_editor, lambda v: aidhub.crypto.decrypt(v) if _is_token(v) else v)


class Migration(migrations.Migration):
    dependencies = [
        ("donations", "0002_expense_receipt_original"),
    ]

    operations = [
        migrations.AlterField(
            model_name="donation",
            name="donor_contact",
            field=aidhub.crypto.EncryptedTextField(
                blank=True,
                help_text="Never published. Used only to send the donor their receipt code.",
                max_length=120,
                verbose_name="donor's contact (private)",
            ),
        ),
        migrations.RunPython(encrypt_contacts, decrypt_contacts),
    ]
