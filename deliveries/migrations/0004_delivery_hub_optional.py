import django.db.models.deletion
from django.db import migrations, models


def purchase_deliveries_leave_no_hub(apps, schema_editor):
    # A delivery that named a purchase never took goods out of its hub's stock (dispatch and
    # return skipped the stock for it): it came from the purchase, so it names no hub.
    Delivery = apps.get_model("deliveries", "Delivery")
    Delivery.objects.filter(expense__isnull=False, hub__isnull=False).update(hub=None)


class Migration(migrations.Migration):
    dependencies = [
        ("deliveries", "0003_idempotent_submission_moved_to_aidhub"),
        ("hubs", "0006_hub_group_required"),
    ]

    operations = [
        migrations.AlterField(
            model_name="delivery",
            name="hub",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="deliveries",
                to="hubs.hub",
                verbose_name="from hub",
            ),
        ),
        migrations.RunPython(purchase_deliveries_leave_no_hub, migrations.RunPython.noop),
    ]
