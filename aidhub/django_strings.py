"""Strings of Django's own that its catalogues lack in our languages, listed so that
`makemessages` keeps them in ours (LOCALE_PATHS are read before Django's own catalogues).

Django 6.1's blank choice label is new and untranslated in ru, ky, kk, uz and tg.
"""

from django.utils.translation import gettext_noop

gettext_noop("- Select an option -")
