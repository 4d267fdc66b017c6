from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("donations", "0009_fundraiser_group_required"),
    ]

    operations = [
        migrations.AddField(
            model_name="paymentmethod",
            name="qr_checked",
            field=models.BooleanField(
                default=False, verbose_name="QR code checked against the details"
            ),
        ),
    ]
