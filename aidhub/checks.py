from django.conf import settings
from django.core.checks import Error, Tags, register
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
