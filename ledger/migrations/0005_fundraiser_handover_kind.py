"""The `fundraiser_handover` kind (a fundraiser handed to a new organiser), which needs a longer
kind column.

On SQLite a changed CHECK constraint rebuilds the table, which drops its triggers; the
append-only triggers are put back at once (as in 0003 and 0004).
"""

from django.db import migrations, models

from ledger.triggers import create_triggers, drop_triggers

KINDS = ("donation", "expense", "intake", "dispatch", "delivery", "transfer", "adjustment",
         "correction", "payment_details", "money_transfer", "fundraiser_handover")  # fmt: skip


def triggers_on(apps, schema_editor):
    create_triggers(schema_editor.connection)


def triggers_off(apps, schema_editor):
    drop_triggers(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0004_money_transfer_kind")]

    operations = [
        migrations.RunPython(triggers_off, triggers_on),
        migrations.RemoveConstraint(model_name="ledgerentry", name="ledger_entry_kind_known"),
        migrations.AlterField(
            model_name="ledgerentry",
            name="kind",
            field=models.CharField(choices=[(k, k) for k in KINDS], max_length=24),
        ),
        migrations.AddConstraint(
            model_name="ledgerentry",
            constraint=models.CheckConstraint(
                condition=models.Q(kind__in=KINDS), name="ledger_entry_kind_known"
            ),
        ),
        migrations.RunPython(triggers_on, triggers_off),
    ]
