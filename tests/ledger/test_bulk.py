from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from ledger import bulk, merkle, services
from ledger.models import Evidence, LedgerEntry, LedgerHead, LedgerRef, LedgerTotal, TreeNode
from ledger.schemas import PayloadError
from ledger.store import DatabaseNodeStore
from ledger.triggers import create_triggers, drop_triggers
from ledger.verify import root_from_leaf_hashes, verify_entries

from .factories import FLOUR, FUNDRAISER, HUB, HUB2, PLACE, delivery, donation, expense, jpeg_bytes

pytestmark = pytest.mark.django_db

START = datetime(2022, 9, 18, 6, 0, tzinfo=UTC)


def mixed_rows(count: int, photos: list[str]) -> list[bulk.Row]:
    """Every kind but corrections, in several currencies, spread over a few days."""
    makers = [
        lambda n: ("donation", donation(f"{n + 1}.00", "KZT")),
        lambda n: ("donation", donation(f"{n % 7 + 1}.50", "USD", public_name="Aibek")),
        lambda n: ("expense", expense(photos[:1], amount=f"{n + 10}.00")),
        lambda n: ("intake", {"hub": HUB, "items": [FLOUR], "received_at": "2022-09-18T12:00:00Z"}),
        lambda n: ("transfer", {"from_hub": HUB, "to_hub": HUB2, "items": [FLOUR]}),
        lambda n: ("dispatch", {"hub": HUB, "place": PLACE, "delivery": f"d-{n}",
                                "items": [FLOUR], "fundraisers": [FUNDRAISER]}),
        lambda n: ("delivery", delivery(photos[1:], delivery=f"d-{n}")),
        lambda n: ("adjustment", {"hub": HUB2, "items": [{**FLOUR, "quantity": "-2"}],
                                  "reason": "two sacks got wet"}),
    ]  # fmt: skip
    return [(*makers[n % len(makers)](n), START + timedelta(minutes=37 * n)) for n in range(count)]


def snapshot() -> dict:
    return {
        "head": LedgerHead.objects.get(pk=1).size,
        "entries": [
            (
                e.index,
                e.kind,
                bytes(e.leaf),
                bytes(e.leaf_hash),
                e.created_at,
                e.direction,
                e.currency,
                e.amount,
            )
            for e in LedgerEntry.objects.order_by("index")
        ],
        "nodes": {(n.level, n.position): bytes(n.hash) for n in TreeNode.objects.all()},
        "refs": sorted(LedgerRef.objects.values_list("entry_id", "scope", "ref", "label")),
        "totals": sorted(
            LedgerTotal.objects.values_list("scope", "ref", "currency", "money_in", "money_out")
        ),
        "published": sorted(Evidence.objects.filter(published=True).values_list("sha256")),
    }


def clear_ledger() -> None:
    # Only in this test's transaction, which is rolled back, triggers and all.
    drop_triggers(connection)
    for model in (LedgerRef, TreeNode, LedgerTotal, LedgerEntry):
        model.objects.all().delete()
    LedgerHead.objects.filter(pk=1).update(size=0)
    Evidence.objects.update(published=False)
    create_triggers(connection)


@pytest.fixture
def photos(media) -> list[str]:
    return [
        services.evidence_store(data=jpeg_bytes(color), content_type="image/jpeg").sha256
        for color in [(250, 250, 240), (90, 120, 60)]
    ]


@pytest.mark.parametrize("chunk", [1, 7, 1000])
def test_bulk_ledger_equals_the_same_entries_appended_one_by_one(photos, chunk):
    rows = mixed_rows(45, photos)
    for kind, payload, at in rows[:3]:  # a ledger that already has entries
        services.append(kind=kind, payload=payload, at=at)
    for kind, payload, at in rows[3:]:
        services.append(kind=kind, payload=payload, at=at)
    one_by_one = snapshot()
    clear_ledger()

    for kind, payload, at in rows[:3]:
        services.append(kind=kind, payload=payload, at=at)
    indexes = bulk.append_many(rows[3:], chunk=chunk)

    assert indexes == list(range(3, 45))
    assert snapshot() == one_by_one


def test_bulk_ledger_passes_the_verifier(photos):
    bulk.append_many(mixed_rows(100, photos), chunk=16)
    services.append(kind="donation", payload=donation())  # real appends carry on after it
    checkpoint = services.checkpoint_sign()
    leaves = [
        bytes(leaf) for leaf in LedgerEntry.objects.order_by("index").values_list("leaf", flat=True)
    ]
    hashes, evidence = verify_entries(leaves, strict=True)
    assert root_from_leaf_hashes(hashes) == merkle.root(101, DatabaseNodeStore())
    assert bytes(checkpoint.root_hash) == root_from_leaf_hashes(hashes)
    assert set(evidence[2]) == {photos[0]}


def test_a_bad_payload_anywhere_in_a_chunk_writes_nothing(photos):
    rows = mixed_rows(10, photos)
    rows[6] = ("donation", donation(public_name="call +996 555 123 456"), None)
    with pytest.raises(PayloadError):
        bulk.append_many(rows, chunk=100)
    assert services.tree_size() == 0
    assert not LedgerEntry.objects.exists() and not LedgerTotal.objects.exists()


def test_corrections_and_unknown_evidence_are_refused(photos):
    services.append(kind="donation", payload=donation())
    with pytest.raises(PayloadError, match="one by one"):
        bulk.append_many([("correction", {"reverses": 0, "reason": "twice"}, None)])
    with pytest.raises(PayloadError, match="never uploaded"):
        bulk.append_many([("expense", expense(["ab" * 32]), None)])
    assert services.tree_size() == 1


def test_chunks_commit_separately_and_report_progress(photos):
    seen = []
    bulk.append_many(mixed_rows(25, photos), chunk=10, on_chunk=seen.append)
    assert seen == [10, 20, 25]
    assert services.tree_size() == 25
