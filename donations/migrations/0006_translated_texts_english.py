# The English columns are filled from the original ones, which held English until now. Apart
# from 0005: on PostgreSQL a migration cannot alter a table after updating its rows.

from django.db import migrations, models

TRANSLATED = ["title", "story", "how_to_donate"]


def english_from_original(apps, schema_editor):
    fundraiser = apps.get_model("donations", "Fundraiser")
    for field in TRANSLATED:
        fundraiser.objects.filter(**{f"{field}_en__isnull": True}).update(
            **{f"{field}_en": models.F(field)}
        )


def original_from_english(apps, schema_editor):
    fundraiser = apps.get_model("donations", "Fundraiser")
    for field in TRANSLATED:
        fundraiser.objects.exclude(**{f"{field}_en__isnull": True}).exclude(
            **{f"{field}_en": ""}
        ).update(**{field: models.F(f"{field}_en")})


class Migration(migrations.Migration):
    dependencies = [
        ("donations", "0005_translated_texts"),
    ]

    operations = [
        migrations.RunPython(english_from_original, original_from_english),
    ]
