import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("groups", "0002_default_group"),
        ("hubs", "0005_hub_group"),
    ]

    operations = [
        migrations.AlterField(
            model_name="hub",
            name="group",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="hubs",
                to="groups.group",
                verbose_name="group",
            ),
        ),
    ]
