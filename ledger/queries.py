"""Reads of the public ledger, for the pages and the API. Everything here is public."""

import base64
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from functools import cached_property

from django.conf import settings
from django.db.models import Q, QuerySet, Subquery, Sum
from django.utils import timezone

from aidhub.pagecache import version_cached

from . import merkle
from .models import Checkpoint, Evidence, LedgerEntry, LedgerHead, LedgerRef, LedgerTotal
from .services import PAGE_VERSION_KEY, tree_size
from .store import DatabaseNodeStore

SCOPES = ("fundraiser", "hub", "place")


class RangeError(ValueError):
    """A request for entries or proofs outside the tree."""


def entries_leaves(start: int, end: int | None) -> tuple[list[bytes], int]:
    """Leaf bytes of entries [start, end), at most LEDGER_ENTRIES_PER_RESPONSE; and the size."""
    size = tree_size()
    if start < 0:
        raise RangeError("start must not be negative")
    if end is not None and end < start:
        raise RangeError("end must not be smaller than start")
    if start > size:
        raise RangeError(f"start {start} is beyond the tree size {size}")
    stop = min(size, end if end is not None else size, start + settings.LEDGER_ENTRIES_PER_RESPONSE)
    leaves = LedgerEntry.objects.filter(index__gte=start, index__lt=stop).order_by("index")
    return [bytes(leaf) for leaf in leaves.values_list("leaf", flat=True)], size


def inclusion_proof(index: int, size: int) -> list[bytes]:
    current = tree_size()
    if not 0 < size <= current:
        raise RangeError(f"size must be from 1 to the tree size {current}")
    if not 0 <= index < size:
        raise RangeError(f"index must be from 0 to {size - 1}")
    return merkle.inclusion_proof(index, size, DatabaseNodeStore())


def consistency_proof(old: int, new: int) -> list[bytes]:
    current = tree_size()
    if not 0 <= new <= current:
        raise RangeError(f"new must be from 0 to the tree size {current}")
    if not 0 <= old <= new:
        raise RangeError(f"old must be from 0 to new ({new})")
    return merkle.consistency_proof(old, new, DatabaseNodeStore())


def version() -> tuple[int, int | None]:
    """The ledger's size and the size its latest checkpoint covers: what the public ledger
    pages show changes only with these (see aidhub.pagecache)."""

    def read() -> tuple[int, int | None]:
        latest = Checkpoint.objects.order_by("-size").values("size")[:1]
        head = LedgerHead.objects.filter(pk=1).values_list("size", Subquery(latest)).first()
        return head or (0, None)

    return version_cached(PAGE_VERSION_KEY, read, seconds=2)


def latest_checkpoint() -> Checkpoint | None:
    return Checkpoint.objects.order_by("-size").first()


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


# ---- people-facing views of entries ---------------------------------------------------------


@dataclass
class Filters:
    fundraiser: str = ""
    hub: str = ""
    place: str = ""
    kind: str = ""
    since: date | None = None
    until: date | None = None

    def refs(self) -> dict[str, str]:
        return {scope: getattr(self, scope) for scope in SCOPES if getattr(self, scope)}

    def is_single_scope(self) -> bool:
        return len(self.refs()) <= 1 and not (self.kind or self.since or self.until)


@dataclass
class EntryView:
    """One entry as pages show it: the parsed leaf plus what it refers to."""

    entry: LedgerEntry
    evidence: list[Evidence] = field(default_factory=list)

    @cached_property
    def data(self) -> dict:
        return json.loads(bytes(self.entry.leaf))

    @property
    def reversed_by(self) -> LedgerEntry | None:
        return getattr(self.entry, "reversed_by", None)

    @property
    def payload(self) -> dict:
        return self.data["payload"]

    @property
    def goods(self) -> list[dict]:
        """The payload's item lines. Not `payload.items` in a template: on an entry without
        goods (a donation) that is the dict's own items() method, drawn as a row of blanks."""
        return self.payload.get("items", [])

    @property
    def index(self) -> int:
        return self.entry.index

    @property
    def kind(self) -> str:
        return self.entry.kind

    @property
    def time(self) -> datetime:
        return self.entry.created_at

    @property
    def drawn_state(self) -> str:
        """What a row drawn from this entry shows besides the entry itself, which never
        changes: whether it was reversed, and its published files and their thumbnails."""
        files = ",".join(f"{e.sha256[:16]}{'+' if e.thumbnail else ''}" for e in self.evidence)
        return f"{'reversed' if self.reversed_by else ''}|{files}"

    @property
    def leaf_text(self) -> str:
        return bytes(self.entry.leaf).decode()

    @property
    def leaf_hash_hex(self) -> str:
        return bytes(self.entry.leaf_hash).hex()

    @property
    def leaf_hash_b64(self) -> str:
        return b64(bytes(self.entry.leaf_hash))


def filtered_entries(filters: Filters) -> QuerySet[LedgerEntry]:
    entries = LedgerEntry.objects.all()
    for scope, ref in filters.refs().items():
        entries = entries.filter(
            index__in=LedgerRef.objects.filter(scope=scope, ref=ref).values("entry_id")
        )
    if filters.kind:
        entries = entries.filter(kind=filters.kind)
    tz = timezone.get_current_timezone()
    if filters.since:
        entries = entries.filter(created_at__gte=datetime.combine(filters.since, time.min, tz))
    if filters.until:
        entries = entries.filter(created_at__lte=datetime.combine(filters.until, time.max, tz))
    return entries


def entries_page(filters: Filters, *, before: int | None, size: int) -> list[EntryView]:
    """Newest first, keyset-paginated on the index: constant cost at any depth."""
    entries = filtered_entries(filters)
    if before is not None:
        entries = entries.filter(index__lt=before)
    rows = list(entries.select_related("reversed_by").order_by("-index")[:size])
    return with_evidence([EntryView(row) for row in rows])


def with_evidence(views: list[EntryView]) -> list[EntryView]:
    hashes = {h for view in views for h in view.payload.get("evidence", [])}
    found = Evidence.objects.filter(sha256__in=hashes, published=True).in_bulk()
    for view in views:
        view.evidence = [found[h] for h in view.payload.get("evidence", []) if h in found]
    return views


def entry_view(index: int) -> EntryView | None:
    entry = LedgerEntry.objects.select_related("reversed_by").filter(index=index).first()
    return with_evidence([EntryView(entry)])[0] if entry else None


# Entries that came out of an entry, as the app that made them knows: the ledger imports no
# domain app, so deliveries register, for "expense", which delivery entries carried the goods
# of a purchase. source(indexes of entries of that kind) -> {index: [later entries' indexes]}.
FollowUpSource = Callable[[Iterable[int]], dict[int, list[int]]]
FOLLOW_UP_SOURCES: dict[str, FollowUpSource] = {}


def follow_ups_register(kind: str, source: FollowUpSource) -> None:
    FOLLOW_UP_SOURCES[kind] = source


def follow_ups(view: EntryView) -> list[int]:
    """The indexes of the entries that came out of this one (the deliveries of a purchase)."""
    source = FOLLOW_UP_SOURCES.get(view.kind)
    return source([view.index]).get(view.index, []) if source else []


# What a donor's receipt page shows their fundraiser's money did afterwards (money passed to
# another group's fundraiser included: the donor follows it there by the entry's links).
SPENDING_KINDS = ("expense", "dispatch", "delivery", "correction", "money_transfer")


def fundraiser_since(view: EntryView, *, limit: int = 10) -> list[EntryView]:
    """The newest purchases and deliveries of the entry's fundraiser recorded after it, with
    their published photos and receipts: what the money has done since this donation."""
    ref = (view.payload.get("fundraiser") or {}).get("id")
    if not ref:
        return []
    rows = (
        filtered_entries(Filters(fundraiser=ref))
        .filter(index__gt=view.index, kind__in=SPENDING_KINDS)
        .select_related("reversed_by")
        .order_by("-index")[:limit]
    )
    return with_evidence([EntryView(row) for row in rows])


def totals(filters: Filters) -> list[dict]:
    """Money in and out per currency for the filtered view (corrections included)."""
    refs = filters.refs()
    if filters.is_single_scope():
        scope, ref = next(iter(refs.items()), ("all", ""))
        rows = LedgerTotal.objects.filter(scope=scope, ref=ref).order_by("currency")
        return [
            {"currency": r.currency, "money_in": r.money_in, "money_out": r.money_out} for r in rows
        ]
    sums = (
        filtered_entries(filters)
        .exclude(direction="")
        .values("currency")
        .annotate(
            money_in=Sum("amount", filter=Q(direction="in"), default=Decimal(0)),
            money_out=Sum("amount", filter=Q(direction="out"), default=Decimal(0)),
        )
        .order_by("currency")
    )
    return list(sums)


def ref_label(scope: str, ref: str) -> str:
    label = LedgerRef.objects.filter(scope=scope, ref=ref).values_list("label", flat=True).first()
    return label or ref


def published_evidence(sha256: str) -> Evidence | None:
    return Evidence.objects.filter(sha256=sha256, published=True).first()
