import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("groups", "0002_default_group"),
        ("donations", "0008_fundraiser_group"),
    ]

    operations = [
        migrations.AlterField(
            model_name="fundraiser",
            name="group",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="fundraisers",
                to="groups.group",
                verbose_name="group",
            ),
        ),
    ]
