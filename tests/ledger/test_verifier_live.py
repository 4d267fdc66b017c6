"""The standalone verifier against a live AidHub server, as a donor would run it."""

import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection, transaction

from ledger import services
from ledger.keys import signer
from ledger.models import LedgerEntry, LedgerHead, LedgerRef, LedgerTotal, TreeNode
from ledger.triggers import create_triggers, drop_triggers

from . import scenario
from .factories import donation

VERIFIER = Path(__file__).resolve().parents[2] / "ledger" / "verify.py"


def run_verifier(url: str, state: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(VERIFIER), url, "--key", signer().verifier_key, "--state", str(state)],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def ledger(media, ledger_transactional_db):
    return scenario.build()


def test_verifier_passes_on_an_honest_ledger_and_checks_growth(live_server, ledger, tmp_path):
    state = tmp_path / "state.json"
    first = run_verifier(live_server.url, state)
    assert first.returncode == 0, first.stdout + first.stderr
    assert first.stdout.startswith("OK: 9 entries")
    services.append(kind="donation", payload=donation(amount="77.00"))
    services.checkpoint_sign()
    second = run_verifier(live_server.url, state)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "OK: 10 entries" in second.stdout
    assert "size 9" in second.stdout


def test_verifier_names_an_entry_changed_behind_the_triggers(live_server, ledger, tmp_path):
    entry = LedgerEntry.objects.get(index=3)
    forged = bytes(entry.leaf).replace(b'"50"', b'"5"')
    assert forged != bytes(entry.leaf)
    with transaction.atomic():
        drop_triggers(connection)
        with connection.cursor() as cursor:
            cursor.execute('UPDATE ledger_ledgerentry SET leaf = %s WHERE "index" = 3', [forged])
        create_triggers(connection)
    result = run_verifier(live_server.url, tmp_path / "state.json")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAILED: entry 3" in result.stdout


def test_verifier_catches_a_rewritten_history_even_when_it_is_re_signed(
    live_server, ledger, tmp_path
):
    state = tmp_path / "state.json"
    assert run_verifier(live_server.url, state).returncode == 0
    # The operator rebuilds the whole ledger with one amount changed and signs it anew.
    with transaction.atomic():
        drop_triggers(connection)
        for model in (LedgerRef, LedgerTotal):
            model.objects.all().delete()
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM ledger_receiptcode")
            cursor.execute("UPDATE ledger_ledgerentry SET reverses_id = NULL")
            cursor.execute("DELETE FROM ledger_ledgerentry")
            cursor.execute("DELETE FROM ledger_treenode")
        LedgerHead.objects.update(size=0)
        create_triggers(connection)
    for n in range(10):
        services.append(kind="donation", payload=donation(amount=f"{n + 1}.00"))
    services.checkpoint_sign()
    assert TreeNode.objects.filter(level=0).count() == 10
    result = run_verifier(live_server.url, state)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAILED" in result.stdout
    assert "does not extend the one of size 9 seen before" in result.stdout


def test_verifier_passes_on_the_demo_and_fails_on_a_tampered_copy(
    live_server, media, ledger_transactional_db, tmp_path
):
    from django.core.management import call_command

    call_command("seed_demo")
    honest = run_verifier(live_server.url, tmp_path / "state.json")
    assert honest.returncode == 0, honest.stdout + honest.stderr
    victim = LedgerEntry.objects.filter(kind="delivery").order_by("index").first()  # Isfana
    forged = bytes(victim.leaf).replace(b'"people":340', b'"people":3400')
    with transaction.atomic():
        drop_triggers(connection)
        LedgerEntry.objects.filter(pk=victim.pk).update(leaf=forged)
        create_triggers(connection)
    tampered = run_verifier(live_server.url, tmp_path / "state2.json")
    assert tampered.returncode == 1
    assert f"FAILED: entry {victim.index}" in tampered.stdout
