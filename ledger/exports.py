"""Bulk exports of the public ledger (CSV, JSON, HXL-tagged CSV), streamed row by row.

HXL (the Humanitarian Exchange Language, hxlstandard.org) puts a row of hashtags under the
header so that humanitarian tools can read the columns without a mapping.
"""

import csv
import json
from collections.abc import Iterator

from django.http import Http404, StreamingHttpResponse

from .models import LedgerEntry, LedgerRef
from .presentation import items_text

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


class _Echo:
    def write(self, value: str) -> str:
        return value


def _entries(fundraiser: str) -> Iterator[LedgerEntry]:
    entries = LedgerEntry.objects.order_by("index")
    if fundraiser:
        entries = entries.filter(
            index__in=LedgerRef.objects.filter(scope="fundraiser", ref=fundraiser).values(
                "entry_id"
            )
        )
    return entries.only("index", "leaf", "leaf_hash").iterator(chunk_size=2000)


def row(entry: LedgerEntry) -> dict[str, str]:
    data = json.loads(bytes(entry.leaf))
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


def _csv(fundraiser: str, *, hxl: bool) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow([name for name, _tag in COLUMNS])
    if hxl:
        yield writer.writerow([tag for _name, tag in COLUMNS])
    for entry in _entries(fundraiser):
        values = row(entry)
        yield writer.writerow([values[name] for name, _tag in COLUMNS])


def _json(fundraiser: str) -> Iterator[str]:
    yield "["
    for n, entry in enumerate(_entries(fundraiser)):
        data = json.loads(bytes(entry.leaf))
        data["leaf_hash"] = bytes(entry.leaf_hash).hex()
        yield ("," if n else "") + "\n" + json.dumps(data, ensure_ascii=False, sort_keys=True)
    yield "\n]\n"


FORMATS = {
    "csv": ("text/csv; charset=utf-8", "csv", lambda f: _csv(f, hxl=False)),
    "hxl.csv": ("text/csv; charset=utf-8", "hxl.csv", lambda f: _csv(f, hxl=True)),
    "json": ("application/json; charset=utf-8", "json", _json),
}


def response(fmt: str, *, fundraiser: str = "") -> StreamingHttpResponse:
    if fmt not in FORMATS:
        raise Http404("unknown export format")
    content_type, extension, stream = FORMATS[fmt]
    name = f"aidhub-ledger{'-' + fundraiser if fundraiser else ''}.{extension}"
    result = StreamingHttpResponse(stream(fundraiser), content_type=content_type)
    result["Content-Disposition"] = f'attachment; filename="{name}"'
    return result
