#!/usr/bin/env python3
"""Benchmark of the public ledger on PostgreSQL. It prints figures; it never passes or fails.

Run from the project folder (PostgreSQL must be running; the database is created if missing)::

    .venv/bin/python bench/ledger.py [--entries 1000000] [--appends 2000] [--http]
        [--database-url postgres://postgres@127.0.0.1:5432/aidhub_bench]

What it measures, in this order:

1. bulk load: fills the bench ledger up to --entries donation entries with `ledger.bulk`
   (COPY), keeping every invariant `ledger.services.append` keeps (so `ledger/verify.py`
   passes), then signs a checkpoint;
2. inclusion and consistency proofs at that size: `ledger.queries` (one SQL query each) and
   the HTTP endpoint through Django's test client;
3. the verifier's own work over every entry (`verify_entries` + `root_from_leaf_hashes`) beside
   plain SHA-256 over the same bytes, and with --http the real `ledger/verify.py` against a
   gunicorn server started here;
4. appends per second through the real `ledger.services.append`, 1 thread and 4 threads,
   after everything else (so they run at the loaded size and later runs start a bit bigger).

The report is printed as Markdown and written to bench/results/<date>-ledger.md. The bench
database is the only one touched: never `test`, never the project's SQLite file.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import random
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this file's folder comes first on sys.path, and this file is called
# "ledger": put the project folder there instead, so `import ledger` finds the app.
if sys.path and Path(sys.path[0] or ".").resolve() == ROOT / "bench":
    sys.path[0] = str(ROOT)

from bench.common import (  # noqa: E402
    free_port,
    machine_header,
    percentile,
    signing_key,
    write_report,
)

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/aidhub_bench"
BENCH_ORIGIN = "bench.aidhub/ledger"
# Variants of a donation: realistic spread of fundraisers, channels and currencies, and the
# running totals then have more than one row to keep right.
FUNDRAISERS = [
    {"id": "batken-2022", "title": "Aid for Batken evacuees"},
    {"id": "osh-winter", "title": "Winter clothes for Osh"},
    {"id": "leilek-water", "title": "Drinking water for Leilek"},
]
CHANNELS = ["card", "bank_transfer", "cash", "e_wallet"]
CURRENCIES = ["KZT", "KZT", "KGS", "USD"]  # weighted: most donations in tenge


# --------------------------------------------------------------------------- set-up


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000, help="ledger size to reach")
    parser.add_argument("--database-url", default=DEFAULT_URL, help="the bench database")
    parser.add_argument("--appends", type=int, default=2000, help="appends per thread setting")
    parser.add_argument("--proofs", type=int, default=200, help="proofs timed of each kind")
    parser.add_argument("--chunk", type=int, default=50_000, help="entries per COPY chunk")
    parser.add_argument("--http", action="store_true", help="also run ledger/verify.py over HTTP")
    parser.add_argument("--seed", type=int, default=20220918, help="random seed")
    parser.add_argument(
        "--results", type=Path, default=ROOT / "bench" / "results", help="report folder"
    )
    args = parser.parse_args()
    db_name = urlsplit(args.database_url).path.lstrip("/")
    if db_name in ("", "test", "postgres", "template0", "template1") or "sqlite" in db_name:
        parser.error(f"refusing to benchmark in database {db_name!r}; name a bench database")
    return args


def ensure_database(url: str) -> bool:
    """Create the bench database if missing; True if it was created."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return not exists


def configure_django(url: str) -> None:
    """Point settings at the bench database before Django starts; production-like options."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "aidhub.settings"
    os.environ["DATABASE_URL"] = url
    os.environ.pop("REDIS_URL", None)  # Celery eager, cache in memory: no broker needed
    os.environ.pop("DATABASE_POOL", None)
    os.environ.pop("AIDHUB_PRODUCTION", None)
    # DEBUG off: the debug cursor records every query and would slow the figures down.
    os.environ["DEBUG"] = "0"
    os.environ["SECRET_KEY"] = "bench-" + secrets.token_urlsafe(40)
    os.environ["ALLOWED_HOSTS"] = "127.0.0.1,localhost,testserver"
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ["LEDGER_ORIGIN"] = BENCH_ORIGIN
    os.environ["LEDGER_KEY_NAME"] = BENCH_ORIGIN
    os.environ.pop("LEDGER_SIGNING_KEY_FILE", None)
    os.environ["LEDGER_SIGNING_KEY"] = signing_key(
        BENCH_ORIGIN, b"aidhub ledger benchmark key: public, never for a real log"
    )

    import django
    from django.core.management import call_command

    # WhiteNoise warns that collectstatic never ran; the API under test serves no static files.
    warnings.filterwarnings("ignore", message="No directory at")

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def ms(ns: int | float) -> float:
    return ns / 1e6


@dataclass
class Report:
    """Markdown sections collected while the phases run."""

    sections: list[tuple[str, list[str]]] = field(default_factory=list)

    def add(self, title: str, lines: list[str]) -> None:
        self.sections.append((title, lines))
        progress(f"[{title}] done")

    def markdown(self, header: list[str]) -> str:
        out = [*header]
        for title, lines in self.sections:
            out += ["", f"## {title}", "", *lines]
        return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- donations


def donation_payload(rng: random.Random, received_at: str) -> dict:
    """A valid donation payload, shaped like tests/ledger/factories.donation."""
    currency = rng.choice(CURRENCIES)
    amount = random_amount(rng, currency)
    return {
        "fundraiser": rng.choice(FUNDRAISERS),
        "money": {"amount": amount, "currency": currency},
        "converted": {"amount": amount, "currency": currency},
        "rate": "1",
        "rate_source": "same currency",
        "channel": rng.choice(CHANNELS),
        "received_at": received_at,
    }


def random_amount(rng: random.Random, currency: str) -> str:
    # Round sums are common (500, 1000, 5000 tenge), the odd one has cents.
    whole = (
        rng.choice((500, 1000, 2000, 5000, 10000)) if rng.random() < 0.6 else rng.randint(1, 50000)
    )
    if currency == "USD":
        whole = max(1, whole // 400)
    cents = 0 if rng.random() < 0.8 else rng.randint(1, 99)
    return f"{whole}.{cents:02d}"


# --------------------------------------------------------------------------- bulk load


def bulk_load(target: int, chunk: int, seed: int) -> list[str]:
    """Append donations up to `target` entries through `ledger.bulk` (COPY, one transaction a
    chunk), keeping every invariant `ledger.services.append` keeps."""
    from django.db import connection

    from ledger import bulk, services
    from ledger.models import LedgerEntry

    size = services.tree_size()
    if size >= target:
        return [f"No load needed: the bench ledger already has {size:,} entries."]
    rng = random.Random(seed + size)
    # Entry times spread evenly over the last 30 days (after any existing entry), never in
    # the future, non-decreasing like real appends.
    last = LedgerEntry.objects.order_by("-index").values_list("created_at", flat=True)
    now = int(time.time())
    first_ts = max(int(last[0].timestamp()) if last else 0, now - 30 * 86400)
    count = target - size

    def rows() -> Iterator[bulk.Row]:
        for n in range(count):
            moment = datetime.fromtimestamp(first_ts + n * (now - first_ts) // count, UTC)
            yield "donation", donation_payload(rng, services.utc_timestamp(moment)), moment

    started = time.perf_counter()

    def report(done: int) -> None:
        elapsed = time.perf_counter() - started
        progress(f"loaded {size + done:,} of {target:,} entries ({done / elapsed:,.0f}/s)")

    bulk.append_many(rows(), chunk=chunk, on_chunk=report)
    load = time.perf_counter() - started

    # A real ledger grows slowly and autovacuum keeps statistics and visibility maps current;
    # after a bulk load that has to be done by hand, or the first reads pay for it.
    vacuum_started = time.perf_counter()
    with connection.cursor() as cur:
        for table in ("ledger_ledgerentry", "ledger_treenode", "ledger_ledgerref"):
            cur.execute("VACUUM (ANALYZE) " + table)
    vacuum = time.perf_counter() - vacuum_started
    return [
        f"- loaded {count:,} donation entries (from size {size:,} to {target:,}) with "
        f"`ledger.bulk.append_many` in **{load:.1f} s** ({count / load:,.0f} entries/s, "
        f"one transaction per {chunk:,})",
        f"- `VACUUM (ANALYZE)` of the three tables afterwards: {vacuum:.1f} s",
    ]


def check_totals() -> str:
    """Running totals equal the sums over the entries (one full scan; not timed)."""
    from django.db.models import Sum

    from ledger.models import LedgerEntry, LedgerTotal

    sums = dict(
        LedgerEntry.objects.filter(direction="in")
        .values("currency")
        .annotate(total=Sum("amount"))
        .values_list("currency", "total")
    )
    kept = dict(LedgerTotal.objects.filter(scope="all").values_list("currency", "money_in"))
    return "yes" if sums == kept else f"NO: entries {sums}, totals {kept}"


# --------------------------------------------------------------------------- proofs


def timed(calls: list[Callable[[], object]], warmup: int = 5) -> list[float]:
    """Milliseconds per call, after a few untimed calls to warm caches and connections."""
    for call in calls[:warmup]:
        call()
    out = []
    for call in calls:
        t0 = time.perf_counter_ns()
        call()
        out.append(ms(time.perf_counter_ns() - t0))
    return out


def summary(values: list[float]) -> str:
    return (
        f"median **{statistics.median(values):.2f} ms**, p95 {percentile(values, 0.95):.2f} ms, "
        f"max {max(values):.2f} ms"
    )


def bench_proofs(size: int, count: int, rng: random.Random) -> list[str]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from ledger import merkle, queries
    from ledger.store import DatabaseNodeStore

    reads: list[int] = []

    class CountingStore(DatabaseNodeStore):
        def get_nodes(self, keys: Collection[tuple[int, int]]) -> Mapping:
            reads.append(len(keys))
            return super().get_nodes(keys)

    indexes = [rng.randrange(size) for _ in range(count)]
    olds = [rng.randrange(1, size) for _ in range(count)]
    lines = [f"Tree size **{size:,}**; {count} random leaves / old sizes each.", ""]

    inclusion = timed([lambda i=i: queries.inclusion_proof(i, size) for i in indexes])
    consistency = timed([lambda o=o: queries.consistency_proof(o, size) for o in olds])

    # Counted in a separate untimed pass so the counting does not weigh on the timings.
    reads.clear()
    lengths = [len(merkle.inclusion_proof(i, size, CountingStore())) for i in indexes]
    inclusion_reads = list(reads)
    reads.clear()
    c_lengths = [len(merkle.consistency_proof(o, size, CountingStore())) for o in olds]
    consistency_reads = list(reads)
    with CaptureQueriesContext(connection) as captured:
        queries.inclusion_proof(indexes[0], size)
    proof_queries = len(captured.captured_queries)
    node_sql = captured.captured_queries[-1]["sql"]
    with connection.cursor() as cur:
        cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + node_sql)
        plan = [row[0] for row in cur.fetchall()]

    client = Client()
    http_indexes = [rng.randrange(size) for _ in range(50)]
    status: set[int] = set()

    def get(i: int) -> None:
        response = client.get(f"/api/ledger/proof/inclusion?index={i}&size={size}")
        status.add(response.status_code)

    http = timed([lambda i=i: get(i) for i in http_indexes])

    def spread(values: list[int]) -> str:
        return f"{min(values)}–{max(values)} (median {statistics.median(values):g})"

    lines += [
        "| what | time | stored hashes read per proof | proof length |",
        "| --- | --- | --- | --- |",
        f"| `queries.inclusion_proof(index, {size})` | {summary(inclusion)} "
        f"| {spread(inclusion_reads)} | {spread(lengths)} |",
        f"| `queries.consistency_proof(old, {size})` | {summary(consistency)} "
        f"| {spread(consistency_reads)} | {spread(c_lengths)} |",
        f"| `GET /api/ledger/proof/inclusion` (test client, 50 requests) | {summary(http)} | | |",
        "",
        f"SQL queries per `queries.inclusion_proof`: {proof_queries} (head size + one node read)."
        f" HTTP status codes seen: {sorted(status)}.",
        "",
        "Plan of the node read for one inclusion proof (`EXPLAIN (ANALYZE, BUFFERS)`, "
        "first and last lines):",
        "",
        "```",
        *plan[:6],
        *(["..."] if len(plan) > 9 else []),
        *plan[-3:],
        "```",
    ]
    return lines


# --------------------------------------------------------------------------- verifier


def fetch_leaves(size: int) -> Iterator[bytes]:
    from ledger.models import LedgerEntry

    rows = LedgerEntry.objects.filter(index__lt=size).order_by("index")
    for leaf in rows.values_list("leaf", flat=True).iterator(chunk_size=20_000):
        yield bytes(leaf)


def bench_verifier(size: int) -> list[str]:
    from ledger import verify
    from ledger.models import Checkpoint

    t0 = time.perf_counter()
    # Exactly what /api/ledger/entries serves: each leaf followed by a newline.
    blob = b"".join(leaf + b"\n" for leaf in fetch_leaves(size))
    fetch = time.perf_counter() - t0

    t0 = time.perf_counter()
    lines = blob.split(b"\n")
    lines.pop()  # the newline ending the last line
    split = time.perf_counter() - t0
    if len(lines) != size:
        raise RuntimeError(f"fetched {len(lines)} lines for a tree of {size}")

    sha256 = hashlib.sha256
    t0 = time.perf_counter()
    for line in lines:
        sha256(line).digest()
    plain_lines = time.perf_counter() - t0
    t0 = time.perf_counter()
    sha256(blob).digest()
    plain_blob = time.perf_counter() - t0

    t0 = time.perf_counter()
    hashes, evidence = verify.verify_entries(lines)
    entries = time.perf_counter() - t0
    t0 = time.perf_counter()
    root = verify.root_from_leaf_hashes(hashes)
    tree = time.perf_counter() - t0
    verifier = entries + tree

    checkpoint = Checkpoint.objects.filter(size=size).first()
    matches = "yes" if checkpoint and bytes(checkpoint.root_hash) == root else "no"
    mib = len(blob) / 2**20
    return [
        f"{size:,} entries, {mib:,.1f} MiB of JSON Lines (mean {len(blob) / size:.0f} bytes a "
        f"line), fetched from PostgreSQL in {fetch:.1f} s (not timed below); split into lines "
        f"{split * 1000:.0f} ms.",
        "",
        "| what | time | per entry |",
        "| --- | --- | --- |",
        f"| plain SHA-256, one hash per line | **{plain_lines:.2f} s** "
        f"| {plain_lines / size * 1e6:.2f} µs |",
        f"| plain SHA-256 over the whole blob at once | {plain_blob:.2f} s "
        f"| {plain_blob / size * 1e6:.2f} µs |",
        f"| `verify.verify_entries` (checks + leaf hashes) | {entries:.2f} s "
        f"| {entries / size * 1e6:.2f} µs |",
        f"| `verify.root_from_leaf_hashes` | {tree:.2f} s | {tree / size * 1e6:.2f} µs |",
        f"| verifier total | **{verifier:.2f} s** | {verifier / size * 1e6:.2f} µs |",
        "",
        f"- ratio verifier / plain SHA-256 per line: **{verifier / plain_lines:.2f}×**; "
        f"verifier / SHA-256 of the whole blob: {verifier / plain_blob:.2f}×",
        f"- root matches checkpoint: **{matches}** (checkpoint of size {size:,}); "
        f"entries naming evidence: {len(evidence)}",
    ]


def wait_until_up(server: subprocess.Popen, url: str, seconds: float = 60) -> bool:
    """Poll `url` until it answers 200; False if the server died or the time ran out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and server.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (our server)
                if response.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    return False


def bench_cli(size: int) -> list[str]:
    """The real standalone verifier against a real server, end to end over HTTP."""
    from django.conf import settings

    from ledger import keys

    port = free_port()
    host = f"http://127.0.0.1:{port}"
    gunicorn = [str(ROOT / ".venv" / "bin" / "gunicorn"), "aidhub.wsgi:application"]
    gunicorn += ["--bind", f"127.0.0.1:{port}", "--workers", "2", "--timeout", "120"]
    with tempfile.TemporaryFile() as server_log, tempfile.TemporaryDirectory() as tmp:
        # The same environment as this process: bench database, key, DEBUG off.
        server = subprocess.Popen(
            gunicorn, cwd=ROOT, env=os.environ.copy(), stdout=server_log, stderr=subprocess.STDOUT
        )
        try:
            if not wait_until_up(server, f"{host}/api/ledger/checkpoint"):
                server_log.seek(0)
                raise RuntimeError("gunicorn did not start:\n" + server_log.read().decode())
            command = [sys.executable, str(ROOT / "ledger" / "verify.py"), host]
            command += ["--key", keys.signer().verifier_key, "--skip-evidence"]
            # A state file of its own, so no earlier run's state is compared or left behind.
            command += ["--state", str(Path(tmp) / "state.json")]
            progress(f"running ledger/verify.py against {host}")
            t0 = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
            elapsed = time.perf_counter() - t0
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    out = done.stdout.strip()
    verdict = out.splitlines()[-1] if out else done.stderr.strip()[-300:]
    per_response = settings.LEDGER_ENTRIES_PER_RESPONSE
    return [
        f"`ledger/verify.py {host} --key … --skip-evidence` against gunicorn (2 workers on the "
        f"same 2 cores), {size:,} entries, {per_response:,} per response "
        f"(LEDGER_ENTRIES_PER_RESPONSE), so {-(-size // per_response):,} requests:",
        "",
        f"- end to end: **{elapsed:.1f} s** ({size / elapsed:,.0f} entries/s), exit code "
        f"{done.returncode}",
        f"- its verdict: `{verdict[:200]}{'…' if len(verdict) > 200 else ''}`",
    ]


# --------------------------------------------------------------------------- appends


def bench_appends(per_setting: int, threads: int, seed: int) -> tuple[float, int, list[str]]:
    """Appends per second through the real `services.append`, each in its own transaction."""
    from django.db import connection, transaction

    from ledger import services

    per_thread = [per_setting // threads + (t < per_setting % threads) for t in range(threads)]
    errors: list[str] = []
    barrier = threading.Barrier(threads + 1)

    def work(t: int) -> None:
        rng = random.Random(seed * 100 + t)
        try:
            payloads = [
                donation_payload(rng, services.utc_timestamp(datetime.now(UTC)))
                for _ in range(per_thread[t])
            ]
            barrier.wait()
            for payload in payloads:
                with transaction.atomic():
                    services.append(kind="donation", payload=payload)
        except Exception as exc:  # reported, never swallowed: a failing append is news
            errors.append(f"thread {t}: {exc!r}")
            barrier.abort()
        finally:
            connection.close()  # this thread's own connection

    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for worker in workers:
        worker.start()
    with contextlib.suppress(threading.BrokenBarrierError):
        barrier.wait()  # broken only when a thread failed while preparing; see `errors`
    t0 = time.perf_counter()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - t0
    return elapsed, sum(per_thread), errors


def bench_all_appends(count: int, seed: int) -> list[str]:
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from ledger import services

    from_size = services.tree_size()
    rows = []
    notes = []
    for threads in (1, 4):
        elapsed, done, errors = bench_appends(count, threads, seed + threads)
        rows.append(
            f"| {threads} | {done:,} | {elapsed:.1f} s | **{done / elapsed:,.0f}** "
            f"| {elapsed / done * 1000:.2f} ms |"
        )
        notes += errors
    to_size = services.tree_size()
    # One more append, watched (not timed), to show its round trips.
    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        now = services.utc_timestamp(datetime.now(UTC))
        services.append(kind="donation", payload=donation_payload(random.Random(seed), now))
    statements = []
    for query in captured.captured_queries:
        verb = query["sql"].split(None, 1)[0]
        table = re.search(r'"ledger_(\w+)"', query["sql"])
        statements.append(f"{verb} {table.group(1)}" if table else verb)
    return [
        f"Real `ledger.services.append` of donation payloads, each in its own "
        f"`transaction.atomic()`, from tree size {from_size:,} to {to_size:,}.",
        "",
        "| threads | appends | wall time | appends/s | mean per append |",
        "| --- | --- | --- | --- | --- |",
        *rows,
        "",
        f"SQL statements of one more append (index {to_size:,}, watched, not timed): "
        f"{len(statements)}: {', '.join(statements)}. The head row stays locked from its "
        "UPDATE to the COMMIT.",
        *(["", "Errors:", *[f"- {e}" for e in notes]] if notes else []),
    ]


# --------------------------------------------------------------------------- report


def main() -> int:
    args = parse_args()
    overall = time.perf_counter()
    created = ensure_database(args.database_url)
    configure_django(args.database_url)

    from ledger import services

    rng = random.Random(args.seed)
    report = Report()
    phases: list[str] = []

    def phase(title: str, run: Callable[[], list[str]]) -> None:
        progress(f"[{title}] …")
        t0 = time.perf_counter()
        lines = run()
        phases.append(f"| {title} | {time.perf_counter() - t0:.1f} s |")
        report.add(title, lines)

    phase("Bulk load", lambda: bulk_load(args.entries, args.chunk, args.seed))
    size = services.tree_size()
    checkpoint = services.checkpoint_sign()
    report.sections[-1][1].append(
        f"- checkpoint at size {size:,}: "
        + ("signed now" if checkpoint else "already signed by an earlier run")
        + f"; running totals equal the sums over the entries: {check_totals()}"
    )
    phase("Proofs", lambda: bench_proofs(size, args.proofs, rng))
    phase("Verifier", lambda: bench_verifier(size))
    if args.http:
        phase("Verifier over HTTP", lambda: bench_cli(size))
    if args.appends > 0:
        phase("Appends", lambda: bench_all_appends(args.appends, args.seed))

    header = machine_header(
        "Ledger benchmark", postgres_settings=("synchronous_commit", "shared_buffers")
    )
    header.append(
        f"- bench database `{urlsplit(args.database_url).path.lstrip('/')}`"
        f"{' (created by this run)' if created else ''}"
    )
    report.add(
        "Phases",
        [
            "| phase | wall time |",
            "| --- | --- |",
            *phases,
            f"| whole run | {time.perf_counter() - overall:.1f} s |",
        ],
    )
    write_report(args.results, "ledger", report.markdown(header))
    return 0


if __name__ == "__main__":
    sys.exit(main())
