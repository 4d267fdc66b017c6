import os

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured


@register(Tags.security, deploy=True)
def check_field_encryption_key(app_configs, **kwargs):
    """Production encrypts private fields (donors' contacts) with a key it was given, kept
    apart from the database and its backups, never with a generated file."""
    if not settings.FIELD_ENCRYPTION_KEY:
        return [
            Error(
                "FIELD_ENCRYPTION_KEY is not set: donors' contacts cannot be encrypted.",
                hint="Make one with `python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'` and keep it in FIELD_ENCRYPTION_KEY "
                "or FIELD_ENCRYPTION_KEY_FILE, apart from the database's backups.",
                id="aidhub.E001",
            )
        ]
    from .crypto import fernet

    try:
        fernet()
    except ImproperlyConfigured as exc:
        return [Error(str(exc), id="aidhub.E002")]
    return []


@register(Tags.security, deploy=True)
def check_trusted_proxies_stated(app_configs, **kwargs):
    """Production says how many proxies stand in front of gunicorn, even none. Left to its
    default of 0 behind nginx, every visitor counts as nginx's address: five wrong passwords
    from anyone lock that username for everyone, and one visitor spends everyone's limits.
    Read from the environment (where settings read it, `.env` included) because only there is
    "unset" distinguishable from an explicit 0."""
    if not settings.PRODUCTION or "AIDHUB_TRUSTED_PROXIES" in os.environ:
        return []
    return [
        Warning(
            "AIDHUB_TRUSTED_PROXIES is not set: behind a reverse proxy every visitor would be "
            "counted as the proxy, and anyone could lock any account.",
            hint="Set it to the number of proxies that append to X-Forwarded-For (nginx alone: "
            "1), or to 0 explicitly if gunicorn faces the internet itself.",
            id="aidhub.W001",
        )
    ]
