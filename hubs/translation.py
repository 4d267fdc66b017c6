"""Which model texts are translated (django-modeltranslation).

Each field gets a column per language in settings.LANGUAGES (name_en, name_ru, …); reading
`name` gives the active language's text, or the English one when that is empty. English is
required: it is the canonical name (see hubs.models.CanonicalName).
"""

from django.conf import settings
from modeltranslation.translator import TranslationOptions, register

from .models import Hub, Item, Place


@register(Item)
class ItemTranslation(TranslationOptions):
    fields = ("name",)
    required_languages = ("en",)


@register(Hub)
class HubTranslation(TranslationOptions):
    fields = ("name", "address", "opening_hours")
    required_languages = ("en",)


@register(Place)
class PlaceTranslation(TranslationOptions):
    # Place names are proper nouns but change script: Isfana, Исфана.
    fields = ("name",)
    required_languages = ("en",)


def translated_names(model, language: str) -> dict[str, str]:
    """{slug: name in `language`} for the rows that have a translation into it (one query)."""
    column = f"name_{language}"
    if language not in {code for code, _label in settings.LANGUAGES}:
        return {}
    rows = model.objects.rewrite(False).exclude(**{f"{column}__isnull": True})
    return dict(rows.exclude(**{column: ""}).values_list("slug", column))
