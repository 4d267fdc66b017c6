"""Bulk exports of the public ledger (CSV, JSON, HXL-tagged CSV): what a row says, and the
per-fundraiser exports generated on demand.

HXL (the Humanitarian Exchange Language, hxlstandard.org) puts a row of hashtags under the
header so that humanitarian tools can read the columns without a mapping.

Every export is `head`, then one `part` per entry, then `tail`. The whole-ledger files
(ledger.exportfiles) are written from these same pieces, so a file and a generated export of
the same entries are the same bytes.
"""

import csv
import hashlib
import io
import json
import re
import secrets
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from aidhub.ratelimits import client_address, exceeded

from .models import LedgerEntry, LedgerRef
from .presentation import UNIT_LABELS, items_text
from .schemas import REF

COLUMNS = [
    ("index", "#meta+id"),
    ("time", "#date"),
    ("kind", "#activity+kind"),
    ("direction", "#meta+direction"),
    ("amount", "#value"),
    ("currency", "#currency"),
    ("converted_amount", "#value+converted"),
    ("converted_currency", "#currency+converted"),
    ("fundraiser", "#org+name"),
    ("hub", "#loc+hub+name"),
    ("place", "#loc+name"),
    ("region", "#adm1+name"),
    ("district", "#adm2+name"),
    ("sector", "#sector"),
    ("items", "#item+name"),
    ("reached", "#reached"),
    ("reverses", "#meta+reverses"),
    ("evidence", "#meta+evidence"),
    ("leaf_hash", "#meta+hash"),
]

# A spreadsheet runs a cell that starts with one of these as a formula (OWASP, "CSV
# Injection"); the full-width and small forms, and the minus sign, are folded to them by some
# spreadsheets and input methods.
FORMULA_STARTS = tuple("=+-@＝＋－＠\u2212\ufe62\ufe63\ufe66")
# Where a spreadsheet may start a cell: Excel splits a row on ";" in locales whose decimal mark
# is a comma (ru, kk, ky), pasted text and imports on TAB; lines on CR and LF. Quoting does not
# help there: a quote opens a quoted cell only at the start of a cell as that reader sees it.
SEPARATORS = re.compile(r"([,;\t\r\n])")
PLAIN_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?", re.ASCII)


def _ignored(char: str) -> bool:
    """Skipped before a formula's first character: spaces (NBSP too), format characters
    (BOM, zero-width space and joiners, bidi marks) and a quote."""
    return char.isspace() or char == '"' or unicodedata.category(char) == "Cf"


def _formula(text: str, *, number_allowed: bool) -> bool:
    start = 0
    while start < len(text) and _ignored(text[start]):
        start += 1
    if not text[start:].startswith(FORMULA_STARTS):
        return False
    return not (number_allowed and PLAIN_NUMBER.fullmatch(text.strip()))


def safe_cell(value: str) -> str:
    """A CSV cell no spreadsheet will run, whatever it splits rows on: a leading apostrophe
    before a formula (also after spaces or invisible characters), and one after every , ; TAB
    or line break inside the cell that a formula follows; except in a cell that is a plain
    number such as "-300.00", which must stay a number. Only the CSV exports do this; the
    ledger's entries (and the JSON export) keep the bytes as signed."""
    parts = SEPARATORS.split(value)  # text, separator, text, ...
    for n in range(2, len(parts), 2):
        # No number is spared inside a cell: "1;-5" splits into a cell "-5" only for some.
        if _formula(parts[n], number_allowed=False):
            parts[n] = "'" + parts[n]
    cell = "".join(parts)
    return "'" + cell if _formula(value, number_allowed=True) else cell


def row(entry: LedgerEntry, data: dict | None = None) -> dict[str, str]:
    """The CSV columns of one entry; `data` is its leaf already parsed, if the caller has it."""
    data = json.loads(bytes(entry.leaf)) if data is None else data
    p = data["payload"]
    money = p.get("money", {})
    converted = p.get("converted", {})
    fundraisers = [f["title"] for f in p.get("fundraisers", [])]
    if "fundraiser" in p:
        fundraisers.append(p["fundraiser"]["title"])
    hubs = [p[k]["name"] for k in ("hub", "from_hub", "to_hub") if k in p]
    place = p.get("place", {})
    direction = {"donation": "in", "expense": "out"}.get(data["kind"], "")
    return {
        "index": str(data["index"]),
        "time": data["time"],
        "kind": data["kind"],
        "direction": direction,
        "amount": money.get("amount", ""),
        "currency": money.get("currency", ""),
        "converted_amount": converted.get("amount", ""),
        "converted_currency": converted.get("currency", ""),
        "fundraiser": "; ".join(fundraisers),
        "hub": " → ".join(hubs),
        "place": place.get("name", ""),
        "region": place.get("region", ""),
        "district": place.get("district", ""),
        "sector": "; ".join(sorted({i.get("category", "") for i in p.get("items", [])} - {""})),
        "items": items_text(p.get("items", [])),
        "reached": str(p.get("people", "")),
        "reverses": str(p.get("reverses", "")),
        "evidence": " ".join(p.get("evidence", [])),
        "leaf_hash": bytes(entry.leaf_hash).hex(),
    }


def _csv_line(cells: Iterable[str]) -> str:
    out = io.StringIO()
    csv.writer(out).writerow([safe_cell(cell) for cell in cells])
    return out.getvalue()


def _csv_part(entry: LedgerEntry, data: dict, position: int) -> str:
    values = row(entry, data)
    return _csv_line(values[name] for name, _tag in COLUMNS)


def _json_part(entry: LedgerEntry, data: dict, position: int) -> str:
    data = {**data, "leaf_hash": bytes(entry.leaf_hash).hex()}
    return ("," if position else "") + "\n" + json.dumps(data, ensure_ascii=False, sort_keys=True)


@dataclass(frozen=True)
class Format:
    extension: str
    content_type: str
    head: str
    # The text of one entry, given its parsed leaf and its position in the export (JSON puts
    # commas between). The CSV and HXL files share one function, so a row is made once.
    part: Callable[[LedgerEntry, dict, int], str]
    tail: str = ""


FORMATS = {
    "csv": Format(
        "csv", "text/csv; charset=utf-8", _csv_line(name for name, _tag in COLUMNS), _csv_part
    ),
    "hxl.csv": Format(
        "hxl.csv",
        "text/csv; charset=utf-8",
        _csv_line(name for name, _tag in COLUMNS) + _csv_line(tag for _name, tag in COLUMNS),
        _csv_part,
    ),
    "json": Format("json", "application/json; charset=utf-8", "[", _json_part, "\n]\n"),
}


def export_language() -> translation.override:
    """Exports read the same whoever downloads them (units are translated words): the site's
    default language, so a file has one set of bytes and one ETag."""
    return translation.override(settings.LANGUAGE_CODE)


# Raise this with any change to what a row says or how a cell is written (row(), safe_cell,
# COLUMNS' meaning): export files written by older code are then rebuilt, not appended to.
FORMAT_VERSION = 3  # 3: formulas after , ; TAB and invisible characters neutralised


def fingerprint() -> str:
    """What the bytes of an export depend on besides the entries: the code's format version,
    the heads and tails, the export language and its unit words. Files written under another
    fingerprint are rebuilt, and it is part of their ETag."""
    with export_language():
        parts = [str(FORMAT_VERSION), settings.LANGUAGE_CODE]
        parts += [f"{fmt}:{form.head}:{form.tail}" for fmt, form in FORMATS.items()]
        parts += [f"{unit}:{label}" for unit, label in sorted(UNIT_LABELS.items())]
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:16]


def filename(fmt: str, fundraiser: str = "") -> str:
    """The download's name; `fundraiser` has passed `valid_fundraiser` (a-z, 0-9, . _ -)."""
    return f"aidhub-ledger{'-' + fundraiser if fundraiser else ''}.{FORMATS[fmt].extension}"


def valid_fundraiser(raw: str) -> bool:
    # fullmatch: REF's "$" alone would let a trailing newline through into a header.
    return bool(REF.fullmatch(raw))


def _fundraiser_entries(fundraiser: str) -> Iterator[LedgerEntry]:
    refs = LedgerRef.objects.filter(scope="fundraiser", ref=fundraiser).values("entry_id")
    entries = LedgerEntry.objects.filter(index__in=refs).order_by("index")
    return entries.only("index", "leaf", "leaf_hash").iterator(chunk_size=2000)


def generate(fmt: str, entries: Iterable[LedgerEntry]) -> Iterator[str]:
    form = FORMATS[fmt]
    with export_language():
        yield form.head
        for position, entry in enumerate(entries):
            yield form.part(entry, json.loads(bytes(entry.leaf)), position)
        yield form.tail


# ---- generated exports: bounded -------------------------------------------------------------

SLOT_KEY = "ledger:export-slot:{}"
ADDRESS_KEY = "ledger:export-address:{}"


def _release(key: str, token: str) -> None:
    # Not a slot whose lease ran out and was re-taken. The get and the delete are not one step
    # (Django's cache has no compare-and-delete): a download that outlived its lease by the
    # moment between them frees the next holder's place early, so one more export runs at once
    # for a while. Accepted: leases are minutes, downloads of one fundraiser seconds.
    if cache.get(key) == token:
        cache.delete(key)


def _slot_take(address: str) -> Callable[[], None] | str:
    """One of LEDGER_EXPORT_CONCURRENCY slots, shared through the cache (Redis in production),
    held until the download ends or LEDGER_EXPORT_SLOT_SECONDS pass (a process that died); and
    at most one per address, so one visitor cannot take every slot. Otherwise "address" (this
    address already has one) or "site" (all are taken)."""
    token = secrets.token_hex(8)
    lease = settings.LEDGER_EXPORT_SLOT_SECONDS
    mine = ADDRESS_KEY.format(hashlib.sha256(address.encode()).hexdigest()[:32])
    if not cache.add(mine, token, timeout=lease):
        return "address"
    for n in range(settings.LEDGER_EXPORT_CONCURRENCY):
        key = SLOT_KEY.format(n)
        if cache.add(key, token, timeout=lease):

            def release(key: str = key) -> None:
                _release(key, token)
                _release(mine, token)

            return release
    _release(mine, token)
    return "site"


def _busy(message: str, *, status: int, retry_after: int) -> HttpResponse:
    response = HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(retry_after)
    return response


def fundraiser_response(request: HttpRequest, fmt: str, fundraiser: str) -> HttpResponse:
    """One fundraiser's entries, generated now and streamed: limited per address, and only a
    few at a time across the site, so downloads cannot take the workers from everyone else."""
    if exceeded(request, "export"):
        response = render(request, "429.html", status=429)
        response["Retry-After"] = "60"
        return response
    release = _slot_take(client_address(request))
    if release == "address":
        return _busy(
            _("Your previous export is still being made. Please try again when it has ended."),
            status=429,
            retry_after=10,
        )
    if release == "site":
        return _busy(
            _("Too many exports are being made right now. Please try again in a minute."),
            status=503,
            retry_after=10,
        )
    form = FORMATS[fmt]
    response = StreamingHttpResponse(
        generate(fmt, _fundraiser_entries(fundraiser)), content_type=form.content_type
    )
    response._resource_closers.append(release)  # close() runs when the download ends
    response["Content-Disposition"] = content_disposition_header(True, filename(fmt, fundraiser))
    return response
