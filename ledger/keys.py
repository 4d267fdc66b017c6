"""The checkpoint signer: origin and key name from settings, the private key from the
environment (LEDGER_SIGNING_KEY or LEDGER_SIGNING_KEY_FILE). In development a key is generated
once into an ignored file, so `make run` signs checkpoints with no set-up."""

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .note import generate_private_key_text, parse_private_key_text, verifier_key


@dataclass(frozen=True)
class Signer:
    origin: str
    name: str
    private_key: Ed25519PrivateKey

    @property
    def verifier_key(self) -> str:
        return verifier_key(self.name, self.private_key)


def _key_text() -> str:
    if settings.LEDGER_SIGNING_KEY:
        return settings.LEDGER_SIGNING_KEY
    if not settings.DEBUG:
        raise ImproperlyConfigured(
            "LEDGER_SIGNING_KEY (or LEDGER_SIGNING_KEY_FILE) must be set when DEBUG is off; "
            "make one with `manage.py ledger_keygen`."
        )
    path = Path(settings.LEDGER_DEV_KEY_FILE)
    if not path.exists():
        path.write_text(generate_private_key_text(settings.LEDGER_KEY_NAME) + "\n")
        path.chmod(0o600)
    return path.read_text()


@cache
def _signer(key_text: str, origin: str, name: str) -> Signer:
    try:
        key_name, private_key = parse_private_key_text(key_text)
    except ValueError as exc:
        raise ImproperlyConfigured(f"LEDGER_SIGNING_KEY: {exc}") from None
    if key_name != name:
        raise ImproperlyConfigured(
            f"LEDGER_SIGNING_KEY is for “{key_name}” but LEDGER_KEY_NAME is “{name}”."
        )
    return Signer(origin=origin, name=name, private_key=private_key)


def signer() -> Signer:
    return _signer(_key_text(), settings.LEDGER_ORIGIN, settings.LEDGER_KEY_NAME)
