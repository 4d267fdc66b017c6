"""The Merkle tree's stored subtree hashes, read from the database in one query."""

from collections.abc import Collection, Mapping

from django.db.models import Q

from .merkle import NodeKey
from .models import TreeNode


class DatabaseNodeStore:
    def get_nodes(self, keys: Collection[NodeKey]) -> Mapping[NodeKey, bytes]:
        if not keys:
            return {}
        condition = Q()
        by_level: dict[int, list[int]] = {}
        for level, position in keys:
            by_level.setdefault(level, []).append(position)
        for level, positions in by_level.items():
            condition |= Q(level=level, position__in=positions)
        rows = TreeNode.objects.filter(condition).values_list("level", "position", "hash")
        return {(level, position): bytes(node) for level, position, node in rows}
