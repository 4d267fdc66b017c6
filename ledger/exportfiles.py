"""The whole-ledger exports as files, grown after each signed checkpoint and served like static
files (ETag, Last-Modified, one byte range), so a download costs the server a file read, not a
pass over every entry.

The files live in LEDGER_EXPORT_ROOT, a private folder on each web machine; they are derived
data that any machine rebuilds from the database. Each holds what `ledger.exports` would
generate for the entries of the latest checkpoint, without the format's tail (JSON's closing
bracket), which is served after the file's bytes: so the files only ever grow, and a download
in progress never sees a byte change under it.

state.json says how many entries the files hold, which checkpoint that is, and how many bytes
of each file belong to it. It is replaced (write, fsync, rename) only after the bytes it
counts are on disk; an append that crashed half-way leaves bytes past those counts, which
the next append cuts off. Only one process appends at a time (a lock file).
"""

import fcntl
import hashlib
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils.cache import get_conditional_response
from django.utils.http import content_disposition_header, http_date, parse_http_date_safe
from django.utils.translation import gettext as _

from .exports import FORMATS, export_language, filename
from .models import Checkpoint, LedgerEntry

CHUNK = 64 * 1024
EMPTY_ROOT = hashlib.sha256(b"").hexdigest()  # RFC 9162: the root of the empty tree


@dataclass(frozen=True)
class Snapshot:
    """What the files hold: the entries of one checkpoint, and each file's length for them."""

    size: int
    root: str  # the checkpoint's root hash, hex
    signed_at: float | None  # the checkpoint's time (a Unix timestamp); None before the first
    lengths: dict[str, int]

    @property
    def etag(self) -> str:
        # The bytes follow from the entries, and the root hash commits to every entry.
        return f'"{self.size}-{self.root[:32]}"'


def _root() -> Path:
    return Path(settings.LEDGER_EXPORT_ROOT)


def _path(fmt: str) -> Path:
    return _root() / f"ledger.{FORMATS[fmt].extension}"


def _state_path() -> Path:
    return _root() / "state.json"


def _read_state() -> Snapshot | None:
    try:
        data = json.loads(_state_path().read_text())
        return Snapshot(**data)
    except (OSError, ValueError, TypeError):
        return None


def _write_state(snapshot: Snapshot) -> None:
    temporary = _state_path().with_suffix(".tmp")
    with open(temporary, "w") as handle:
        json.dump(asdict(snapshot), handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, _state_path())


def _latest() -> tuple[int, str, float | None]:
    latest = Checkpoint.objects.order_by("-size").values("size", "root_hash", "created_at")
    found = latest.first()
    if found is None:
        return 0, EMPTY_ROOT, None
    return found["size"], bytes(found["root_hash"]).hex(), found["created_at"].timestamp()


def _of_this_ledger(snapshot: Snapshot) -> bool:
    """The files were written from this database (not one since flushed or restored)."""
    if snapshot.size == 0:
        return True
    return Checkpoint.objects.filter(
        size=snapshot.size, root_hash=bytes.fromhex(snapshot.root)
    ).exists()


@contextmanager
def _lock(*, wait: bool) -> Iterator[bool]:
    _root().mkdir(parents=True, exist_ok=True)
    with open(_root() / ".lock", "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def update(*, wait: bool = True) -> Snapshot | None:
    """Append the entries signed since the files were last written; start them afresh when
    they are missing or from another database. Returns what the files now hold, or None when
    `wait` is False and another process is writing them."""
    with _lock(wait=wait) as locked:
        if not locked:
            return None
        size, root, signed_at = _latest()
        snapshot = _read_state()
        if snapshot is not None and not _of_this_ledger(snapshot):
            snapshot = None
        if snapshot is None:
            snapshot = _start()
        if snapshot.size < size:
            snapshot = _append(snapshot, size=size, root=root, signed_at=signed_at)
        return snapshot


def _start() -> Snapshot:
    # Unlink, not truncate: a download still reading an old file keeps its bytes.
    _state_path().unlink(missing_ok=True)
    lengths = {}
    for fmt, form in FORMATS.items():
        _path(fmt).unlink(missing_ok=True)
        head = form.head.encode()
        with open(_path(fmt), "wb") as handle:
            handle.write(head)
            handle.flush()
            os.fsync(handle.fileno())
        lengths[fmt] = len(head)
    snapshot = Snapshot(size=0, root=EMPTY_ROOT, signed_at=None, lengths=lengths)
    _write_state(snapshot)
    return snapshot


def _append(snapshot: Snapshot, *, size: int, root: str, signed_at: float | None) -> Snapshot:
    handles = {fmt: open(_path(fmt), "r+b") for fmt in FORMATS}  # noqa: SIM115 - closed below
    try:
        for fmt, handle in handles.items():
            handle.truncate(snapshot.lengths[fmt])  # what a crashed append left past the count
            handle.seek(0, os.SEEK_END)
        entries = (
            LedgerEntry.objects.filter(index__gte=snapshot.size, index__lt=size)
            .order_by("index")
            .only("index", "leaf", "leaf_hash")
        )
        with export_language():
            for entry in entries.iterator(chunk_size=2000):
                for fmt, handle in handles.items():
                    handle.write(FORMATS[fmt].part(entry, entry.index).encode())
        lengths = {}
        for fmt, handle in handles.items():
            handle.flush()
            os.fsync(handle.fileno())
            lengths[fmt] = handle.tell()
    finally:
        for handle in handles.values():
            handle.close()
    grown = Snapshot(size=size, root=root, signed_at=signed_at, lengths=lengths)
    _write_state(grown)
    return grown


def current() -> Snapshot | None:
    """The files as of the latest checkpoint, brought up to it here when they lag and no other
    process is at it (a fresh install, or a web machine whose files the worker cannot reach).
    While another process writes them, the older files are served; None if there are none."""
    size, root, _signed_at = _latest()
    snapshot = _read_state()
    if snapshot is not None and (snapshot.size, snapshot.root) == (size, root):
        return snapshot
    updated = update(wait=False)
    if updated is not None:
        return updated
    if snapshot is not None and _of_this_ledger(snapshot):
        return snapshot
    return None


# ---- serving --------------------------------------------------------------------------------

RANGE = re.compile(r"bytes=(\d{0,19})-(\d{0,19})")


def _byte_range(request: HttpRequest, total: int, snapshot: Snapshot) -> tuple[int, int] | None:
    """The one byte range asked for, as [start, stop); None to send everything. Several ranges
    or a malformed header are answered with everything, as RFC 9110 allows. Raises
    ValueError when the range lies past the end (416)."""
    header = request.META.get("HTTP_RANGE", "")
    match = RANGE.fullmatch(header.strip())
    if not match or not (match[1] or match[2]):
        return None
    if_range = request.META.get("HTTP_IF_RANGE", "").strip()
    if if_range and if_range != snapshot.etag:
        moment = parse_http_date_safe(if_range)
        if moment is None or snapshot.signed_at is None or moment != int(snapshot.signed_at):
            return None  # the client's copy is of another version: it needs all of this one
    if match[1]:
        start = int(match[1])
        if match[2] and int(match[2]) < start:
            return None  # "bytes=9-3" is not a valid range: ignored
        if start >= total:
            raise ValueError("range not satisfiable")
        stop = int(match[2]) + 1 if match[2] else total
        return start, min(stop, total)
    suffix = int(match[2])
    if suffix == 0 or total == 0:
        raise ValueError("range not satisfiable")
    return max(0, total - suffix), total


def _bytes(handle: BinaryIO, length: int, tail: bytes, start: int, stop: int) -> Iterator[bytes]:
    """Bytes [start, stop) of the file's first `length` bytes followed by `tail`."""
    try:
        handle.seek(start)
        position = start
        while position < min(stop, length):
            chunk = handle.read(min(CHUNK, min(stop, length) - position))
            if not chunk:
                raise OSError("the export file is shorter than its state says")
            position += len(chunk)
            yield chunk
        if stop > length:
            yield tail[max(0, start - length) : stop - length]
    finally:
        handle.close()


def _not_ready() -> HttpResponse:
    response = HttpResponse(
        _("The ledger export is being prepared. Please try again in a few seconds."),
        status=503,
        content_type="text/plain; charset=utf-8",
    )
    response["Retry-After"] = "5"
    return response


def response(request: HttpRequest, fmt: str) -> HttpResponse:
    """The whole ledger in `fmt`, from its file: 200, 206 for a byte range, 304 when the
    client's copy is current, 416 for a range past the end, 503 while the first files are
    being written by another process."""
    snapshot = current()
    if snapshot is None:
        return _not_ready()
    try:
        handle = open(_path(fmt), "rb")  # noqa: SIM115 - closed by _bytes, or below
    except FileNotFoundError:
        return _not_ready()
    length = snapshot.lengths[fmt]
    if os.fstat(handle.fileno()).st_size < length:  # replaced since the state was read
        handle.close()
        return _not_ready()
    tail = FORMATS[fmt].tail.encode()
    total = length + len(tail)
    last_modified = int(snapshot.signed_at) if snapshot.signed_at is not None else None
    headers = {
        "ETag": snapshot.etag,
        "Accept-Ranges": "bytes",
        "Cache-Control": "public, no-cache",  # revalidate: a new checkpoint grows the file
        "X-Ledger-Size": str(snapshot.size),
    }
    if last_modified is not None:
        headers["Last-Modified"] = http_date(last_modified)
    conditional = get_conditional_response(request, etag=snapshot.etag, last_modified=last_modified)
    if conditional is not None:
        handle.close()
        for name, value in headers.items():
            conditional[name] = value
        return conditional
    try:
        wanted = _byte_range(request, total, snapshot)
    except ValueError:
        handle.close()
        refused = HttpResponse(status=416)
        refused["Content-Range"] = f"bytes */{total}"
        refused["ETag"] = snapshot.etag
        return refused
    start, stop = wanted or (0, total)
    result = StreamingHttpResponse(
        _bytes(handle, length, tail, start, stop),
        status=206 if wanted else 200,
        content_type=FORMATS[fmt].content_type,
    )
    for name, value in headers.items():
        result[name] = value
    result["Content-Length"] = str(stop - start)
    if wanted:
        result["Content-Range"] = f"bytes {start}-{stop - 1}/{total}"
    result["Content-Disposition"] = content_disposition_header(True, filename(fmt))
    result._resource_closers.append(handle.close)  # also when the body was never read
    return result
