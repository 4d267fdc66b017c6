import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("groups", "0001_initial"),
        ("hubs", "0004_translated_names_english"),
    ]

    operations = [
        # Nullable first: groups 0002 gives every existing hub a group, hubs 0006 requires one.
        migrations.AddField(
            model_name="hub",
            name="group",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="hubs",
                to="groups.group",
                verbose_name="group",
            ),
        ),
    ]
