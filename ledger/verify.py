#!/usr/bin/env python3
"""Check an AidHub public ledger yourself.

This file is both the standalone verifier (run it; it needs only Python 3.10+ and the
``cryptography`` package) and the single source of the hash and proof primitives that the
AidHub server imports, so the server and every donor's copy agree byte for byte.

Usage::

    python verify.py https://aidhub.example --key 'aidhub.example+1a2b3c4d+AQ...'

What it checks, in order: the checkpoint's Ed25519 signature; that the new checkpoint extends
the one saved by the previous run (a consistency proof, and the old root recomputed from the
downloaded entries); every entry's index and leaf hash; that all entries together give the
signed root (naming the first bad entry if not); and the SHA-256 of every evidence file.
See docs/verify.md for the plain-words version and the HTTP endpoints.

Formats: Merkle tree as RFC 9162 section 2.1; signed note as https://c2sp.org/signed-note;
checkpoint as https://c2sp.org/tlog-checkpoint.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import os
import re
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "Checkpoint",
    "VerificationError",
    "b64decode_canonical",
    "consistency_path_ranges",
    "inclusion_path_ranges",
    "is_valid_key_name",
    "key_id",
    "leaf_hash",
    "main",
    "node_hash",
    "parse_checkpoint",
    "parse_verifier_key",
    "root_from_leaf_hashes",
    "verify_consistency",
    "verify_entries",
    "verify_inclusion",
    "verify_note",
]

_sha256 = hashlib.sha256

HASH_SIZE = 32
EMPTY_ROOT = _sha256(b"").digest()
"""MTH of the empty tree (RFC 9162 section 2.1.1)."""

ALG_ED25519 = 1
"""Signed-note signature type byte for Ed25519."""

USER_AGENT = "aidhub-verify/1 (python-urllib)"
_EM_DASH_PREFIX = "\u2014 "
_MAX_SIGNATURES = 100  # as Go's note.Open: bounds the work a hostile note can cause
_HEX64 = re.compile(r"[0-9a-f]{64}")
_DECIMAL = re.compile(r"0|[1-9][0-9]*")  # ASCII only; str.isdigit() would accept "١٢"


# --------------------------------------------------------------------------- Merkle tree


def leaf_hash(data: bytes) -> bytes:
    """SHA-256(0x00 || data): the hash of one ledger entry (RFC 9162 section 2.1.1)."""
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right): the hash of an interior node."""
    return _sha256(b"\x01" + left + right).digest()


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """MTH(D[n]) of RFC 9162 section 2.1.1, from the leaf hashes, in O(n) time.

    A stack holds the roots of the complete subtrees seen so far (one per set bit of the
    count); appending leaf i merges as many times as i has trailing one bits. At the end
    the stack is folded right-to-left, which is exactly MTH's split at the largest power
    of two below n.
    """
    sha = _sha256
    stack: list[bytes] = []
    push, pop = stack.append, stack.pop
    for count, h in enumerate(hashes, 1):
        while not count & 1:
            h = sha(b"\x01" + pop() + h).digest()
            count >>= 1
        push(h)
    if not stack:
        return EMPTY_ROOT
    root = pop()
    while stack:
        root = sha(b"\x01" + pop() + root).digest()
    return root


def _largest_power_of_two_below(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


def inclusion_path_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The leaf ranges [a, b) whose subtree hashes form PATH(index, D[size]), in proof order.

    RFC 9162 section 2.1.3.1, unrolled: the server uses this to know which hashes to send,
    the verifier to know which downloaded entries each proof hash covers.
    """
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is not in a tree of size {size}")
    out: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _largest_power_of_two_below(hi - lo)
        if index < lo + k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo += k
    out.reverse()  # collected top-down; the proof lists the deepest sibling first
    return out


def consistency_path_ranges(old: int, new: int) -> list[tuple[int, int]]:
    """The leaf ranges whose subtree hashes form PROOF(old, D[new]), in proof order.

    RFC 9162 section 2.1.4.1 (SUBPROOF), unrolled. Empty when old == 0 or old == new.
    """
    if not 0 <= old <= new:
        raise ValueError(f"no consistency proof from size {old} to size {new}")
    if old in (0, new):
        return []
    out: list[tuple[int, int]] = []
    lo, hi, m, whole = 0, new, old, True
    while m != hi - lo:
        k = _largest_power_of_two_below(hi - lo)
        if m <= k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo += k
            m -= k
            whole = False
    if not whole:
        out.append((lo, hi))
    out.reverse()
    return out


def _is_hash(value: object) -> bool:
    return isinstance(value, bytes) and len(value) == HASH_SIZE


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """True if `proof` shows the leaf with `leaf_hash` sits at `index` of the tree `root`.

    RFC 9162 section 2.1.3.2, step by step. Malformed input gives False, never an exception,
    because every argument may come from an untrusted server.
    """
    if not (_is_hash(leaf_hash) and _is_hash(root) and all(_is_hash(p) for p in proof)):
        return False
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """True if the tree `new_root` of `new_size` extends the tree `old_root` of `old_size`.

    RFC 9162 section 2.1.4.2. Two cases the RFC leaves open are decided here:
    equal sizes need an empty proof and equal roots; old size 0 (the empty tree, a prefix of
    every tree) is consistent with anything, with an empty proof, as transparency-dev does.
    """
    if not (_is_hash(old_root) and _is_hash(new_root) and all(_is_hash(p) for p in proof)):
        return False
    if not 0 <= old_size <= new_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: old tree is a node of the new one
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root


# --------------------------------------------------------------------------- signed notes


def is_valid_key_name(name: str) -> bool:
    """The signed-note rule for key names: non-empty, no Unicode white space, no "+"."""
    return bool(name) and "+" not in name and not any(ch.isspace() for ch in name)


def key_id(name: str, public_key_bytes: bytes) -> bytes:
    """The 4-byte signed-note key ID: SHA-256(name || 0x0A || 0x01 || public key)[:4]."""
    if len(public_key_bytes) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")
    material = name.encode() + b"\n" + bytes([ALG_ED25519]) + public_key_bytes
    return _sha256(material).digest()[:4]


def b64decode_canonical(text: str, what: str) -> bytes:
    """Decode standard padded base64, refusing anything else; `what` names it in errors."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise ValueError(f"{what} is not valid base64") from None
    # Reject non-canonical encodings (stray bits in the padding) so one value has one text.
    if base64.b64encode(raw).decode() != text:
        raise ValueError(f"{what} is not canonical base64")
    return raw


def parse_verifier_key(s: str) -> tuple[str, bytes, Ed25519PublicKey]:
    """Parse `<name>+<8 hex key id>+<base64(0x01 || public key)>` into (name, id, key).

    Raises ValueError, saying what is wrong, for anything else (including a key ID that
    does not match the name and key, which catches a mistyped or truncated key).
    """
    s = s.strip()
    parts = s.split("+", 2)  # the base64 part may itself contain "+"
    if len(parts) != 3:
        raise ValueError("verifier key must look like <name>+<key id>+<base64 key>")
    name, id_hex, key_b64 = parts
    if not is_valid_key_name(name):
        raise ValueError(f"verifier key name {name!r} is empty or contains spaces")
    if not re.fullmatch(r"[0-9a-fA-F]{8}", id_hex):
        raise ValueError(f"verifier key ID {id_hex!r} is not 8 hex digits")
    raw = b64decode_canonical(key_b64, "verifier key")
    if len(raw) != 33 or raw[0] != ALG_ED25519:
        raise ValueError("verifier key is not an Ed25519 key (0x01 followed by 32 bytes)")
    kid = bytes.fromhex(id_hex)
    if key_id(name, raw[1:]) != kid:
        raise ValueError("verifier key ID does not match its name and key (mistyped key?)")
    try:
        public_key = Ed25519PublicKey.from_public_bytes(raw[1:])
    except ValueError:
        raise ValueError("verifier key is not a valid Ed25519 public key") from None
    return name, kid, public_key


def verify_note(note_text: str | bytes, vkey_string: str) -> str:
    """Check a signed note against one verifier key and return its body (the signed text).

    The body is everything up to and including the newline before the last blank line; it
    must carry a signature line by the key's name and ID that verifies. Signatures by other
    keys are ignored, as the signed-note spec asks. Raises ValueError otherwise.
    """
    name, kid, public_key = parse_verifier_key(vkey_string)
    if isinstance(note_text, bytes):
        try:
            note_text = note_text.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError("note is not valid UTF-8") from None
    if any(ch < " " and ch != "\n" for ch in note_text):
        raise ValueError("note contains control characters")
    split = note_text.rfind("\n\n")
    if split < 0:
        raise ValueError("note has no blank line before its signatures")
    body, sig_block = note_text[: split + 1], note_text[split + 2 :]
    if not sig_block.endswith("\n"):
        raise ValueError("note does not end with a signature line and a newline")
    lines = sig_block[:-1].split("\n")
    if len(lines) > _MAX_SIGNATURES:
        raise ValueError("note has too many signature lines")
    body_bytes = body.encode("utf-8")
    found = False
    for line in lines:
        if not line.startswith(_EM_DASH_PREFIX):
            raise ValueError(f"malformed signature line {line[:40]!r}")
        sig_name, _, sig_b64 = line[len(_EM_DASH_PREFIX) :].partition(" ")
        if not is_valid_key_name(sig_name) or not sig_b64:
            raise ValueError(f"malformed signature line {line[:40]!r}")
        blob = b64decode_canonical(sig_b64, f"signature by {sig_name}")
        if len(blob) < 5:
            raise ValueError(f"signature by {sig_name} is too short")
        if sig_name != name or blob[:4] != kid:
            continue  # someone else's signature (a witness, say): not ours to judge
        try:
            public_key.verify(blob[4:], body_bytes)
        except InvalidSignature:
            raise ValueError(f"signature by {name}+{kid.hex()} does not verify") from None
        found = True
    if not found:
        raise ValueError(f"note carries no signature by {name}+{kid.hex()}")
    return body


@dataclass(frozen=True)
class Checkpoint:
    """A log's signed statement: the tree of `size` entries named `origin` has root `root`."""

    origin: str
    size: int
    root: bytes


def parse_checkpoint(body: str) -> Checkpoint:
    """Parse a checkpoint note body: origin, decimal size, base64 root, one per line.

    Lines after the third (extensions in the C2SP format) are ignored. ValueError otherwise.
    """
    if not body.endswith("\n"):
        raise ValueError("checkpoint does not end with a newline")
    lines = body[:-1].split("\n")
    if len(lines) < 3:
        raise ValueError("checkpoint needs three lines: origin, size, root hash")
    origin, size_text, root_text = lines[:3]
    if not origin:
        raise ValueError("checkpoint origin is empty")
    if not _DECIMAL.fullmatch(size_text) or len(size_text) > 19:
        raise ValueError(f"checkpoint tree size {size_text[:30]!r} is not a decimal number")
    root = b64decode_canonical(root_text, "checkpoint root hash")
    if len(root) != HASH_SIZE:
        raise ValueError("checkpoint root hash is not 32 bytes")
    return Checkpoint(origin=origin, size=int(size_text), root=root)


# --------------------------------------------------------------------------- entries


class VerificationError(Exception):
    """Entry `index` of the ledger is not what it must be; `message` says why."""

    def __init__(self, index: int, message: str) -> None:
        super().__init__(f"entry {index}: {message}")
        self.index = index
        self.message = message


def _why_bad_line(line: bytes, index: int) -> str:
    # Only called on failure, so it can afford a full parse to explain itself.
    try:
        obj = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return "not valid JSON"
    if not isinstance(obj, dict):
        return "not a JSON object"
    if obj.get("index") != index:
        return f"its index is {obj.get('index')!r}, expected {index}"
    return f'not canonical JSON starting with {{"index":{index},'


def _evidence_of(line: bytes, index: int) -> list[str]:
    try:
        obj = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise VerificationError(index, "not valid JSON") from None
    payload = obj.get("payload") if isinstance(obj, dict) else None
    if not isinstance(payload, dict) or "evidence" not in payload:
        return []  # "evidence" appeared somewhere else, e.g. nested deeper: not a commitment
    evidence = payload["evidence"]
    if not isinstance(evidence, list) or not all(
        isinstance(e, str) and _HEX64.fullmatch(e) for e in evidence
    ):
        raise VerificationError(index, "evidence is not a list of lowercase hex SHA-256 hashes")
    return evidence


def _check_strict(line: bytes, index: int) -> None:
    try:
        obj = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise VerificationError(index, "not valid JSON") from None
    if not isinstance(obj, dict) or type(obj.get("index")) is not int or obj["index"] != index:
        raise VerificationError(index, _why_bad_line(line, index))


def _verify_lines(
    lines: Iterable[bytes],
    start: int,
    hashes: list[bytes],
    evidence: dict[int, list[str]],
    strict: bool,
) -> int:
    """Check lines numbered from `start`, appending leaf hashes; return the next index."""
    sha = _sha256
    append = hashes.append
    index = start
    for line in lines:
        # Canonical JSON sorts keys, so "index" always comes first: a byte comparison is
        # enough and keeps the loop within a small factor of the hashing itself.
        if not (line.startswith(b'{"index":%d,' % index) and line.endswith(b"}")):
            raise VerificationError(index, _why_bad_line(line, index))
        if strict:
            _check_strict(line, index)
        if b'"evidence"' in line:
            found = _evidence_of(line, index)
            if found:
                evidence[index] = found
        append(sha(b"\x00" + line).digest())
        index += 1
    return index


def verify_entries(
    lines: Iterable[bytes], *, start: int = 0, strict: bool = False
) -> tuple[list[bytes], dict[int, list[str]]]:
    """Check ledger lines (without newlines) and return (leaf hashes, evidence by index).

    Each line must be a JSON object whose "index" is its position (counting from `start`).
    By default that is checked on the bytes only; `strict` also parses every line as JSON.
    Lines whose payload has "evidence" are parsed and must list lowercase hex SHA-256
    strings. Raises VerificationError naming the first bad entry.
    """
    hashes: list[bytes] = []
    evidence: dict[int, list[str]] = {}
    _verify_lines(lines, start, hashes, evidence, strict)
    return hashes, evidence


# --------------------------------------------------------------------------- command line


class _Failed(Exception):
    """Verification failed: the ledger or the server's answers are wrong."""


class _Trouble(Exception):
    """Could not verify: network, HTTP or local problem (exit code 2)."""


class _Client:
    def __init__(self, host: str, timeout: float) -> None:
        self.host = host
        self.timeout = timeout

    def get(self, path: str, params: dict[str, int] | None = None, limit: int = 0) -> bytes:
        url = self.host + path
        if params:
            url += "?" + urllib.parse.urlencode(params)
        # S310: _run() only lets http:// and https:// hosts through.
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                data = response.read(limit + 1) if limit else response.read()
        except urllib.error.HTTPError as exc:
            raise _Trouble(f"{url}: HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise _Trouble(f"{url}: {reason}") from None
        if limit and len(data) > limit:
            raise _Failed(f"{url}: answer is larger than {limit} bytes")
        return data

    def get_json(self, path: str, params: dict[str, int]) -> dict[str, object]:
        data = self.get(path, params, limit=1 << 20)
        try:
            obj = json.loads(data)
        except ValueError:
            raise _Failed(f"{path}: the server's answer is not JSON") from None
        if not isinstance(obj, dict):
            raise _Failed(f"{path}: the server's answer is not a JSON object")
        return obj

    def proof(self, path: str, params: dict[str, int]) -> list[bytes]:
        obj = self.get_json(path, params)
        for key, value in params.items():
            if obj.get(key) != value:
                raise _Failed(f"{path}: asked for {key}={value}, got {obj.get(key)!r}")
        hashes = obj.get("hashes")
        if not isinstance(hashes, list) or not all(isinstance(h, str) for h in hashes):
            raise _Failed(f"{path}: the answer has no list of base64 hashes")
        try:
            return [b64decode_canonical(h, "proof hash") for h in hashes]
        except ValueError as exc:
            raise _Failed(f"{path}: {exc}") from None


def _progress(quiet: bool, message: str) -> None:
    if not quiet:
        print(message, file=sys.stderr, flush=True)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def default_state_path(origin: str) -> Path:
    """Where the last verified checkpoint of the log `origin` is remembered."""
    safe = re.sub(r"[^A-Za-z0-9.-]+", "_", origin).strip("_.")[:120] or "log"
    return Path.home() / f".aidhub-verify-{safe}.json"


def _load_state(path: Path, origin: str) -> tuple[int, bytes] | None:
    if not path.exists():
        return None
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        size, root = state["size"], b64decode_canonical(state["root"], "saved root")
        saved_origin = state["origin"]
        if type(size) is not int or size < 0 or len(root) != HASH_SIZE:
            raise ValueError("bad size or root")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise _Trouble(
            f"cannot read state file {path}: {exc} (move it away to start over)"
        ) from None
    if saved_origin != origin:
        raise _Trouble(f"state file {path} is for log {saved_origin!r}, not {origin!r}")
    return size, root


def _save_state(path: Path, host: str, checkpoint: Checkpoint) -> None:
    state = {
        "origin": checkpoint.origin,
        "size": checkpoint.size,
        "root": _b64(checkpoint.root),
        "host": host,
        "verified_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write then rename, so an interrupted run never leaves half a state file behind.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(state, f, indent=2)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _download_entries(
    client: _Client, size: int, batch: int, strict: bool, quiet: bool
) -> tuple[list[bytes], dict[int, list[str]]]:
    hashes: list[bytes] = []
    evidence: dict[int, list[str]] = {}
    start = 0
    step = max(size // 10, batch)
    next_report = step
    while start < size:
        end = min(start + batch, size)
        data = client.get("/api/ledger/entries", {"start": start, "end": end})
        lines = data.split(b"\n")
        if lines[-1] == b"":
            lines.pop()  # the newline ending the last line
        if not lines:
            raise _Failed(f"the server returned no entries from {start} on, but the log has {size}")
        if len(lines) > end - start:
            raise _Failed(
                f"asked for entries {start} to {end - 1}, the server returned {len(lines)} lines"
            )
        try:
            start = _verify_lines(lines, start, hashes, evidence, strict)
        except VerificationError as exc:
            raise _Failed(str(exc)) from None
        if start >= next_report and start < size:
            _progress(quiet, f"checked {start} of {size} entries")
            next_report += step
    return hashes, evidence


def _find_first_bad_entry(
    client: _Client, hashes: list[bytes], size: int, root: bytes
) -> int | None:
    """The first entry whose downloaded leaf hash fails its inclusion proof, or None.

    Descends the tree with one inclusion proof per level: a proof for the first leaf of a
    subtree that verifies also proves the hashes of the sibling subtrees to its right; the
    leftmost of those that differs from our recomputation holds the first bad entry.
    """
    lo, hi = 0, size
    for _ in range(size.bit_length() + 1 if size else 0):
        proof = client.proof("/api/ledger/proof/inclusion", {"index": lo, "size": size})
        if not verify_inclusion(hashes[lo], lo, size, proof, root):
            return lo
        for (a, b), proven in zip(inclusion_path_ranges(lo, size), proof, strict=True):
            if lo < a < hi and root_from_leaf_hashes(hashes[a:b]) != proven:
                lo, hi = a, b
                break
        else:
            return None  # every subtree matches: the server contradicts its own root
    return None


def _check_evidence(client: _Client, evidence: dict[int, list[str]], quiet: bool) -> int:
    first_entry: dict[str, int] = {}
    for index in sorted(evidence):
        for digest in evidence[index]:
            first_entry.setdefault(digest, index)
    _progress(quiet, f"checking {len(first_entry)} evidence files")
    for digest, index in first_entry.items():
        url = f"{client.host}/ledger/evidence/{digest}"
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})  # noqa: S310
        h = _sha256()
        try:
            with urllib.request.urlopen(request, timeout=client.timeout) as response:  # noqa: S310
                while chunk := response.read(1 << 20):
                    h.update(chunk)
        except urllib.error.HTTPError as exc:
            if exc.code in (404, 410):
                raise _Failed(
                    f"evidence {digest} of entry {index}: not available (HTTP {exc.code})"
                ) from None
            raise _Trouble(f"{url}: HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise _Trouble(f"{url}: {getattr(exc, 'reason', exc)}") from None
        if h.hexdigest() != digest:
            raise _Failed(f"evidence {digest} of entry {index}: hash mismatch, got {h.hexdigest()}")
    return len(first_entry)


def _run(args: argparse.Namespace) -> str:
    try:
        key_name = parse_verifier_key(args.key)[0]
    except ValueError as exc:
        raise _Trouble(f"--key: {exc}") from None
    host = args.host.rstrip("/")
    if urllib.parse.urlsplit(host).scheme not in ("http", "https"):
        raise _Trouble(f"{args.host!r} is not an http:// or https:// address")
    client = _Client(host, args.timeout)

    _progress(args.quiet, f"fetching the checkpoint from {host}")
    note = client.get("/api/ledger/checkpoint", limit=1 << 16)
    try:
        checkpoint = parse_checkpoint(verify_note(note, args.key))
    except ValueError as exc:
        raise _Failed(f"signature or checkpoint: {exc}") from None
    size, root = checkpoint.size, checkpoint.root

    state_path = Path(args.state).expanduser() if args.state else None
    state_path = state_path or default_state_path(checkpoint.origin)
    saved = _load_state(state_path, checkpoint.origin)
    if saved:
        old_size, old_root = saved
        if size < old_size:
            raise _Failed(
                f"the log shrank: it has {size} entries, but had {old_size} when last checked"
            )
        proof: list[bytes] = []
        if 0 < old_size < size:
            params = {"old": old_size, "new": size}
            proof = client.proof("/api/ledger/proof/consistency", params)
        if not verify_consistency(old_size, size, old_root, root, proof):
            raise _Failed(
                f"the checkpoint of size {size} does not extend the one of size {old_size} "
                "seen before: history was rewritten"
            )

    _progress(args.quiet, f"downloading {size} entries")
    hashes, evidence = _download_entries(client, size, args.batch, args.strict, args.quiet)
    computed = root_from_leaf_hashes(hashes)
    if computed != root:
        mismatch = f"root mismatch: checkpoint says {_b64(root)}, entries give {_b64(computed)}"
        _progress(args.quiet, "root mismatch; looking for the first entry that differs")
        try:
            bad = _find_first_bad_entry(client, hashes, size, root)
        except (_Trouble, _Failed) as exc:
            raise _Failed(f"{mismatch} (could not name the entry: {exc})") from None
        if bad is None:
            raise _Failed(f"{mismatch} (the server's inclusion proofs name no entry)")
        raise _Failed(
            f"entry {bad}: leaf hash does not match the signed checkpoint "
            f"(its inclusion proof fails); {mismatch}"
        )
    if saved and root_from_leaf_hashes(hashes[: saved[0]]) != saved[1]:
        raise _Failed(
            f"the first {saved[0]} entries no longer give the root seen before: "
            "history was rewritten"
        )

    evidence_note = ""
    if not args.skip_evidence:
        checked = _check_evidence(client, evidence, args.quiet)
        evidence_note = f"; {checked} evidence file{'s match' if checked != 1 else ' matches'}"
    _save_state(state_path, host, checkpoint)

    verdict = f"OK: {size} entries, root {_b64(root)}, signed by {key_name}{evidence_note}"
    if saved:
        return f"{verdict}; consistent with the checkpoint of size {saved[0]} seen before"
    return f"{verdict}; first check of this log, state saved to {state_path}"


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Run the verifier; exit code 0 if the ledger checks out, 1 if not, 2 if it cannot tell."""
    parser = argparse.ArgumentParser(
        prog="verify.py",
        description="Verify an AidHub public ledger: signature, every entry, the root, "
        "evidence files, and that history was not rewritten since the last run.",
    )
    parser.add_argument("host", help="the AidHub site, e.g. https://aidhub.example")
    parser.add_argument("--key", required=True, help="the log's verifier key (name+id+key)")
    parser.add_argument("--state", help="state file (default ~/.aidhub-verify-<origin>.json)")
    parser.add_argument("--batch", type=_positive, default=10000, help="entries per request")
    parser.add_argument("--skip-evidence", action="store_true", help="do not fetch evidence")
    parser.add_argument("--strict", action="store_true", help="parse every entry as JSON")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per request")
    parser.add_argument("--quiet", action="store_true", help="no progress messages")
    args = parser.parse_args(argv)
    try:
        print(_run(args))
    except _Failed as exc:
        print(f"FAILED: {exc}")
        return 1
    except _Trouble as exc:
        print(f"ERROR: could not verify: {exc}")
        return 2
    except KeyboardInterrupt:
        print("ERROR: interrupted")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
