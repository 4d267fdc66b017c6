"""The whole-ledger exports as files, grown after each signed checkpoint and served like static
files (ETag, Last-Modified, one byte range), so a download costs the server a file read, not a
pass over every entry.

The files live in LEDGER_EXPORT_ROOT, a private folder on each web machine; they are derived
data that any machine rebuilds from the database. Each holds what `ledger.exports` would
generate for the entries of the latest checkpoint, without the format's tail (JSON's closing
bracket), which is served after the file's bytes: so the files only ever grow, and a download
in progress never sees a byte change under it.

state.json says how many entries the files hold (and the last one's hash, to know they are of
this database), how many bytes of each file belong to them, the format fingerprint of the code
that wrote them, and the last complete checkpoint in them, which is what is served: a build in
progress, or files of an empty or another ledger, are never served (503 + Retry-After). It is
replaced (write, fsync, rename) only after the bytes it counts are on disk, every
COMMIT_EVERY entries during a long build, so a killed build resumes where it was; an append
that crashed half-way leaves bytes past those counts, which the next append cuts off. Only one
process appends at a time (a lock file).

A web request writes at most REQUEST_ENTRIES entries (the catch-up after a checkpoint); more,
such as the first build of a large ledger, is left to the `exports_update` task (or
`manage.py ledger_exports`), and the request is answered 503 meanwhile.
"""

import fcntl
import hashlib
import json
import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils.cache import get_conditional_response
from django.utils.http import content_disposition_header, http_date, parse_http_date_safe
from django.utils.translation import gettext as _

from .exports import FORMATS, export_language, filename, fingerprint
from .models import Checkpoint, LedgerEntry

logger = logging.getLogger(__name__)

CHUNK = 64 * 1024
EMPTY_ROOT = hashlib.sha256(b"").hexdigest()  # RFC 9162: the root of the empty tree
# A request writes at most this many entries (gunicorn kills a request after 30 s; a cold
# build of 200,000 entries takes minutes): more is the task's work.
REQUEST_ENTRIES = 5000
COMMIT_EVERY = 5000  # entries between two saves of the state during a build
ENQUEUED_KEY = "ledger:exports-enqueued"  # one task asked for at a time, not one per request


@dataclass(frozen=True)
class Snapshot:
    """A complete export: the entries of one checkpoint, and each file's length for them."""

    size: int
    root: str  # the checkpoint's root hash, hex
    signed_at: float | None  # the checkpoint's time (a Unix timestamp); None before the first
    lengths: dict[str, int]
    fingerprint: str  # exports.fingerprint() of the code that wrote the bytes

    def etag(self, fmt: str) -> str:
        # The bytes follow from the entries (the root hash commits to every one), the format
        # and the code that wrote them.
        return f'"{self.fingerprint[:12]}-{fmt}-{self.size}-{self.root[:32]}"'


@dataclass(frozen=True)
class State:
    """What is on disk: maybe more entries than the last complete checkpoint (a build or an
    append under way)."""

    fingerprint: str
    size: int  # entries written
    last: str  # the leaf hash (hex) of entry size-1; "" when size is 0
    lengths: dict[str, int]  # bytes of each file that hold them
    good: Snapshot | None  # the last complete checkpoint in the files: what is served


class Deferred(Exception):
    """More entries to write than a request may: the task does it."""


def _root() -> Path:
    return Path(settings.LEDGER_EXPORT_ROOT)


def _path(fmt: str) -> Path:
    return _root() / f"ledger.{FORMATS[fmt].extension}"


def _state_path() -> Path:
    return _root() / "state.json"


def _lengths(raw: object) -> dict[str, int]:
    if not isinstance(raw, dict) or set(raw) != set(FORMATS):
        raise ValueError("the state does not count every format")
    return {fmt: int(raw[fmt]) for fmt in FORMATS}


def _read_state() -> State | None:
    """The state on disk; None when there is none or it cannot be read (the files are then
    written afresh)."""
    try:
        data = json.loads(_state_path().read_text())
        good = data["good"]
        if good is not None:
            good = Snapshot(**{**good, "lengths": _lengths(good["lengths"])})
        return State(
            fingerprint=str(data["fingerprint"]),
            size=int(data["size"]),
            last=str(data["last"]),
            lengths=_lengths(data["lengths"]),
            good=good,
        )
    except FileNotFoundError:
        return None
    except (OSError, KeyError, ValueError, TypeError, AttributeError) as exc:
        logger.warning("ledger export state unreadable (%s): the files will be rebuilt", exc)
        return None


def _write_state(state: State) -> State:
    temporary = _state_path().with_suffix(".tmp")
    with open(temporary, "w") as handle:
        json.dump(asdict(state), handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, _state_path())
    return state


def _latest() -> tuple[int, str, float | None]:
    latest = Checkpoint.objects.order_by("-size").values("size", "root_hash", "created_at")
    found = latest.first()
    if found is None:
        return 0, EMPTY_ROOT, None
    return found["size"], bytes(found["root_hash"]).hex(), found["created_at"].timestamp()


def _of_this_ledger(snapshot: Snapshot) -> bool:
    """A checkpoint of this database (not one since flushed or restored). The empty export is
    this ledger's only while it has no checkpoint: afterwards it is a build just begun."""
    if snapshot.size == 0:
        return snapshot.root == EMPTY_ROOT and not Checkpoint.objects.exists()
    return Checkpoint.objects.filter(
        size=snapshot.size, root_hash=bytes.fromhex(snapshot.root)
    ).exists()


def _intact(lengths: dict[str, int]) -> bool:
    """Every file is there and holds at least the bytes counted for it."""
    for fmt, length in lengths.items():
        try:
            if _path(fmt).stat().st_size < length:
                return False
        except OSError:
            return False
    return True


def _servable(snapshot: Snapshot | None, fingerprint: str) -> bool:
    return (
        snapshot is not None
        and snapshot.fingerprint == fingerprint
        and _of_this_ledger(snapshot)
        and _intact(snapshot.lengths)
    )


def _continuable(state: State, *, fingerprint: str, size: int) -> bool:
    """The files can be appended to: written by this code, from this database, all there."""
    if state.fingerprint != fingerprint or state.size > size or not _intact(state.lengths):
        return False
    if state.size == 0:
        return True
    try:
        last = bytes.fromhex(state.last)
    except ValueError:
        return False
    return LedgerEntry.objects.filter(index=state.size - 1, leaf_hash=last).exists()


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


def update(*, wait: bool = True, limit: int | None = None) -> Snapshot | None:
    """Append the entries signed since the files were last written; start them afresh when
    they are missing, short, unreadable, from another database or from other code. Returns
    the complete export the files now hold, or None when `wait` is False and another process
    is writing them. Raises Deferred, writing nothing, when more than `limit` entries are
    to be written."""
    with _lock(wait=wait) as locked:
        if not locked:
            return None
        size, root, signed_at = _latest()
        current_fingerprint = fingerprint()
        state = _read_state()
        if state is not None and not _continuable(
            state, fingerprint=current_fingerprint, size=size
        ):
            state = None
        if limit is not None and size - (state.size if state else 0) > limit:
            raise Deferred
        if state is None:
            state = _start(current_fingerprint)
        good = state.good
        if good is None or (good.size, good.root) != (size, root):
            state = _append(state, size=size, root=root, signed_at=signed_at)
        return state.good


def _start(current_fingerprint: str) -> State:
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
    # Not servable yet (good is None): only a complete checkpoint is.
    return _write_state(
        State(fingerprint=current_fingerprint, size=0, last="", lengths=lengths, good=None)
    )


def _save(handles: dict[str, BinaryIO], state: State, **changes: object) -> State:
    """Put the bytes written so far on disk, then the state that counts them."""
    lengths = {}
    for fmt, handle in handles.items():
        handle.flush()
        os.fsync(handle.fileno())
        lengths[fmt] = handle.tell()
    fields = {**asdict(state), "good": state.good, "lengths": lengths, **changes}
    return _write_state(State(**fields))


def _append(state: State, *, size: int, root: str, signed_at: float | None) -> State:
    handles = {fmt: open(_path(fmt), "r+b") for fmt in FORMATS}  # noqa: SIM115 - closed below
    try:
        for fmt, handle in handles.items():
            handle.truncate(state.lengths[fmt])  # what a crashed append left past the count
            handle.seek(0, os.SEEK_END)
        entries = (
            LedgerEntry.objects.filter(index__gte=state.size, index__lt=size)
            .order_by("index")
            .only("index", "leaf", "leaf_hash")
        )
        written, last, unsaved = state.size, state.last, 0
        with export_language():
            for entry in entries.iterator(chunk_size=2000):
                if entry.index != written:
                    raise RuntimeError(f"ledger entry {written} is missing")
                data = json.loads(bytes(entry.leaf))  # once for all the formats
                made: dict[object, bytes] = {}
                for fmt, handle in handles.items():
                    part = FORMATS[fmt].part
                    if part not in made:
                        made[part] = part(entry, data, entry.index).encode()
                    handle.write(made[part])
                written, last, unsaved = written + 1, bytes(entry.leaf_hash).hex(), unsaved + 1
                if unsaved >= COMMIT_EVERY:  # a build killed after this resumes from here
                    state = _save(handles, state, size=written, last=last)
                    unsaved = 0
        if written != size:
            raise RuntimeError(f"ledger entry {written} is missing")
        state = _save(handles, state, size=written, last=last)
    finally:
        for handle in handles.values():
            handle.close()
    good = Snapshot(
        size=size,
        root=root,
        signed_at=signed_at,
        lengths=state.lengths,
        fingerprint=state.fingerprint,
    )
    return _write_state(State(**{**asdict(state), "lengths": state.lengths, "good": good}))


def _enqueue() -> None:
    """Ask a worker for the build, once per ENQUEUED_KEY's life rather than once a request."""
    from .services import exports_enqueue

    if cache.add(ENQUEUED_KEY, True, timeout=30):
        exports_enqueue()


def current() -> Snapshot | None:
    """The complete export to serve: as of the latest checkpoint, brought up to it here when
    that is a few entries and no other process is at it; otherwise the last complete one the
    files hold while the task writes the rest; None when there is none (503)."""
    size, root, _signed_at = _latest()
    current_fingerprint = fingerprint()
    state = _read_state()
    good = state.good if state is not None else None
    latest = (size, root, current_fingerprint)
    # A file shorter than its count falls through: update() then starts them afresh.
    if (
        good is not None
        and (good.size, good.root, good.fingerprint) == latest
        and _intact(good.lengths)
    ):
        return good
    try:
        updated = update(wait=False, limit=REQUEST_ENTRIES)
    except Deferred:
        _enqueue()
    except OSError as exc:  # a full disk, a folder that cannot be written: serve what there is
        logger.error("ledger export files could not be written: %s", exc)
    else:
        if updated is not None:
            return updated
    state = _read_state()
    good = state.good if state is not None else None
    return good if _servable(good, current_fingerprint) else None


# ---- serving --------------------------------------------------------------------------------

RANGE = re.compile(r"bytes=(\d{0,19})-(\d{0,19})")


def _byte_range(
    request: HttpRequest, total: int, snapshot: Snapshot, fmt: str
) -> tuple[int, int] | None:
    """The one byte range asked for, as [start, stop); None to send everything. Several ranges
    or a malformed header are answered with everything, as RFC 9110 allows. Raises
    ValueError when the range lies past the end (416)."""
    header = request.META.get("HTTP_RANGE", "")
    match = RANGE.fullmatch(header.strip())
    if not match or not (match[1] or match[2]):
        return None
    if_range = request.META.get("HTTP_IF_RANGE", "").strip()
    if if_range and if_range != snapshot.etag(fmt):
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
    client's copy is current, 416 for a range past the end, 503 while no complete export of
    this ledger is on disk (the first files, or files rebuilt, being written)."""
    snapshot = current()
    if snapshot is None:
        return _not_ready()
    etag = snapshot.etag(fmt)
    try:
        handle = open(_path(fmt), "rb")  # noqa: SIM115 - closed by _bytes, or below
    except OSError:  # removed since current() looked: the next request rebuilds it
        return _not_ready()
    length = snapshot.lengths[fmt]
    if os.fstat(handle.fileno()).st_size < length:  # replaced since the state was read
        handle.close()
        return _not_ready()
    tail = FORMATS[fmt].tail.encode()
    total = length + len(tail)
    last_modified = int(snapshot.signed_at) if snapshot.signed_at is not None else None
    headers = {
        "ETag": etag,
        "Accept-Ranges": "bytes",
        "Cache-Control": "public, no-cache",  # revalidate: a new checkpoint grows the file
        "X-Ledger-Size": str(snapshot.size),
    }
    if last_modified is not None:
        headers["Last-Modified"] = http_date(last_modified)
    conditional = get_conditional_response(request, etag=etag, last_modified=last_modified)
    if conditional is not None:
        handle.close()
        for name, value in headers.items():
            conditional[name] = value
        return conditional
    try:
        wanted = _byte_range(request, total, snapshot, fmt)
    except ValueError:
        handle.close()
        refused = HttpResponse(status=416)
        refused["Content-Range"] = f"bytes */{total}"
        refused["ETag"] = etag
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
