"""Concurrent appends on PostgreSQL: unique, gapless indexes and a root that recomputes."""

import threading

import pytest
from django.db import connection, connections, transaction

from ledger import merkle, services
from ledger.models import LedgerEntry, LedgerTotal
from ledger.store import DatabaseNodeStore
from ledger.verify import leaf_hash, root_from_leaf_hashes

from .factories import donation

THREADS = 8
APPENDS_PER_THREAD = 15


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_threads_appending_at_once_give_a_gapless_ledger(ledger_transactional_db):
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            barrier.wait()
            for i in range(APPENDS_PER_THREAD):
                with transaction.atomic():
                    services.append(kind="donation", payload=donation(amount=f"{n + 1}.{i:02d}"))
        except BaseException as exc:  # reported below, with the thread's context
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors

    total = THREADS * APPENDS_PER_THREAD
    indexes = list(LedgerEntry.objects.order_by("index").values_list("index", flat=True))
    assert indexes == list(range(total))
    assert services.tree_size() == total
    stored = LedgerEntry.objects.order_by("index").values_list("leaf", flat=True)
    leaves = [bytes(leaf) for leaf in stored]
    assert all(leaf.startswith(f'{{"index":{i},'.encode()) for i, leaf in enumerate(leaves))
    recomputed = root_from_leaf_hashes([leaf_hash(leaf) for leaf in leaves])
    assert merkle.root(total, DatabaseNodeStore()) == recomputed
    expected = sum(
        int(f"{n + 1}{i:02d}") for n in range(THREADS) for i in range(APPENDS_PER_THREAD)
    )
    money_in = LedgerTotal.objects.get(scope="all", currency="KZT").money_in
    assert money_in * 100 == expected
