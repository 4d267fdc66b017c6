"""Which group texts are translated (django-modeltranslation), as in hubs/translation.py:
a column per language, English required, an empty translation shows the English text."""

from modeltranslation.translator import TranslationOptions, register

from .models import Group


@register(Group)
class GroupTranslation(TranslationOptions):
    fields = ("name", "description")
    required_languages = ("en",)
