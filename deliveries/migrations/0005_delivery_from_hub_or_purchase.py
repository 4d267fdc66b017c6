from django.db import migrations, models


class Migration(migrations.Migration):
    # Apart from 0004: PostgreSQL cannot alter a table in the transaction that updated its rows.
    dependencies = [("deliveries", "0004_delivery_hub_optional")]

    operations = [
        migrations.AddConstraint(
            model_name="delivery",
            constraint=models.CheckConstraint(
                condition=models.Q(hub__isnull=False, expense__isnull=True)
                | models.Q(hub__isnull=True, expense__isnull=False),
                name="delivery_from_hub_or_purchase",
            ),
        ),
    ]
