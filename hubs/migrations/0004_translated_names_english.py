# The English columns are filled from the original ones, which held English until now. Apart
# from 0003: on PostgreSQL a migration cannot alter a table after updating its rows.

from django.db import migrations, models

TRANSLATED = {"item": ["name"], "hub": ["name", "address", "opening_hours"], "place": ["name"]}


def english_from_original(apps, schema_editor):
    for model_name, fields in TRANSLATED.items():
        model = apps.get_model("hubs", model_name)
        for field in fields:
            model.objects.filter(**{f"{field}_en__isnull": True}).update(
                **{f"{field}_en": models.F(field)}
            )


def original_from_english(apps, schema_editor):
    for model_name, fields in TRANSLATED.items():
        model = apps.get_model("hubs", model_name)
        for field in fields:
            model.objects.exclude(**{f"{field}_en__isnull": True}).exclude(
                **{f"{field}_en": ""}
            ).update(**{field: models.F(f"{field}_en")})
        if model_name == "item":
            # The hand-made columns were NOT NULL.
            for language in ("ru", "ky", "kk", "uz", "tg"):
                model.objects.filter(**{f"name_{language}__isnull": True}).update(
                    **{f"name_{language}": ""}
                )



class Migration(migrations.Migration):
    dependencies = [
        ("hubs", "0003_translated_names"),
    ]

    operations = [
        migrations.RunPython(english_from_original, original_from_english),
    ]
