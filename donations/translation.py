"""Which fundraiser texts are translated (django-modeltranslation).

Each field gets a column per language in settings.LANGUAGES (title_en, title_ru, …); reading
`title` gives the active language's text, or the English one when that is empty. English is
required: it is the canonical title the ledger signs (see Fundraiser.canonical_title).
"""

from django.conf import settings
from modeltranslation.translator import TranslationOptions, register

from .models import Fundraiser


@register(Fundraiser)
class FundraiserTranslation(TranslationOptions):
    fields = ("title", "story", "how_to_donate")
    required_languages = ("en",)


def translated_titles(language: str) -> dict[str, str]:
    """{slug: title in `language`} for the fundraisers translated into it (one query)."""
    if language not in {code for code, _label in settings.LANGUAGES}:
        return {}
    column = f"title_{language}"
    rows = Fundraiser.objects.rewrite(False).exclude(**{f"{column}__isnull": True})
    return dict(rows.exclude(**{column: ""}).values_list("slug", column))
