"""Signing side of checkpoints: C2SP signed notes with Ed25519 (https://c2sp.org/signed-note).

Keys use the text formats of Go's golang.org/x/mod/sumdb/note, so Go tools (and witnesses)
accept them as they are:

- verifier key, public: ``<name>+<key id, 8 hex>+<base64(0x01 || 32-byte public key)>``
- signer key, secret:   ``PRIVATE+KEY+<name>+<key id, 8 hex>+<base64(0x01 || 32-byte seed)>``

The signer key carries its name and key ID, so a key pasted into the wrong setting or cut
short is refused with a ValueError instead of producing notes nobody can verify.
"""

from __future__ import annotations

import base64
import re

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from ledger.verify import (
    ALG_ED25519,
    HASH_SIZE,
    b64decode_canonical,
    is_valid_key_name,
    key_id,
)

__all__ = [
    "checkpoint_body",
    "generate_private_key_text",
    "key_id",
    "load_private_key",
    "parse_private_key_text",
    "sign_note",
    "verifier_key",
]


def _check_name(name: str) -> None:
    if not is_valid_key_name(name):
        raise ValueError(f"key name {name!r} must be non-empty, without spaces or '+'")


def _public_bytes(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def verifier_key(name: str, private_key: Ed25519PrivateKey) -> str:
    """The public verifier key string to publish for `private_key` under `name`."""
    _check_name(name)
    public = _public_bytes(private_key)
    encoded = base64.b64encode(bytes([ALG_ED25519]) + public).decode()
    return f"{name}+{key_id(name, public).hex()}+{encoded}"


def sign_note(body: str, name: str, private_key: Ed25519PrivateKey) -> str:
    """Return `body`, a blank line, and the signature line `— <name> <base64(id || sig)>`."""
    _check_name(name)
    if not body.endswith("\n"):
        raise ValueError("a note body must end with a newline")
    if any(ch < " " and ch != "\n" for ch in body):
        raise ValueError("a note body must not contain control characters")
    kid = key_id(name, _public_bytes(private_key))
    signature = private_key.sign(body.encode("utf-8"))
    return f"{body}\n\u2014 {name} {base64.b64encode(kid + signature).decode()}\n"


def checkpoint_body(origin: str, size: int, root: bytes) -> str:
    """The C2SP tlog-checkpoint body: origin, decimal tree size, base64 root hash."""
    if not origin or "\n" in origin or any(ch < " " for ch in origin):
        raise ValueError("checkpoint origin must be one non-empty line")
    if type(size) is not int or size < 0:
        raise ValueError(f"tree size {size!r} must be a non-negative integer")
    if len(root) != HASH_SIZE:
        raise ValueError(f"root hash must be {HASH_SIZE} bytes, got {len(root)}")
    return f"{origin}\n{size}\n{base64.b64encode(root).decode()}\n"


def generate_private_key_text(name: str) -> str:
    """A new secret signer key for `name`, as ``PRIVATE+KEY+<name>+<id>+<base64>``."""
    _check_name(name)
    private_key = Ed25519PrivateKey.generate()
    seed = private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    kid = key_id(name, _public_bytes(private_key))
    encoded = base64.b64encode(bytes([ALG_ED25519]) + seed).decode()
    return f"PRIVATE+KEY+{name}+{kid.hex()}+{encoded}"


def parse_private_key_text(text: str) -> tuple[str, Ed25519PrivateKey]:
    """Parse a signer key string into (name, private key); ValueError says what is wrong.

    Surrounding white space (a newline from a file or an env var) is ignored. The error
    messages never include the key material.
    """
    parts = text.strip().split("+", 4)  # the base64 part may itself contain "+"
    if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
        raise ValueError("signer key must look like PRIVATE+KEY+<name>+<key id>+<base64>")
    name, id_hex, encoded = parts[2:]
    _check_name(name)
    if not re.fullmatch(r"[0-9a-fA-F]{8}", id_hex):
        raise ValueError("signer key ID is not 8 hex digits")
    try:
        raw = b64decode_canonical(encoded, "signer key")
    except ValueError:
        raise ValueError("signer key material is not valid base64") from None
    if len(raw) != 33 or raw[0] != ALG_ED25519:
        raise ValueError("signer key is not an Ed25519 key (0x01 followed by a 32-byte seed)")
    private_key = Ed25519PrivateKey.from_private_bytes(raw[1:])
    if key_id(name, _public_bytes(private_key)) != bytes.fromhex(id_hex):
        raise ValueError("signer key ID does not match its name and key (damaged key?)")
    return name, private_key


def load_private_key(text: str) -> Ed25519PrivateKey:
    """The private key of a signer key string (see `parse_private_key_text`)."""
    return parse_private_key_text(text)[1]
