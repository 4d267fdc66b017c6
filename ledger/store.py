"""The Merkle tree's stored subtree hashes, read from the database in one query."""

from collections.abc import Collection, Mapping

from django.db import connection

from .merkle import NodeKey
from .models import TreeNode


class DatabaseNodeStore:
    def get_nodes(self, keys: Collection[NodeKey]) -> Mapping[NodeKey, bytes]:
        if not keys:
            return {}
        # A row-value IN list (PostgreSQL and SQLite alike): one indexed lookup per key on the
        # (level, position) primary key, and far less Python than an ORM OR-of-Qs would build.
        keys = list(keys)
        rows_sql = ", ".join(["(%s, %s)"] * len(keys))
        table = TreeNode._meta.db_table
        sql = f"SELECT level, position, hash FROM {table} WHERE (level, position) IN ({rows_sql})"  # noqa: S608 - only placeholders are interpolated
        params = [value for key in keys for value in key]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return {(level, position): bytes(node) for level, position, node in cursor.fetchall()}
