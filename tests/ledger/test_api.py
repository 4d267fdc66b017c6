"""The HTTP contract that verifiers and mirrors rely on."""

import base64
import json

import pytest

from ledger import services
from ledger.keys import signer
from ledger.models import LedgerEntry
from ledger.verify import (
    leaf_hash,
    parse_checkpoint,
    verify_consistency,
    verify_inclusion,
    verify_note,
)

from . import scenario
from .factories import donation

pytestmark = pytest.mark.django_db


@pytest.fixture
def ledger(media):
    return scenario.build()


def test_checkpoint_is_a_signed_note_that_verifies_with_the_published_key(client, ledger):
    response = client.get("/api/ledger/checkpoint")
    assert response["Content-Type"].startswith("text/plain")
    key = client.get("/api/ledger/key").text.strip()
    assert key == signer().verifier_key
    checkpoint = parse_checkpoint(verify_note(response.text, key))
    assert checkpoint.size == 9


def test_checkpoint_before_any_signature_is_a_clear_404(client, db):
    response = client.get("/api/ledger/checkpoint")
    assert response.status_code == 404
    assert response.json() == {"error": "no checkpoint has been signed yet"}


def test_entries_are_json_lines_whose_bytes_are_the_leaves(client, ledger):
    body = client.get("/api/ledger/entries?start=2&end=5").content
    lines = body.split(b"\n")
    assert lines[-1] == b""
    stored = [
        bytes(e.leaf) for e in LedgerEntry.objects.filter(index__in=[2, 3, 4]).order_by("index")
    ]
    assert lines[:-1] == stored
    assert json.loads(lines[0])["index"] == 2


def test_entries_beyond_the_end_are_cut_at_the_tree_size(client, ledger):
    body = client.get("/api/ledger/entries?start=7&end=1000").content
    assert len(body.splitlines()) == 2
    assert client.get("/api/ledger/entries?start=9").content == b""


def test_entries_are_served_in_pages_of_bounded_size(client, ledger, settings):
    settings.LEDGER_ENTRIES_PER_RESPONSE = 4
    assert len(client.get("/api/ledger/entries?start=0&end=9").content.splitlines()) == 4


@pytest.mark.parametrize(
    "query",
    [
        "",
        "start=-1",
        "start=abc",
        "start=5&end=2",
        "start=10",
        "start=1.5",
        "start=99999999999999999999999",
    ],
)
def test_malformed_or_out_of_range_entries_request_is_a_400_with_json(client, ledger, query):
    response = client.get(f"/api/ledger/entries?{query}")
    assert response.status_code == 400
    assert "error" in response.json()


def test_inclusion_proofs_verify_against_the_signed_root(client, ledger):
    root = bytes(ledger["checkpoint"].root_hash)
    for entry in LedgerEntry.objects.all():
        body = client.get(f"/api/ledger/proof/inclusion?index={entry.index}&size=9").json()
        assert (body["index"], body["size"]) == (entry.index, 9)
        proof = [base64.b64decode(h) for h in body["hashes"]]
        assert verify_inclusion(leaf_hash(bytes(entry.leaf)), entry.index, 9, proof, root)


def test_consistency_proof_links_an_old_checkpoint_to_a_new_one(client, ledger):
    old = ledger["checkpoint"]
    for n in range(4):
        services.append(kind="donation", payload=donation(amount=f"{n + 1}.00"))
    new = services.checkpoint_sign()
    body = client.get(f"/api/ledger/proof/consistency?old={old.size}&new={new.size}").json()
    assert (body["old"], body["new"]) == (9, 13)
    proof = [base64.b64decode(h) for h in body["hashes"]]
    assert verify_consistency(9, 13, bytes(old.root_hash), bytes(new.root_hash), proof)


@pytest.mark.parametrize(
    "query",
    [
        "proof/inclusion?index=9&size=9",
        "proof/inclusion?index=0&size=10",
        "proof/inclusion?index=0&size=0",
        "proof/inclusion?index=x&size=3",
        "proof/inclusion?size=3",
        "proof/consistency?old=5&new=4",
        "proof/consistency?old=1&new=10",
        "proof/consistency?old=&new=3",
    ],
)
def test_bad_proof_requests_are_400_never_500(client, ledger, query):
    response = client.get(f"/api/ledger/{query}")
    assert response.status_code == 400
    assert response.json()["error"]


def test_published_evidence_is_served_by_its_hash_and_matches_it(client, ledger):
    import hashlib

    sha = ledger["receipt"].sha256
    response = client.get(f"/ledger/evidence/{sha}")
    assert response.status_code == 200
    data = b"".join(response.streaming_content)
    assert hashlib.sha256(data).hexdigest() == sha
    assert response["Content-Type"] == "image/jpeg"
    assert "immutable" in response["Cache-Control"]


def test_unpublished_evidence_is_not_served(client, media, db):
    from .factories import jpeg_bytes

    pending = services.evidence_store(data=jpeg_bytes((1, 1, 1)), content_type="image/jpeg")
    assert client.get(f"/ledger/evidence/{pending.sha256}").status_code == 404
    assert client.get("/ledger/evidence/" + "0" * 64).status_code == 404
