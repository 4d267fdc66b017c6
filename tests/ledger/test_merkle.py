"""The Merkle tree: server-side proofs (ledger.merkle) against the verifier (ledger.verify).

Reference vectors are copied from transparency-dev/merkle (Apache-2.0):
testonly/constants.go (leaf inputs, node hashes, roots) and proof/verify_test.go
(inclusion and consistency proofs; their leaf numbers there are 1-based, here 0-based).
"""

import base64
import functools
import hashlib
import json
import math
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import merkle
from ledger.merkle import MemoryStore
from ledger.note import checkpoint_body, sign_note, verifier_key
from ledger.verify import (
    EMPTY_ROOT,
    VerificationError,
    leaf_hash,
    main,
    node_hash,
    root_from_leaf_hashes,
    verify_consistency,
    verify_entries,
    verify_inclusion,
)

h = bytes.fromhex

# transparency-dev/merkle testonly/constants.go: LeafInputs()
LEAF_INPUTS = [
    h(""),
    h("00"),
    h("10"),
    h("2021"),
    h("3031"),
    h("40414243"),
    h("5051525354555657"),
    h("606162636465666768696a6b6c6d6e6f"),
]
# ... NodeHashes(): [level][index] of every complete subtree of the 8-leaf tree.
NODE_HASHES = [
    [
        h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
        h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
        h("0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7"),
        h("07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7"),
        h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        h("4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658"),
        h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
        h("46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"),
    ],
    [
        h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
        h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
        h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
        h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
    ],
    [
        h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
    ],
    [h("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")],
]
# ... RootHashes(): indexed by tree size, from the empty tree.
ROOTS = [
    h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
    h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
    h("aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"),
    h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
    h("4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4"),
    h("76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef"),
    h("ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c"),
    h("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
]
# transparency-dev/merkle proof/verify_test.go: inclusionProofs, as (index, size, proof).
INCLUSION_VECTORS = [
    (
        0,
        8,
        [
            h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        5,
        8,
        [
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (2, 3, [h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")]),
    (
        1,
        5,
        [
            h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
    (0, 1, []),
]
# ... consistencyProofs, as (old size, new size, proof).
CONSISTENCY_VECTORS = [
    (1, 1, []),
    (
        1,
        8,
        [
            h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        6,
        8,
        [
            h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (
        2,
        5,
        [
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
    (
        6,
        7,
        [
            h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
]
SOME_HASH = h("abacaba000000000000000000000000000000000000000000060061e00123456")


def reference_store() -> MemoryStore:
    store = MemoryStore()
    for data in LEAF_INPUTS:
        store.append(leaf_hash(data))
    return store


def flip_bit(proof: list[bytes], i: int, bit: int = 3) -> list[bytes]:
    return [p if j != i else bytes([p[0] ^ (1 << bit)]) + p[1:] for j, p in enumerate(proof)]


# --------------------------------------------------------------------------- reference vectors


def test_empty_tree_root_is_sha256_of_nothing():
    assert hashlib.sha256(b"").digest() == EMPTY_ROOT
    assert root_from_leaf_hashes([]) == EMPTY_ROOT
    assert merkle.root(0, MemoryStore()) == EMPTY_ROOT


def test_leaf_and_node_hashes_match_rfc_6962_reference():
    assert [leaf_hash(d) for d in LEAF_INPUTS] == NODE_HASHES[0]
    assert node_hash(NODE_HASHES[0][0], NODE_HASHES[0][1]) == NODE_HASHES[1][0]


def test_appending_the_reference_leaves_stores_exactly_their_complete_subtrees():
    expected = {
        (level, index): value
        for level, row in enumerate(NODE_HASHES)
        for index, value in enumerate(row)
    }
    assert reference_store().nodes == expected


@pytest.mark.parametrize("size", range(9))
def test_root_of_each_reference_tree_size_is_the_known_root(size):
    assert merkle.root(size, reference_store()) == ROOTS[size]
    assert root_from_leaf_hashes(NODE_HASHES[0][:size]) == ROOTS[size]


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_VECTORS)
def test_inclusion_proof_is_the_known_proof_and_verifies(index, size, proof):
    assert merkle.inclusion_proof(index, size, reference_store()) == proof
    assert verify_inclusion(NODE_HASHES[0][index], index, size, proof, ROOTS[size])


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY_VECTORS)
def test_consistency_proof_is_the_known_proof_and_verifies(old, new, proof):
    assert merkle.consistency_proof(old, new, reference_store()) == proof
    assert verify_consistency(old, new, ROOTS[old], ROOTS[new], proof)


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_VECTORS)
def test_corrupted_reference_inclusion_proofs_are_rejected(index, size, proof):
    leaf, root = NODE_HASHES[0][index], ROOTS[size]
    probes = [
        (index - 1, size, root, leaf, proof),
        (index + 1, size, root, leaf, proof),
        (index ^ 2, size, root, leaf, proof),
        (index, size * 2, root, leaf, proof),
        (index, size // 2, root, leaf, proof),
        (index, size, root, b"WrongLeaf", proof),
        (index, size, root, SOME_HASH, proof),
        (index, size, EMPTY_ROOT, leaf, proof),
        (index, size, SOME_HASH, leaf, proof),
        (index, size, root, leaf, [*proof, b""]),
        (index, size, root, leaf, [*proof, root]),
        (index, size, root, leaf, [b"", *proof]),
        (index, size, root, leaf, [root, *proof]),
    ]
    probes += [(index, size, root, leaf, flip_bit(proof, i)) for i in range(len(proof))]
    if proof:
        probes.append((index, size, root, leaf, proof[:-1]))
    for i, s, r, lf, p in probes:
        assert not verify_inclusion(lf, i, s, p, r), (i, s, r.hex(), lf.hex())


@pytest.mark.parametrize(("old", "new", "proof"), [v for v in CONSISTENCY_VECTORS if v[2]])
def test_corrupted_reference_consistency_proofs_are_rejected(old, new, proof):
    r1, r2 = ROOTS[old], ROOTS[new]
    probes = [
        (old - 1, new, r1, r2, proof),
        (old + 1, new, r1, r2, proof),
        (old ^ 2, new, r1, r2, proof),
        (old, new * 2, r1, r2, proof),
        (old, new // 2, r1, r2, proof),
        (old, new, b"WrongRoot", r2, proof),
        (old, new, r1, b"WrongRoot", proof),
        (old, new, r2, r1, proof),
        (old, new, r1, r2, []),
        (old, new, r1, r2, [*proof, b""]),
        (old, new, r1, r2, [*proof, r1]),
        (old, new, r1, r2, [*proof, r2]),
        (old, new, r1, r2, [b"", *proof]),
        (old, new, r1, r2, [r1, *proof]),
        (old, new, r1, r2, [r2, *proof]),
        (old, new, r1, r2, [proof[0], *proof]),
        (old, new, r1, r2, proof[:-1]),
    ]
    probes += [(old, new, r1, r2, flip_bit(proof, i, 4)) for i in range(len(proof))]
    for o, n, a, b, p in probes:
        assert not verify_consistency(o, n, a, b, p), (o, n)


def test_consistency_of_equal_or_empty_trees_follows_the_documented_rules():
    r1, r2 = ROOTS[1], ROOTS[2]
    # The empty tree is a prefix of every tree: consistent, with an empty proof.
    assert verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert verify_consistency(0, 2, EMPTY_ROOT, r2, [])
    assert not verify_consistency(0, 2, EMPTY_ROOT, r2, [EMPTY_ROOT])
    # Equal sizes: equal roots and nothing else.
    assert verify_consistency(2, 2, r2, r2, [])
    assert not verify_consistency(2, 2, r1, r2, [])
    assert not verify_consistency(2, 2, r2, r2, [EMPTY_ROOT])
    # Time travel and missing proofs.
    assert not verify_consistency(2, 1, r2, r1, [])
    assert not verify_consistency(1, 2, r1, r2, [])
    assert not verify_consistency(-1, 2, r1, r2, [])


def test_inclusion_in_a_one_leaf_tree_needs_an_empty_proof():
    leaf = leaf_hash(b"data")
    assert verify_inclusion(leaf, 0, 1, [], leaf)
    assert not verify_inclusion(leaf, 0, 1, [leaf], leaf)
    assert not verify_inclusion(leaf, 0, 0, [], leaf)
    assert not verify_inclusion(leaf, 1, 1, [], leaf)
    assert not verify_inclusion(b"", 0, 1, [], b"")


def test_out_of_range_arguments_raise_clear_value_errors():
    store = reference_store()
    for call in (
        lambda: merkle.root(-1, store),
        lambda: merkle.inclusion_proof(8, 8, store),
        lambda: merkle.inclusion_proof(-1, 8, store),
        lambda: merkle.inclusion_proof(0, 0, store),
        lambda: merkle.inclusion_proof(0, -1, store),
        lambda: merkle.consistency_proof(5, 4, store),
        lambda: merkle.consistency_proof(-1, 4, store),
        lambda: merkle.nodes_to_store_after_append(-1, ROOTS[1], store),
        lambda: merkle.nodes_to_store_after_append(8, b"short", store),
    ):
        with pytest.raises(ValueError, match=r"\S"):
            call()


def test_missing_stored_node_is_reported_not_guessed():
    with pytest.raises(LookupError, match=r"level 0, index 0"):
        merkle.root(1, MemoryStore())


# --------------------------------------------------------------------------- random trees

BIG = 4100
LEAVES = [leaf_hash(b"entry %d" % i) for i in range(BIG)]
STORE = MemoryStore()
for _leaf in LEAVES:
    STORE.append(_leaf)


@functools.cache
def true_root(size: int) -> bytes:
    return root_from_leaf_hashes(LEAVES[:size])


sizes = st.one_of(
    st.integers(1, 300), st.sampled_from([511, 512, 513, 1023, 1024, 1025, 4095, 4096, 4097])
)
fast = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


@fast
@given(size=st.one_of(st.just(0), sizes))
def test_root_from_stored_subtrees_equals_root_from_all_leaves(size):
    assert merkle.root(size, STORE) == true_root(size)


@fast
@given(data=st.data(), size=sizes)
def test_every_inclusion_proof_verifies_and_any_tampering_fails(data, size):
    index = data.draw(st.integers(0, size - 1))
    proof = merkle.inclusion_proof(index, size, STORE)
    root, leaf = true_root(size), LEAVES[index]
    assert verify_inclusion(leaf, index, size, proof, root)
    assert len(proof) <= math.ceil(math.log2(size))

    for i in range(len(proof)):
        bit = data.draw(st.integers(0, 255), label="bit")
        flipped = proof[i][: bit // 8] + bytes([proof[i][bit // 8] ^ (1 << bit % 8)])
        tampered = [*proof[:i], flipped + proof[i][bit // 8 + 1 :], *proof[i + 1 :]]
        assert not verify_inclusion(leaf, index, size, tampered, root)
    for wrong in {index - 1, index + 1, index ^ 1} - {index}:
        assert not verify_inclusion(leaf, wrong, size, proof, root)
    assert not verify_inclusion(leaf, index, size * 2, proof, root)
    assert not verify_inclusion(leaf, index, size // 2, proof, root)
    assert not verify_inclusion(LEAVES[index + 1], index, size, proof, root)
    assert not verify_inclusion(leaf, index, size, [*proof, SOME_HASH], root)
    if proof:
        assert not verify_inclusion(leaf, index, size, proof[:-1], root)
        assert not verify_inclusion(leaf, index, size, proof[1:], root)


@fast
@given(data=st.data(), new=sizes)
def test_every_consistency_proof_verifies_and_any_tampering_fails(data, new):
    old = data.draw(st.integers(0, new))
    proof = merkle.consistency_proof(old, new, STORE)
    r1, r2 = true_root(old), true_root(new)
    assert verify_consistency(old, new, r1, r2, proof)
    if old in (0, new):
        assert proof == []
        return

    for i in range(len(proof)):
        assert not verify_consistency(
            old, new, r1, r2, flip_bit(proof, i, data.draw(st.integers(0, 7)))
        )
    assert not verify_consistency(old - 1, new, r1, r2, proof)
    if old + 1 < new:
        assert not verify_consistency(old + 1, new, r1, r2, proof)
    assert not verify_consistency(old, new * 2, r1, r2, proof)
    assert not verify_consistency(old, new // 2, r1, r2, proof)
    assert not verify_consistency(old, new, r2, r1, proof)
    assert not verify_consistency(old, new, r1, true_root(new + 1), proof)
    assert not verify_consistency(old, new, r1, r2, proof[:-1])
    assert not verify_consistency(old, new, r1, r2, [*proof, SOME_HASH])


# --------------------------------------------------------------------------- a million leaves


@functools.cache
def periodic_node(level: int, index: int) -> bytes:
    """Node (level, index) of a tree whose leaf i hashes sha256(i % 256): memoized cheaply."""
    index %= 1 << max(8 - level, 0)  # from level 8 up, all nodes of a level are equal
    if level == 0:
        return hashlib.sha256(b"%d" % index).digest()
    return node_hash(periodic_node(level - 1, 2 * index), periodic_node(level - 1, 2 * index + 1))


class LazyTree:
    """A consistent store for a huge tree that never hashes a million leaves."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.calls: list[list[tuple[int, int]]] = []

    def get_nodes(self, keys):
        keys = list(keys)
        self.calls.append(keys)
        return {
            (level, index): periodic_node(level, index)
            for level, index in keys
            if (index + 1) << level <= self.size
        }


@pytest.mark.parametrize("size", [1_000_000, (1 << 20) + 12345])
def test_proofs_in_a_million_leaf_tree_read_one_batch_of_log_n_nodes(size):
    tree = LazyTree(size)
    bound = 4 * math.log2(size) + 4

    def run(operation):
        tree.calls.clear()
        result = operation()
        assert len(tree.calls) == 1
        assert len(tree.calls[0]) <= bound
        return result

    append = merkle.nodes_to_store_after_append
    root = run(lambda: merkle.root(size, tree))
    for index in (0, 1, 255, 256, 524_287, 524_288, size - 2, size - 1):
        proof = run(lambda index=index: merkle.inclusion_proof(index, size, tree))
        assert verify_inclusion(periodic_node(0, index), index, size, proof, root)
    for old in (1, 7, 256, 524_288, 999_999, size - 1):
        old_root = run(lambda old=old: merkle.root(old, tree))
        proof = run(lambda old=old: merkle.consistency_proof(old, size, tree))
        assert verify_consistency(old, size, old_root, root, proof)
    # Appending the last leaf of a 2**20 subtree completes 20 levels at once.
    for index in [i for i in (999_999, (1 << 20) - 1) if i <= size]:
        leaf = periodic_node(0, index)
        nodes = run(lambda index=index, leaf=leaf: append(index, leaf, tree))
        assert nodes == [(level, i, periodic_node(level, i)) for level, i, _ in nodes]
        assert len(nodes) == (~index & (index + 1)).bit_length()


# --------------------------------------------------------------------------- entries


def entry_line(index: int, payload: dict, kind: str = "donation") -> bytes:
    # RFC 8785 canonical JSON for ASCII keys, strings and integers is exactly this.
    obj = {"index": index, "kind": kind, "payload": payload, "time": "2022-09-17T10:00:00Z"}
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sample_lines(count: int) -> list[bytes]:
    lines = []
    for i in range(count):
        payload: dict = {"amount": f"{i}.50", "currency": "KGS"}
        if i % 3 == 1:
            payload["evidence"] = [hashlib.sha256(b"receipt %d" % i).hexdigest()]
        lines.append(entry_line(i, payload, "expense" if i % 3 == 1 else "donation"))
    return lines


def test_good_entries_give_their_leaf_hashes_and_evidence():
    lines = sample_lines(10)
    hashes, evidence = verify_entries(lines)
    assert hashes == [leaf_hash(line) for line in lines]
    assert evidence == {i: [hashlib.sha256(b"receipt %d" % i).hexdigest()] for i in (1, 4, 7)}
    assert verify_entries(lines, strict=True) == (hashes, evidence)


def test_entries_can_be_checked_from_a_later_start():
    lines = sample_lines(10)
    assert verify_entries(lines[4:], start=4)[0] == [leaf_hash(line) for line in lines[4:]]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (entry_line(4, {}), "its index is 4, expected 3"),
        (b'{"index":3,"kind":"donation"', "not valid JSON"),
        (b"[3]", "not a JSON object"),
        (b'{"index": 3, "kind": "donation"}', "not canonical JSON"),
        (b'{"index":3,"payload":{"evidence":["abc"]},"time":"x"}', "evidence"),
        (b'{"index":3,"payload":{"evidence":"' + b"a" * 64 + b'"}}', "evidence"),
        (b'{"index":3,"payload":{"evidence":["' + b"A" * 64 + b'"]}}', "evidence"),
        (b'{"index":3,"payload":{"evidence":[]},oops}', "not valid JSON"),
    ],
)
def test_a_bad_entry_is_named_by_its_index(bad, message):
    lines = sample_lines(6)
    lines[3] = bad
    with pytest.raises(VerificationError, match=message) as caught:
        verify_entries(lines)
    assert caught.value.index == 3
    assert str(caught.value).startswith("entry 3: ")


def test_strict_mode_parses_every_entry_as_json():
    lines = sample_lines(4)
    lines[2] = b'{"index":2,oops}'
    with pytest.raises(VerificationError, match="not valid JSON") as caught:
        verify_entries(lines, strict=True)
    assert caught.value.index == 2


def test_evidence_key_nested_deeper_than_the_payload_is_not_a_commitment():
    line = entry_line(0, {"lines": [{"evidence": "see receipt"}]})
    assert verify_entries([line]) == ([leaf_hash(line)], {})


# --------------------------------------------------------------------------- the command


class FakeLog:
    """An in-memory AidHub ledger API: committed entries, possibly served differently."""

    def __init__(self, lines: list[bytes], evidence: dict[str, bytes] | None = None) -> None:
        self.key = Ed25519PrivateKey.generate()
        self.origin = "aidhub.test/ledger"
        self.vkey = verifier_key(self.origin, self.key)
        self.evidence = evidence or {}
        self.per_request = 1000
        self.requests: list[str] = []
        self.commit(lines)

    def commit(self, lines: list[bytes]) -> None:
        self.lines = list(lines)
        self.served = list(lines)  # what /entries returns; tests may tamper with it
        self.store = MemoryStore()
        for line in lines:
            self.store.append(leaf_hash(line))

    def handle(self, path: str, query: dict[str, int]) -> tuple[int, bytes]:
        size = len(self.lines)

        def proof(hashes: list[bytes], **echo: int) -> bytes:
            return json.dumps({**echo, "hashes": [base64.b64encode(x).decode() for x in hashes]})

        if path == "/api/ledger/checkpoint":
            body = checkpoint_body(self.origin, size, merkle.root(size, self.store))
            return 200, sign_note(body, self.origin, self.key).encode()
        if path == "/api/ledger/entries":
            start, end = query["start"], min(query["end"], query["start"] + self.per_request)
            return 200, b"".join(line + b"\n" for line in self.served[start:end])
        if path == "/api/ledger/proof/inclusion":
            i, n = query["index"], query["size"]
            return 200, proof(merkle.inclusion_proof(i, n, self.store), index=i, size=n).encode()
        if path == "/api/ledger/proof/consistency":
            m, n = query["old"], query["new"]
            return 200, proof(merkle.consistency_proof(m, n, self.store), old=m, new=n).encode()
        if path.startswith("/ledger/evidence/") and path[17:] in self.evidence:
            return 200, self.evidence[path[17:]]
        return 404, b"not found"


@pytest.fixture
def serve():
    servers = []

    def start(log: FakeLog) -> str:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                url = urlsplit(self.path)
                query = {k: int(v[0]) for k, v in parse_qs(url.query).items()}
                log.requests.append(url.path)
                status, body = log.handle(url.path, query)
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def run_cli(capsys, host: str, log: FakeLog, state, *extra: str) -> tuple[int, str]:
    code = main([host, "--key", log.vkey, "--state", str(state), "--quiet", *extra])
    return code, capsys.readouterr().out.strip()


def evidence_log(count: int) -> FakeLog:
    # Receipts for more entries than the log holds, so it can grow in a test.
    receipts = [b"receipt %d" % i for i in range(100)]
    return FakeLog(sample_lines(count), {hashlib.sha256(r).hexdigest(): r for r in receipts})


def test_cli_accepts_a_good_log_then_its_extension(serve, capsys, tmp_path):
    log = evidence_log(20)
    host, state = serve(log), tmp_path / "state.json"
    code, out = run_cli(capsys, host, log, state, "--batch", "7")
    assert code == 0, out
    assert out.startswith(f"OK: 20 entries, root {json.loads(state.read_text())['root']}")
    assert "7 evidence files match" in out
    log.commit(sample_lines(33))
    code, out = run_cli(capsys, host, log, state)
    assert code == 0, out
    assert "consistent with the checkpoint of size 20 seen before" in out
    assert json.loads(state.read_text())["size"] == 33


def test_cli_accepts_an_empty_log_and_rejects_a_wrong_empty_root(serve, capsys, tmp_path):
    log = FakeLog([])
    host = serve(log)
    code, out = run_cli(capsys, host, log, tmp_path / "s.json")
    assert (code, out.split(",")[0]) == (0, "OK: 0 entries")
    log.handle = lambda path, query: (  # a checkpoint that lies about the empty root
        200,
        sign_note(checkpoint_body(log.origin, 0, bytes(32)), log.origin, log.key).encode(),
    )
    code, out = run_cli(capsys, host, log, tmp_path / "t.json")
    assert code == 1
    assert out.startswith("FAILED: root mismatch: checkpoint says AAAA"), out


def test_cli_copes_with_a_server_returning_fewer_entries_than_asked(serve, capsys, tmp_path):
    log = evidence_log(50)
    log.per_request = 3
    code, out = run_cli(capsys, serve(log), log, tmp_path / "s.json", "--skip-evidence")
    assert code == 0, out


@pytest.mark.parametrize(("size", "bad"), [(1, 0), (20, 13), (33, 32), (64, 0), (100, 57)])
def test_cli_names_the_altered_entry_with_few_inclusion_proofs(serve, capsys, tmp_path, size, bad):
    log = FakeLog(sample_lines(size))
    log.served[bad] = entry_line(bad, {"amount": "999999.00", "currency": "KGS"})
    code, out = run_cli(capsys, serve(log), log, tmp_path / "s.json", "--skip-evidence")
    assert code == 1
    assert out.startswith(f"FAILED: entry {bad}: leaf hash does not match"), out
    assert "root mismatch: checkpoint says" in out
    assert log.requests.count("/api/ledger/proof/inclusion") <= size.bit_length() + 1
    assert not (tmp_path / "s.json").exists()


def test_cli_notices_a_shrunken_log(serve, capsys, tmp_path):
    log = evidence_log(20)
    host, state = serve(log), tmp_path / "s.json"
    assert run_cli(capsys, host, log, state)[0] == 0
    log.commit(sample_lines(15))
    code, out = run_cli(capsys, host, log, state)
    assert (code, out) == (
        1,
        "FAILED: the log shrank: it has 15 entries, but had 20 when last checked",
    )


def test_cli_notices_rewritten_history_even_when_the_new_log_is_self_consistent(
    serve, capsys, tmp_path
):
    log = evidence_log(20)
    host, state = serve(log), tmp_path / "s.json"
    assert run_cli(capsys, host, log, state)[0] == 0
    rewritten = sample_lines(25)
    rewritten[3] = entry_line(3, {"amount": "1.00", "currency": "KGS"})
    log.commit(rewritten)
    code, out = run_cli(capsys, host, log, state)
    assert code == 1
    assert "does not extend the one of size 20 seen before: history was rewritten" in out
    assert json.loads(state.read_text())["size"] == 20


def test_cli_rejects_a_checkpoint_signed_by_another_key(serve, capsys, tmp_path):
    log = FakeLog(sample_lines(5))
    host = serve(log)
    log.key = Ed25519PrivateKey.generate()  # the server now signs with a key we do not trust
    code, out = run_cli(capsys, host, log, tmp_path / "s.json")
    assert code == 1
    assert out.startswith("FAILED: signature or checkpoint:"), out


def test_cli_names_the_entry_of_a_doctored_evidence_file(serve, capsys, tmp_path):
    log = evidence_log(9)
    digest = hashlib.sha256(b"receipt 4").hexdigest()
    log.evidence[digest] = b"a nicer receipt"
    code, out = run_cli(capsys, serve(log), log, tmp_path / "s.json")
    assert (code, out[:-65]) == (1, f"FAILED: evidence {digest} of entry 4: hash mismatch, got")
    del log.evidence[digest]
    code, out = run_cli(capsys, serve(log), log, tmp_path / "s.json")
    assert (code, out) == (1, f"FAILED: evidence {digest} of entry 4: not available (HTTP 404)")
    assert run_cli(capsys, serve(log), log, tmp_path / "s.json", "--skip-evidence")[0] == 0


def test_cli_names_an_entry_with_the_wrong_index(serve, capsys, tmp_path):
    log = FakeLog(sample_lines(12))
    log.served[5] = entry_line(6, {})
    code, out = run_cli(capsys, serve(log), log, tmp_path / "s.json")
    assert (code, out) == (1, "FAILED: entry 5: its index is 6, expected 5")


def test_cli_exits_2_when_the_server_cannot_be_reached(capsys, tmp_path):
    log = FakeLog([])
    code, out = run_cli(capsys, "http://127.0.0.1:9", log, tmp_path / "s.json", "--timeout", "5")
    assert code == 2
    assert out.startswith("ERROR: could not verify:"), out


def test_cli_exits_2_on_a_malformed_key(capsys, tmp_path):
    code = main(["http://127.0.0.1:9", "--key", "nonsense", "--state", str(tmp_path / "s")])
    assert code == 2
    assert "--key" in capsys.readouterr().out
