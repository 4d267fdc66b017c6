import hashlib
import json
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.utils import DatabaseError

from ledger import merkle, services
from ledger.models import Checkpoint, Evidence, LedgerEntry, LedgerTotal, TreeNode
from ledger.schemas import PayloadError
from ledger.store import DatabaseNodeStore
from ledger.verify import parse_checkpoint, root_from_leaf_hashes, verify_note

from .factories import FUNDRAISER, HUB, HUB2, delivery, donation, expense, jpeg_bytes

pytestmark = pytest.mark.django_db


def photo(media, color=(10, 20, 30)) -> str:
    return services.evidence_store(data=jpeg_bytes(color), content_type="image/jpeg").sha256


def test_entries_get_gapless_indexes_from_zero():
    entries = [services.append(kind="donation", payload=donation()) for _ in range(5)]
    assert [e.index for e in entries] == [0, 1, 2, 3, 4]
    assert services.tree_size() == 5


def test_leaf_is_canonical_json_of_index_kind_payload_and_utc_time():
    entry = services.append(kind="donation", payload=donation(public_name="Aibek"))
    leaf = bytes(entry.leaf)
    data = json.loads(leaf)
    assert list(data) == ["index", "kind", "payload", "time"]
    assert data["index"] == 0 and data["kind"] == "donation"
    assert data["time"].endswith("Z")
    assert b" " not in leaf.replace(b"Aid for Batken evacuees", b"").replace(b"same currency", b"")
    assert bytes(entry.leaf_hash) == hashlib.sha256(b"\x00" + leaf).digest()


def test_stored_tree_gives_the_same_root_as_recomputing_from_all_leaves():
    for n in range(13):
        services.append(kind="donation", payload=donation(amount=f"{n + 1}.00"))
    hashes = [
        bytes(h) for h in LedgerEntry.objects.order_by("index").values_list("leaf_hash", flat=True)
    ]
    for size in range(14):
        assert merkle.root(size, DatabaseNodeStore()) == root_from_leaf_hashes(hashes[:size])


def test_a_failed_caller_transaction_leaves_no_entry_and_no_gap():
    services.append(kind="donation", payload=donation())
    with pytest.raises(RuntimeError), transaction.atomic():
        services.append(kind="donation", payload=donation())
        raise RuntimeError("the domain write failed after the entry")
    entry = services.append(kind="donation", payload=donation())
    assert entry.index == 1
    assert TreeNode.objects.filter(level=0).count() == 2


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"channel": "pigeon"}, "donation.channel: must be one of"),
        ({"money": {"amount": "10.001", "currency": "USD"}}, "decimal places"),
        ({"money": {"amount": "10.5", "currency": "USD"}}, "e.g. 10.50"),
        ({"money": {"amount": "-5.00", "currency": "USD"}}, "cannot be negative"),
        ({"money": {"amount": "5.00", "currency": "XYZ"}}, "not an ISO 4217"),
        ({"received_at": "2022-09-18 10:00"}, "UTC time"),
        ({"fundraiser": {"id": "Batken 2022", "title": "x"}}, "public id"),
        # `$` in a pattern also matches before a final newline: ids and times end at their end.
        ({"fundraiser": {"id": "batken-2022\n", "title": "x"}}, "public id"),
        ({"received_at": "2022-09-18T10:00:00Z\n"}, "UTC time"),
        ({"money": {"amount": "5.00\n", "currency": "USD"}}, "amount"),
        ({"colour": "red"}, "donation.colour: is not a field"),
    ],
)
def test_payload_that_breaks_its_schema_is_refused_and_nothing_written(change, message):
    with pytest.raises(PayloadError, match=message):
        services.append(kind="donation", payload=donation(**change))
    assert not LedgerEntry.objects.exists()
    assert services.tree_size() == 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"email": "donor@example.com"}, "donation.email: is personal data"),
        ({"donor_name": "Aibek Asanov"}, "personal data"),
        ({"phone": "+996 555 123 456"}, "personal data"),
        ({"public_name": "write to aibek@mail.kg"}, "an e-mail address"),
        ({"public_name": "Aibek +996 555 123 456"}, "phone, card or account number"),
        ({"public_name": "card 4111 1111 1111 1111"}, "phone, card or account number"),
        ({"public_name": "@aibek_kg"}, "Telegram"),
        ({"rate_source": "KZ86125KZT5004100100"}, "IBAN"),
    ],
)
def test_personal_data_never_enters_the_ledger(change, message):
    with pytest.raises(PayloadError, match=message):
        services.append(kind="donation", payload=donation(**change))
    assert not LedgerEntry.objects.exists()


def test_required_field_missing_is_named():
    payload = donation()
    del payload["money"]
    with pytest.raises(PayloadError, match=r"donation\.money: is required"):
        services.append(kind="donation", payload=payload)


def test_unknown_kind_is_refused():
    with pytest.raises(PayloadError, match="Unknown ledger entry kind"):
        services.append(kind="gift", payload={})


def test_expense_needs_a_receipt(media):
    with pytest.raises(PayloadError, match=r"expense\.evidence: is required"):
        payload = expense([])
        del payload["evidence"]
        services.append(kind="expense", payload=payload)


def test_evidence_must_be_stored_before_an_entry_names_it():
    with pytest.raises(PayloadError, match="never uploaded"):
        services.append(kind="expense", payload=expense(["a" * 64]))
    assert not LedgerEntry.objects.exists()


def test_evidence_is_published_only_when_an_entry_names_it(media):
    sha = photo(media)
    assert not Evidence.objects.get(sha256=sha).published
    services.append(kind="expense", payload=expense([sha]))
    assert Evidence.objects.get(sha256=sha).published


def test_same_evidence_bytes_are_stored_once(media):
    assert photo(media) == photo(media)
    assert Evidence.objects.count() == 1


def test_correction_reverses_an_earlier_entry_and_moves_the_totals_back():
    first = services.append(kind="donation", payload=donation(amount="100.00"))
    services.append(kind="correction", payload={"reverses": first.index, "reason": "typed twice"})
    total = LedgerTotal.objects.get(scope="all", currency="KZT")
    assert total.money_in == Decimal("0")
    assert LedgerTotal.objects.get(scope="fundraiser", ref=FUNDRAISER["id"]).money_in == 0


def test_an_entry_can_be_reversed_only_once():
    first = services.append(kind="donation", payload=donation())
    services.append(kind="correction", payload={"reverses": first.index, "reason": "wrong"})
    with pytest.raises(PayloadError, match="already reversed"):
        services.append(kind="correction", payload={"reverses": first.index, "reason": "again"})


def test_correction_of_a_missing_entry_or_of_a_correction_is_refused():
    with pytest.raises(PayloadError, match="does not exist"):
        services.append(kind="correction", payload={"reverses": 7, "reason": "nothing there"})
    first = services.append(kind="donation", payload=donation())
    fix = services.append(kind="correction", payload={"reverses": first.index, "reason": "x"})
    with pytest.raises(PayloadError, match="cannot itself be reversed"):
        services.append(kind="correction", payload={"reverses": fix.index, "reason": "undo"})


def test_totals_follow_money_in_and_out_per_currency(media):
    services.append(kind="donation", payload=donation(amount="5000.00", currency="KZT"))
    services.append(kind="donation", payload=donation(amount="20.00", currency="USD"))
    services.append(kind="expense", payload=expense([photo(media)], amount="1200.00"))
    totals = {
        t.currency: (t.money_in, t.money_out) for t in LedgerTotal.objects.filter(scope="all")
    }
    assert totals == {
        "KZT": (Decimal("5000"), Decimal("0")),
        "USD": (Decimal("20"), Decimal("0")),
        "KGS": (Decimal("0"), Decimal("1200")),
    }
    assert LedgerTotal.objects.get(scope="hub", ref=HUB["id"], currency="KGS").money_out == 1200


def test_transfer_concerns_both_hubs():
    from .factories import FLOUR

    entry = services.append(
        kind="transfer", payload={"from_hub": HUB, "to_hub": HUB2, "items": [FLOUR]}
    )
    assert sorted(entry.refs.values_list("ref", flat=True)) == ["osh-warehouse", "sports-palace"]


def test_delivery_entry_with_photos_and_fundraisers(media):
    shas = [photo(media, (1, 2, 3)), photo(media, (4, 5, 6))]
    entry = services.append(kind="delivery", payload=delivery(shas))
    scopes = set(entry.refs.values_list("scope", "ref"))
    assert scopes == {("hub", "sports-palace"), ("place", "isfana"), ("fundraiser", "batken-2022")}


def test_database_refuses_update_and_delete_of_entries():
    entry = services.append(kind="donation", payload=donation())
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).update(kind="expense")
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM ledger_ledgerentry")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        TreeNode.objects.all().delete()
    assert LedgerEntry.objects.count() == 1


def test_database_refuses_an_entry_that_reverses_a_later_one():
    services.append(kind="donation", payload=donation())
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            index=5,
            kind="correction",
            leaf=b"{}",
            leaf_hash=b"0" * 32,
            created_at="2022-09-18T00:00:00Z",
            reverses_id=9,
        )


def test_checkpoint_is_signed_when_the_tree_grew_and_verifies():
    services.append(kind="donation", payload=donation())
    checkpoint = services.checkpoint_sign()
    assert checkpoint.size == 1
    from ledger.keys import signer

    body = verify_note(checkpoint.note, signer().verifier_key)
    parsed = parse_checkpoint(body)
    assert (parsed.origin, parsed.size) == ("aidhub.test/ledger", 1)
    assert parsed.root == bytes(checkpoint.root_hash)
    assert services.checkpoint_sign() is None  # not grown: nothing new
    services.append(kind="donation", payload=donation())
    assert services.checkpoint_sign().size == 2
    assert Checkpoint.objects.count() == 2


def test_thumbnail_is_made_for_image_evidence(media, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        sha = services.evidence_store(
            data=jpeg_bytes(size=(1600, 1200)), content_type="image/jpeg"
        ).sha256
    evidence = Evidence.objects.get(sha256=sha)
    assert evidence.thumbnail.name.endswith(".webp")
    assert evidence.thumbnail.size < 20_000


def test_receipt_codes_are_short_unique_and_readable():
    entry = services.append(kind="donation", payload=donation())
    codes = {services.receipt_code_issue(entry=entry) for _ in range(20)}
    assert len(codes) == 20
    for code in codes:
        assert len(code) == 11 and code[5] == "-"
        assert not set(code) & set("01IO")


def test_a_thumbnail_lost_with_the_broker_is_made_by_the_sweep(
    media, monkeypatch, django_capture_on_commit_callbacks
):
    from aidhub.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", False)
    monkeypatch.setitem(app.conf, "broker_url", "redis://127.0.0.1:9/0")
    monkeypatch.setitem(app.conf, "broker_transport_options", {"socket_connect_timeout": 1})
    monkeypatch.setitem(app.conf, "task_publish_retry", False)
    monkeypatch.setattr(app, "_pool", None)
    monkeypatch.setattr(app.amqp, "_producer_pool", None)
    with django_capture_on_commit_callbacks(execute=True):  # the request would not fail
        sha = services.evidence_store(data=jpeg_bytes(), content_type="image/jpeg").sha256
    assert not Evidence.objects.get(sha256=sha).thumbnail
    monkeypatch.setitem(app.conf, "task_always_eager", True)
    assert services.thumbnails_sweep() == 1
    assert Evidence.objects.get(sha256=sha).thumbnail
