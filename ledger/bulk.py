"""Appending many ledger entries at once: seeding a crisis-sized month, benchmarks, imports.

The entries are exactly those `services.append` would make one at a time: the same RFC 8785
leaves and leaf hashes, the stored hash of every complete subtree, the filter references, the
running totals and the head's size; only the round trips differ. On PostgreSQL the rows go in
with COPY; elsewhere (SQLite, in tests) with `bulk_create`.

Every payload is checked with `schemas.validate_payload`, not a sample: the check is the guard
that keeps personal data out of a record nobody can ever edit, and it costs a few microseconds
an entry, well under the hashing and the writes. Corrections are refused here (they need the
entry they reverse, one by one); append them with `services.append`.
"""

from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from itertools import batched

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from aidhub.pagecache import version_forget

from . import merkle
from .models import Evidence, LedgerEntry, LedgerHead, LedgerRef, LedgerTotal, TreeNode
from .schemas import PayloadError, validate_payload
from .services import PAGE_VERSION_KEY, _money_effect, _refs_of, leaf_bytes, utc_timestamp
from .store import DatabaseNodeStore
from .verify import leaf_hash

# (kind, payload, time); a time of None means now, as in `services.append`.
Row = tuple[str, dict, datetime | None]


class RightEdgeStore:
    """The stored nodes a future append can ask for: one complete subtree per level.

    `merkle.nodes_to_store_after_append(i, ...)` only reads left siblings of the subtrees leaf i
    completes, which are the right-edge subtrees of the tree of size i. Holding just those keeps
    memory flat however many entries are appended.
    """

    def __init__(self) -> None:
        self.edge: dict[int, tuple[int, bytes]] = {}

    def get_nodes(self, keys: Collection[merkle.NodeKey]) -> Mapping[merkle.NodeKey, bytes]:
        found = {}
        for level, position in keys:
            held = self.edge.get(level)
            if held is not None and held[0] == position:
                found[(level, position)] = held[1]
        return found

    def put(self, level: int, position: int, node: bytes) -> None:
        self.edge[level] = (position, node)


def right_edge_keys(size: int) -> list[merkle.NodeKey]:
    """The complete subtrees that make up a tree of `size` leaves (one per set bit)."""
    return [(level, (size >> level) - 1) for level in range(size.bit_length()) if size >> level & 1]


def append_many(
    rows: Iterable[Row],
    *,
    chunk: int = 10_000,
    on_chunk: Callable[[int], None] | None = None,
) -> list[int]:
    """Append `rows` in order, one transaction per `chunk` rows; return their indexes.

    Indexes are consecutive within a chunk; a real append committed between two chunks takes
    the next index, so callers that link domain rows to entries should use `append_chunk`
    inside their own transaction. `on_chunk` is called with the count appended so far.
    """
    indexes: list[int] = []
    for part in batched(rows, chunk):
        with transaction.atomic():
            indexes += append_chunk(part)
        if on_chunk is not None:
            on_chunk(len(indexes))
    return indexes


@transaction.atomic
def append_chunk(rows: Iterable[Row]) -> list[int]:
    """Append `rows` as consecutive entries in the caller's transaction; return their indexes.

    Raises PayloadError, writing nothing, if any payload breaks its schema, is a correction,
    or names evidence that was never stored.
    """
    prepared = []
    evidence: set[str] = set()
    for kind, payload, at in rows:
        validate_payload(kind, payload)
        if kind == "correction":
            raise PayloadError("corrections are appended one by one with services.append")
        evidence.update(payload.get("evidence", []))
        prepared.append((kind, payload, (at or timezone.now()).replace(microsecond=0)))
    if not prepared:
        return []
    if evidence:
        known = set(Evidence.objects.filter(sha256__in=evidence).values_list("sha256", flat=True))
        if missing := sorted(evidence - known):
            raise PayloadError(f"evidence {missing[0]} was never uploaded")

    start = _claim_indexes(len(prepared))
    store = RightEdgeStore()
    seeds = right_edge_keys(start)
    for (level, position), node in DatabaseNodeStore().get_nodes(seeds).items():
        store.put(level, position, node)
    if len(store.edge) != len(seeds):
        raise RuntimeError(f"stored tree nodes are missing for the right edge of size {start}")

    entries, nodes, refs = [], [], []
    totals: dict[tuple[str, str, str, str], Decimal] = {}
    for index, (kind, payload, moment) in enumerate(prepared, start):
        leaf = leaf_bytes(index=index, kind=kind, time=utc_timestamp(moment), payload=payload)
        digest = leaf_hash(leaf)
        direction, currency, amount = _money_effect(kind, payload, None)
        entries.append((index, kind, leaf, digest, moment, None, direction, currency, amount))
        for level, position, node in merkle.nodes_to_store_after_append(index, digest, store):
            store.put(level, position, node)
            nodes.append((level, position, node))
        entry_refs = _refs_of(payload, None)
        refs += [(index, scope, ref, label) for scope, ref, label in entry_refs]
        if direction:
            column = "money_in" if direction == LedgerEntry.Direction.IN else "money_out"
            for scope, ref in [("all", ""), *((s, r) for s, r, _label in entry_refs)]:
                key = (scope, ref, currency, column)
                totals[key] = totals.get(key, Decimal(0)) + amount

    if connection.vendor == "postgresql":
        _copy(entries, nodes, refs)
    else:
        _bulk_create(entries, nodes, refs)
    for (scope, ref, currency, column), amount in totals.items():
        existing = LedgerTotal.objects.filter(scope=scope, ref=ref, currency=currency)
        if not existing.update(**{column: F(column) + amount}):
            # No concurrent append can create it meanwhile: they wait on the head row we hold.
            LedgerTotal.objects.create(scope=scope, ref=ref, currency=currency, **{column: amount})
    if evidence:
        Evidence.objects.filter(sha256__in=evidence).update(published=True)
    return list(range(start, start + len(prepared)))


def _claim_indexes(count: int) -> int:
    """Move the head on by `count`, holding its lock until commit; return the first index."""
    version_forget(PAGE_VERSION_KEY)
    if not LedgerHead.objects.filter(pk=1).update(size=F("size") + count):
        # The head row is created by migration; only a flushed test database lacks it.
        LedgerHead.objects.get_or_create(pk=1, defaults={"size": LedgerEntry.objects.count()})
        LedgerHead.objects.filter(pk=1).update(size=F("size") + count)
    return LedgerHead.objects.values_list("size", flat=True).get(pk=1) - count


ENTRY_COLUMNS = (
    '"index", kind, leaf, leaf_hash, created_at, reverses_id, direction, currency, amount'
)


def _copy(entries: list[tuple], nodes: list[tuple], refs: list[tuple]) -> None:
    connection.ensure_connection()
    with connection.connection.cursor() as cursor:  # psycopg 3, inside Django's transaction
        for statement, data in (
            (f"COPY ledger_ledgerentry ({ENTRY_COLUMNS}) FROM STDIN", entries),
            ("COPY ledger_treenode (level, position, hash) FROM STDIN", nodes),
            ("COPY ledger_ledgerref (entry_id, scope, ref, label) FROM STDIN", refs),
        ):
            with cursor.copy(statement) as copy:
                for row in data:
                    copy.write_row(row)


def _bulk_create(entries: list[tuple], nodes: list[tuple], refs: list[tuple]) -> None:
    LedgerEntry.objects.bulk_create(
        LedgerEntry(
            index=index,
            kind=kind,
            leaf=leaf,
            leaf_hash=digest,
            created_at=moment,
            direction=direction,
            currency=currency,
            amount=amount,
        )
        for index, kind, leaf, digest, moment, _reverses, direction, currency, amount in entries
    )
    TreeNode.objects.bulk_create(
        TreeNode(level=level, position=position, hash=node) for level, position, node in nodes
    )
    LedgerRef.objects.bulk_create(
        LedgerRef(entry_id=index, scope=scope, ref=ref, label=label)
        for index, scope, ref, label in refs
    )
