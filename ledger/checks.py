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
