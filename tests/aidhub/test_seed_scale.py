import json
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Min

from deliveries.models import Delivery, ProofOfDelivery
from donations.models import Donation, Fundraiser
from donations.reconcile import reconcile
from hubs.models import StockLevel, StockMovement
from ledger import merkle, services
from ledger.models import Checkpoint, LedgerEntry
from ledger.store import DatabaseNodeStore
from ledger.verify import root_from_leaf_hashes, verify_entries

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(media):
    call_command("seed_scale", entries=2000, no_progress=True, password="pw")


def test_seeded_month_has_the_asked_size_and_passes_the_verifier(seeded):
    assert services.tree_size() == 2000
    leaves = [
        bytes(x) for x in LedgerEntry.objects.order_by("index").values_list("leaf", flat=True)
    ]
    hashes, _evidence = verify_entries(leaves, strict=True)
    root = root_from_leaf_hashes(hashes)
    assert root == merkle.root(2000, DatabaseNodeStore())
    assert bytes(Checkpoint.objects.get(size=2000).root_hash) == root


def test_seeded_counts_scale_with_the_entries(seeded):
    assert Donation.objects.count() == 300  # 150,000 a million
    assert Delivery.objects.filter(status="verified").count() == 60
    assert ProofOfDelivery.objects.filter(review="approved").count() == 60
    assert LedgerEntry.objects.filter(kind="delivery").count() == 60


def test_seeded_rows_link_to_their_entries(seeded):
    donation = Donation.objects.order_by("?").first()
    payload = json.loads(bytes(LedgerEntry.objects.get(index=donation.ledger_index).leaf))
    assert Decimal(payload["payload"]["money"]["amount"]) == donation.amount
    delivery = Delivery.objects.order_by("?").first()
    entry = json.loads(bytes(LedgerEntry.objects.get(index=delivery.ledger_index).leaf))
    assert entry["kind"] == "delivery" and entry["payload"]["delivery"] == delivery.slug
    assert not StockMovement.objects.filter(ledger_index__isnull=True).exists()


def test_seeded_fundraisers_reconcile(seeded):
    for fundraiser in Fundraiser.objects.all():
        report = reconcile(fundraiser)
        assert report.ok, report.problems


def test_seeded_stock_is_never_negative_and_equals_its_movements(seeded):
    assert StockLevel.objects.aggregate(low=Min("quantity"))["low"] >= 0
    for level in StockLevel.objects.all():
        moved = StockMovement.objects.filter(hub=level.hub, item=level.item)
        assert level.quantity == sum(m.quantity for m in moved)


def test_seeding_refuses_a_non_empty_ledger_unless_appending(seeded):
    with pytest.raises(CommandError, match="--append"):
        call_command("seed_scale", entries=2000, no_progress=True)
    call_command("seed_scale", entries=1000, append=True, no_progress=True)
    assert services.tree_size() == 3000
    for fundraiser in Fundraiser.objects.all():
        assert reconcile(fundraiser).ok


def test_too_few_entries_for_the_asked_counts_is_refused(db):
    with pytest.raises(CommandError, match="too small"):
        call_command("seed_scale", entries=100, donations=99, no_progress=True)
