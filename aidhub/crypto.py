"""Private values encrypted at rest: a model field that stores a Fernet token and reads back the
plain text, so code keeps using `donation.donor_contact` as a string.

The key comes from FIELD_ENCRYPTION_KEY (or FIELD_ENCRYPTION_KEY_FILE): one or more Fernet keys
separated by commas; the first encrypts, all decrypt (rotate by putting a new key first, then
re-saving). Production must set it (`check --deploy` says so); in development one is generated
into FIELD_ENCRYPTION_DEV_KEY_FILE. A database dump or a backup then holds no readable contact.
"""

from functools import cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


def _key_text() -> str:
    if settings.FIELD_ENCRYPTION_KEY:
        return settings.FIELD_ENCRYPTION_KEY
    if settings.PRODUCTION:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY (or FIELD_ENCRYPTION_KEY_FILE) must be set in production."
        )
    path = Path(settings.FIELD_ENCRYPTION_DEV_KEY_FILE)
    if not path.exists():
        path.write_text(Fernet.generate_key().decode() + "\n")
        path.chmod(0o600)
    return path.read_text()


@cache
def _fernet(key_text: str) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.strip()) for key in key_text.split(",") if key.strip()])
    except ValueError as exc:  # not 32 url-safe base64-encoded bytes, or no key at all
        raise ImproperlyConfigured(f"FIELD_ENCRYPTION_KEY: {exc}") from None


def fernet() -> MultiFernet:
    return _fernet(_key_text())


def encrypt(text: str) -> str:
    return fernet().encrypt(text.encode()).decode("ascii")


def decrypt(token: str) -> str:
    """The plain text; a value no key opens is an error, never shown as if it were text."""
    try:
        return fernet().decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeEncodeError) as exc:
        raise ImproperlyConfigured(
            "An encrypted field cannot be read with FIELD_ENCRYPTION_KEY: wrong or missing key."
        ) from exc


class EncryptedTextField(models.TextField):
    """Text stored as a Fernet token (random IV: equal values do not look equal, so the column
    can only be filtered on being empty). An empty value is stored empty."""

    def from_db_value(self, value, expression, connection):
        return decrypt(value) if value else value

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return encrypt(value) if value else value
