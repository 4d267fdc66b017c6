import os
from pathlib import Path

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.core.exceptions import ImproperlyConfigured


@register(Tags.security, deploy=True)
def check_signing_key(app_configs, **kwargs):
    """Production must sign checkpoints with a key it was given, not a generated one."""
    if not settings.LEDGER_SIGNING_KEY:
        return [
            Error(
                "LEDGER_SIGNING_KEY is not set: checkpoints of the public ledger cannot be signed.",
                hint="Run `manage.py ledger_keygen`, keep the first line secret in "
                "LEDGER_SIGNING_KEY or LEDGER_SIGNING_KEY_FILE, publish the second.",
                id="ledger.E001",
            )
        ]
    from .keys import signer

    try:
        signer()
    except ImproperlyConfigured as exc:
        return [Error(str(exc), id="ledger.E002")]
    return []


@register()
def check_export_settings(app_configs, **kwargs):
    """The whole-ledger exports need a folder they can write (or create), and one fundraiser's
    export at least must be allowed at a time."""
    errors = []
    folder = Path(settings.LEDGER_EXPORT_ROOT)
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not (existing.is_dir() and os.access(existing, os.W_OK | os.X_OK)):
        errors.append(
            Error(
                f"LEDGER_EXPORT_ROOT ({folder}) cannot be written or created: the whole-ledger "
                "exports would answer 503.",
                hint="Point LEDGER_EXPORT_ROOT at a folder the web and worker processes can write.",
                id="ledger.E003",
            )
        )
    if settings.LEDGER_EXPORT_CONCURRENCY < 1:
        errors.append(
            Error(
                "LEDGER_EXPORT_CONCURRENCY must be at least 1: no fundraiser export could be made.",
                id="ledger.E004",
            )
        )
    return errors
