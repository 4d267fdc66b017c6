"""Reads for the notifications app."""

from collections.abc import Iterable

from django.conf import settings

from .models import UserLanguage


def languages_of(user_ids: Iterable[int], *, default: str = "") -> dict[int, str]:
    """{user id: the language they read AidHub in}; `default`, else the site's default, for a
    user who never chose one. One query, however many users."""
    ids = list(user_ids)
    known = dict(UserLanguage.objects.filter(user_id__in=ids).values_list("user_id", "language"))
    return {pk: known.get(pk) or default or settings.LANGUAGE_CODE for pk in ids}
