"""Server-side Merkle tree math over stored complete-subtree hashes (RFC 9162 section 2.1).

The server keeps, for every complete aligned subtree, its hash: node (level k, index j)
covers leaves [j * 2**k, (j + 1) * 2**k); level 0 holds the leaf hashes. Every operation
here plans the (level, index) keys it needs, reads them with ONE `NodeStore.get_nodes` call
and computes the answer from O(log n) hashes, never a pass over the leaves.

Hashing and the shape of proofs come from `ledger.verify`, the file donors run, so the server
cannot drift from the verifier. No Django here: the Django-backed store lives elsewhere.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Protocol

from ledger.verify import (
    EMPTY_ROOT,
    HASH_SIZE,
    consistency_path_ranges,
    inclusion_path_ranges,
    node_hash,
)

__all__ = [
    "MemoryStore",
    "NodeKey",
    "NodeStore",
    "consistency_proof",
    "inclusion_proof",
    "nodes_to_store_after_append",
    "root",
]

NodeKey = tuple[int, int]
"""(level, index): the complete subtree over leaves [index * 2**level, (index + 1) * 2**level)."""


class NodeStore(Protocol):
    """Read access to stored complete-subtree hashes."""

    def get_nodes(self, keys: Collection[NodeKey]) -> Mapping[NodeKey, bytes]:
        """Return the hashes of the given nodes; missing nodes may be left out."""
        ...


def _subtree_keys(start: int, end: int) -> list[NodeKey]:
    """The complete aligned subtrees that make up the range [start, end), largest first.

    Valid for the ranges RFC 9162 trees are built from: [0, n) and any node of such a tree,
    whose start is a multiple of the largest power of two in its length.
    """
    keys: list[NodeKey] = []
    pos, n = start, end - start
    for level in range(n.bit_length() - 1, -1, -1):
        if n >> level & 1:
            if pos & ((1 << level) - 1):
                raise ValueError(f"range [{start}, {end}) is not a node of a Merkle tree")
            keys.append((level, pos >> level))
            pos += 1 << level
    return keys


def _fetch(store: NodeStore, keys: Iterable[NodeKey]) -> Mapping[NodeKey, bytes]:
    wanted = list(dict.fromkeys(keys))  # de-duplicated, order kept for readable logs
    if not wanted:
        return {}
    nodes = store.get_nodes(wanted)
    for key in wanted:
        if key not in nodes:
            level, index = key
            raise LookupError(f"node store has no hash for node (level {level}, index {index})")
    return nodes


def _fold(keys: list[NodeKey], nodes: Mapping[NodeKey, bytes]) -> bytes:
    # MTH of a range is its complete subtrees folded right-to-left (RFC 9162 2.1.1 unrolled).
    result = nodes[keys[-1]]
    for key in reversed(keys[:-1]):
        result = node_hash(nodes[key], result)
    return result


def _check_size(size: int, what: str = "tree size") -> None:
    if size < 0:
        raise ValueError(f"{what} {size} is negative")


def nodes_to_store_after_append(
    index: int, leaf: bytes, store: NodeStore
) -> list[tuple[int, int, bytes]]:
    """The nodes to store once the leaf hash `leaf` is appended at leaf index `index`.

    Returns (level, node index, hash) for level 0 and for every complete subtree this leaf
    completes, bottom up; the left siblings are read from `store` in one call.
    """
    if index < 0:
        raise ValueError(f"leaf index {index} is negative")
    if len(leaf) != HASH_SIZE:
        raise ValueError(f"a leaf hash is {HASH_SIZE} bytes, got {len(leaf)}")
    # Leaf i completes one subtree per trailing 1 bit of i; each needs its left half.
    completed = (~index & (index + 1)).bit_length() - 1
    siblings = [(level, (index >> level) - 1) for level in range(completed)]
    nodes = _fetch(store, siblings)
    out = [(0, index, leaf)]
    h = leaf
    for level, sibling in enumerate(siblings, 1):
        h = node_hash(nodes[sibling], h)
        out.append((level, index >> level, h))
    return out


def root(size: int, store: NodeStore) -> bytes:
    """MTH of the first `size` leaves."""
    _check_size(size)
    if size == 0:
        return EMPTY_ROOT
    keys = _subtree_keys(0, size)
    return _fold(keys, _fetch(store, keys))


def _hashes_of_ranges(ranges: list[tuple[int, int]], store: NodeStore) -> list[bytes]:
    # A proof range at the right edge of the tree may be incomplete; it is then made of
    # several stored subtrees. Plan all of them first so the store is read once.
    plans = [_subtree_keys(a, b) for a, b in ranges]
    nodes = _fetch(store, (key for plan in plans for key in plan))
    return [_fold(plan, nodes) for plan in plans]


def inclusion_proof(index: int, size: int, store: NodeStore) -> list[bytes]:
    """PATH(index, D[size]) of RFC 9162 section 2.1.3.1."""
    _check_size(size)
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is not in a tree of size {size}")
    return _hashes_of_ranges(inclusion_path_ranges(index, size), store)


def consistency_proof(old: int, new: int, store: NodeStore) -> list[bytes]:
    """PROOF(old, D[new]) of RFC 9162 section 2.1.4.1; empty when old is 0 or equals new."""
    _check_size(old, "old tree size")
    _check_size(new, "new tree size")
    if old > new:
        raise ValueError(f"old tree size {old} is larger than new tree size {new}")
    return _hashes_of_ranges(consistency_path_ranges(old, new), store)


class MemoryStore:
    """A dict-backed NodeStore for tests and benchmarks."""

    def __init__(self) -> None:
        self.nodes: dict[NodeKey, bytes] = {}
        self.size = 0

    def get_nodes(self, keys: Collection[NodeKey]) -> Mapping[NodeKey, bytes]:
        return {key: self.nodes[key] for key in keys if key in self.nodes}

    def append(self, leaf_hash: bytes) -> int:
        """Append a leaf hash, store the nodes it completes, and return its index."""
        index = self.size
        for level, node_index, h in nodes_to_store_after_append(index, leaf_hash, self):
            self.nodes[(level, node_index)] = h
        self.size += 1
        return index
