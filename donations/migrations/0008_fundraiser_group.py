import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("groups", "0001_initial"),
        ("donations", "0007_how_to_donate_help_points_to_ways_to_pay"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # Nullable first: groups 0002 gives every existing fundraiser a group, donations 0009
        # requires one.
        migrations.AddField(
            model_name="fundraiser",
            name="group",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="fundraisers",
                to="groups.group",
                verbose_name="group",
            ),
        ),
        migrations.AlterField(
            model_name="fundraiser",
            name="organiser",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="fundraisers",
                to=settings.AUTH_USER_MODEL,
                verbose_name="started by",
            ),
        ),
    ]
