"""The `money_transfer` kind: money one group's fundraiser passed to another group's, once the
receiving group accepted it.

On SQLite a changed CHECK constraint rebuilds the table, which drops its triggers; the
append-only triggers are put back at once (as in 0003).
"""

from django.db import migrations, models

from ledger.triggers import create_triggers, drop_triggers

KINDS = ("donation", "expense", "intake", "dispatch", "delivery", "transfer", "adjustment",
         "correction", "payment_details", "money_transfer")  # fmt: skip


def triggers_on(apps, schema_editor):
    create_triggers(schema_editor.connection)


def triggers_off(apps, schema_editor):
    drop_triggers(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0003_payment_details_kind")]

    operations = [
        migrations.RunPython(triggers_off, triggers_on),
        migrations.RemoveConstraint(model_name="ledgerentry", name="ledger_entry_kind_known"),
        migrations.AlterField(
            model_name="ledgerentry",
            name="kind",
            field=models.CharField(choices=[(k, k) for k in KINDS], max_length=16),
        ),
        migrations.AddConstraint(
            model_name="ledgerentry",
            constraint=models.CheckConstraint(
                condition=models.Q(kind__in=KINDS), name="ledger_entry_kind_known"
            ),
        ),
        migrations.RunPython(triggers_on, triggers_off),
    ]
