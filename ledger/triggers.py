"""Database triggers that make the ledger append-only, for PostgreSQL and SQLite.

Used by migration 0002 and by tests that must drop them to simulate an attacker with raw SQL.
The triggers stop mistakes and application bugs; a determined database administrator could drop
them, which is why every entry is also committed to by the signed Merkle tree.
"""

from django.db.backends.base.base import BaseDatabaseWrapper

PROTECTED_TABLES = ("ledger_ledgerentry", "ledger_treenode")

POSTGRES_FUNCTION = """
CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the public ledger is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;
"""


def create_statements(vendor: str) -> list[str]:
    statements = []
    if vendor == "postgresql":
        statements.append(POSTGRES_FUNCTION)
        for table in PROTECTED_TABLES:
            statements.append(
                f"CREATE OR REPLACE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();"
            )
    elif vendor == "sqlite":
        for table in PROTECTED_TABLES:
            for op in ("UPDATE", "DELETE"):
                statements.append(
                    f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} "
                    f"BEFORE {op} ON {table} BEGIN SELECT RAISE(ABORT, "
                    f"'the public ledger is append-only: {op} on {table} is refused'); END;"
                )
    else:
        raise NotImplementedError(f"no append-only triggers for {vendor}")
    return statements


def drop_statements(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {t}_append_only ON {t};" for t in PROTECTED_TABLES]
    return [
        f"DROP TRIGGER IF EXISTS {t}_no_{op};"
        for t in PROTECTED_TABLES
        for op in ("update", "delete")
    ]


def ensure_triggers(connection: BaseDatabaseWrapper, **kwargs) -> None:
    """After every `migrate` and test flush: put back any trigger that is missing."""
    if set(PROTECTED_TABLES) <= set(connection.introspection.table_names()):
        create_triggers(connection)


def create_triggers(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        for statement in create_statements(connection.vendor):
            cursor.execute(statement)


def drop_triggers(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        for statement in drop_statements(connection.vendor):
            cursor.execute(statement)
