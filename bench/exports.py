#!/usr/bin/env python3
"""Benchmark of the whole-ledger exports on PostgreSQL. It prints figures; it never passes or
fails.

Run from the project folder (PostgreSQL must be running; the database is created if missing)::

    .venv/bin/python bench/exports.py [--entries 200000] [--grow 1000]
        [--database-url postgres://postgres@127.0.0.1:5432/aidhub_bench]

It fills the bench ledger like bench/ledger.py (the same database and loader), signs a
checkpoint, and then prints, for CSV, JSON and HXL:

1. writing the export files from nothing (a fresh machine), and appending --grow new entries
   after the next checkpoint (what the task does every minute);
2. serving the whole export from its file through Django (time to the last byte, bytes), a
   byte range from the middle and a 304 revalidation;
3. generating the same export from the database the way every download did before
   (`ledger.exports.generate`), for comparison.

The export files go to a temporary folder. The report is printed as Markdown and written to
bench/results/<date>-exports.md.

With --gunicorn it measures what a visitor sees instead, through gunicorn on PostgreSQL with
the production settings (AIDHUB_PRODUCTION=1, Redis for the cache and the rate limits)::

    .venv/bin/python bench/exports.py --gunicorn [--entries 200000] [--workers 4]
        [--load-seconds 30] [--concurrency 10] [--rounds 0] [--redis-url redis://127.0.0.1:6379/12]
        [--database-url postgres://postgres@127.0.0.1:5432/aidhub_exports]

1. seeds the database with bench/scale.py (`manage.py seed_scale --entries`) unless its
   ledger has entries, and times `manage.py ledger_exports` writing the files from nothing
   (wall time and the command's peak memory);
2. starts gunicorn (sync workers, the README's production shape) and checks a byte range, a
   suffix range (JSON's closing bracket) and If-None-Match (304) over HTTP;
3. times one full download of each format, with the workers' peak memory (VmHWM) before and
   after;
4. probes `/` and `/ledger/` for --load-seconds without load, then again while --concurrency
   clients download whole exports in a loop and --concurrency more ask for generated
   `?fundraiser=` exports (each client its own address through X-Forwarded-For, one trusted
   proxy, so the per-address limits count visitors, not the bench): p50/p95/max of the probes,
   the downloads finished and every status seen. With --rounds N each client stops after N
   downloads, and the probing with it (the issue's "10 concurrent full exports" is
   --rounds 1).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0] or ".").resolve() == ROOT / "bench":
    sys.path[0] = str(ROOT)

from bench.common import (  # noqa: E402
    PYTHON,
    bench_environment,
    gunicorn,
    machine_header,
    peak_memory_mib,
    percentile,
    refuse_unsafe_database,
    setup_django,
    write_report,
)
from bench.ledger import (  # noqa: E402
    DEFAULT_URL,
    bulk_load,
    configure_django,
    donation_payload,
    ensure_database,
    progress,
)

FORMATS = ["csv", "json", "hxl.csv"]
GUNICORN_URL = "postgres://postgres@127.0.0.1:5432/aidhub_exports"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=200_000, help="ledger size to reach")
    parser.add_argument("--grow", type=int, default=1000, help="entries appended, then exported")
    parser.add_argument("--database-url", default=DEFAULT_URL, help="the bench database")
    parser.add_argument("--chunk", type=int, default=50_000, help="entries per COPY chunk")
    parser.add_argument("--seed", type=int, default=20220918, help="random seed")
    parser.add_argument(
        "--results", type=Path, default=ROOT / "bench" / "results", help="report folder"
    )
    parser.add_argument("--gunicorn", action="store_true", help="measure through gunicorn")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--load-seconds", type=float, default=30, help="probing time, each phase")
    parser.add_argument("--concurrency", type=int, default=10, help="clients of each kind")
    parser.add_argument("--rounds", type=int, default=0, help="downloads per load client (0: loop)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12", help="with --gunicorn")
    args = parser.parse_args()
    if args.gunicorn and args.database_url == DEFAULT_URL:
        args.database_url = GUNICORN_URL
    name = args.database_url.rsplit("/", 1)[-1]
    if name in ("", "test", "postgres", "template0", "template1") or "sqlite" in args.database_url:
        parser.error(f"refusing to benchmark in database {name!r}; name a bench database")
    return args


def mib(count: int) -> str:
    return f"{count / 2**20:.1f} MiB"


def download(client, url: str, **headers) -> tuple[float, int, int]:
    started = time.perf_counter()
    response = client.get(url, headers=headers)
    size = sum(len(chunk) for chunk in response.streaming_content) if response.streaming else 0
    return time.perf_counter() - started, size, response.status_code


def main() -> int:
    args = parse_args()
    if args.gunicorn:
        return gunicorn_main(args)
    folder = Path(tempfile.mkdtemp(prefix="aidhub-exports-"))
    os.environ["LEDGER_EXPORT_ROOT"] = str(folder)
    ensure_database(args.database_url)
    configure_django(args.database_url)

    import random

    from django.test import Client
    from django.utils import timezone

    from ledger import bulk, exportfiles, exports, services
    from ledger.models import LedgerEntry

    lines: list[str] = []
    lines += bulk_load(args.entries, args.chunk, args.seed)
    services.checkpoint_sign()  # on commit, eager Celery writes the files; start afresh below
    size = services.tree_size()

    shutil.rmtree(folder)
    started = time.perf_counter()
    exportfiles.update()
    cold = time.perf_counter() - started
    lengths = exportfiles._read_state().lengths
    lines += [
        "",
        f"Ledger of **{size:,}** entries.",
        "",
        f"- writing the three export files from nothing: **{cold:.1f} s** "
        f"({', '.join(f'{fmt} {mib(n)}' for fmt, n in lengths.items())})",
    ]

    rng = random.Random(args.seed)
    now = services.utc_timestamp(timezone.now())
    grow = [("donation", donation_payload(rng, now), None) for _ in range(args.grow)]
    bulk.append_many(grow, chunk=max(1, args.grow))
    enqueue = services.exports_enqueue
    services.exports_enqueue = lambda: None  # the append is timed here, not run on commit
    services.checkpoint_sign()
    services.exports_enqueue = enqueue
    started = time.perf_counter()
    exportfiles.update()
    grown = time.perf_counter() - started
    size = services.tree_size()
    lines.append(f"- appending {args.grow:,} entries after the next checkpoint: **{grown:.2f} s**")

    client = Client()
    client.get("/ledger/export.csv", headers={"range": "bytes=0-0"})  # Django's first request
    lines += [
        "",
        f"Serving the whole export at {size:,} entries through Django's handler (one client, "
        "time to the last byte):",
        "",
        "| format | from the file | bytes | a 1 MiB range | 304 | generated (before) | bytes |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for fmt in FORMATS:
        progress(f"[{fmt}] …")
        url = f"/ledger/export.{fmt}"
        served, served_bytes, _status = download(client, url)
        etag = client.get(url)["ETag"]
        middle = served_bytes // 2
        ranged, ranged_bytes, status = download(
            client, url, range=f"bytes={middle}-{middle + 2**20 - 1}"
        )
        assert status == 206 and ranged_bytes == 2**20
        revalidated, _n, status = download(client, url, if_none_match=etag)
        assert status == 304
        entries = LedgerEntry.objects.order_by("index").only("index", "leaf", "leaf_hash")
        started = time.perf_counter()
        generated_bytes = sum(
            len(part.encode()) for part in exports.generate(fmt, entries.iterator(chunk_size=2000))
        )
        generated = time.perf_counter() - started
        lines.append(
            f"| {fmt} | **{served * 1000:.0f} ms** | {mib(served_bytes)} | "
            f"{ranged * 1000:.1f} ms | {revalidated * 1000:.1f} ms | "
            f"{generated:.1f} s | {mib(generated_bytes)} |"
        )
    shutil.rmtree(folder, ignore_errors=True)
    header = machine_header("Export benchmark", postgres_settings=("shared_buffers",))
    write_report(args.results, "exports", "\n".join([*header, "", *lines]) + "\n")
    return 0


# --------------------------------------------------------------------------- --gunicorn

PROBES = ["/", "/ledger/"]


@dataclass
class Fetched:
    status: int
    seconds: float
    size: int
    headers: dict[str, str]
    body: bytes  # the first KEEP bytes only
    error: str = ""


KEEP = 4096


def fetch(base: str, path: str, *, headers=None, timeout: float = 120) -> Fetched:
    """GET base+path reading the body to its end; the time is to the last byte."""
    parts = urlsplit(base)
    started = time.perf_counter()
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        kept, size = b"", 0
        while chunk := response.read(CHUNK_READ):
            if len(kept) < KEEP:
                kept += chunk[: KEEP - len(kept)]
            size += len(chunk)
        head = {name.lower(): value for name, value in response.getheaders()}
        return Fetched(response.status, time.perf_counter() - started, size, head, kept)
    except (OSError, http.client.HTTPException) as exc:
        return Fetched(0, time.perf_counter() - started, 0, {}, b"", repr(exc))
    finally:
        connection.close()


CHUNK_READ = 256 * 1024


def production_environment(args: argparse.Namespace, export_root: Path) -> dict[str, str]:
    """bench.common's environment (bench database, fixed key, /bench/trivial) made production:
    what `.ci/run`'s `check --deploy` line sets, HTTPS redirect off (no proxy in front), one
    trusted proxy so each bench client is its own visitor."""
    from cryptography.fernet import Fernet

    env = bench_environment(args.database_url, redis_url=args.redis_url)
    env.update(
        AIDHUB_PRODUCTION="1",
        DEBUG="0",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        AIDHUB_TRUSTED_PROXIES="1",
        SECURE_SSL_REDIRECT="0",
        FIELD_ENCRYPTION_KEY=Fernet.generate_key().decode(),
        LEDGER_EXPORT_ROOT=str(export_root),
        AIDHUB_PLAIN_STATIC="1",  # no collectstatic here; the probes fetch HTML only
    )
    return env


def run_with_peak(command: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Run a command; its wall time, peak resident memory (MiB, VmHWM sampled) and output."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    peak = 0.0
    while process.poll() is None:
        peak = max(peak, peak_memory_mib(process.pid) or 0.0)
        time.sleep(0.1)
    out = process.stdout.read().decode() if process.stdout else ""
    if process.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{out[-3000:]}")
    return time.perf_counter() - started, peak, out.strip()


def workers_memory(server) -> tuple[float, float]:
    """The largest peak (VmHWM) and the largest current resident memory of the workers, MiB."""
    peaks, now = [], []
    for pid in server.worker_pids():
        peaks.append(peak_memory_mib(pid) or 0.0)
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    now.append(int(line.split()[1]) / 1024)
    return max(peaks, default=0.0), max(now, default=0.0)


def spread(values: list[float]) -> str:
    if not values:
        return "no probe answered"
    p50, p95 = (percentile(values, q) * 1000 for q in (0.5, 0.95))
    return (
        f"p50 **{p50:.0f} ms**, p95 **{p95:.0f} ms**, max **{max(values) * 1000:.0f} ms** "
        f"({len(values)})"
    )


def probe_loop(base: str, stop: threading.Event, out: dict[str, list[float]], bad: Counter) -> None:
    """One visitor reading the front page and the ledger's first page, 4 times a second."""
    visitor = {"X-Forwarded-For": "198.51.100.200"}
    while not stop.is_set():
        for path in PROBES:
            got = fetch(base, path, headers=visitor, timeout=60)
            if got.status == 200:
                out[path].append(got.seconds)
            else:
                bad[f"{path} {got.status or got.error[:60]}"] += 1
        stop.wait(0.25)


def probe(base: str, seconds: float, busy=None) -> tuple[dict[str, list[float]], Counter]:
    """Probe for `seconds`, or less once `busy()` says the load has ended."""
    stop = threading.Event()
    out: dict[str, list[float]] = {path: [] for path in PROBES}
    bad: Counter = Counter()
    thread = threading.Thread(target=probe_loop, args=(base, stop, out, bad))
    thread.start()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and (busy is None or busy()):
        time.sleep(0.05)
    stop.set()
    thread.join()
    return out, bad


def load_loop(
    base: str, path: str, address: str, stop: threading.Event, tally: dict, rounds: int
) -> None:
    """A client downloading `path` again and again (`rounds` times when not 0); a refusal is
    retried after at most 2 s (its Retry-After asks for more; a busy crowd does not wait)."""
    done = 0
    while not stop.is_set() and (rounds == 0 or done < rounds):
        got = fetch(base, path, headers={"X-Forwarded-For": address}, timeout=120)
        with tally["lock"]:
            tally["status"][f"{path.split('?')[0]}{'?fundraiser' if '?' in path else ''} "
                            f"{got.status or got.error[:60]}"] += 1  # fmt: skip
            if got.status == 200:
                tally["done"].append((path, got.seconds, got.size))
                done += 1
        if got.status != 200:
            retry = got.headers.get("retry-after", "1")
            stop.wait(min(2.0, float(retry) if retry.isdigit() else 1.0))


def gunicorn_main(args: argparse.Namespace) -> int:
    refuse_unsafe_database(args.database_url)
    lines: list[str] = [
        f"- load before the run (`uptime`): {os.getloadavg()[0]:.2f}, {os.getloadavg()[1]:.2f}, "
        f"{os.getloadavg()[2]:.2f} (1, 5, 15 min) on {os.cpu_count()} cores shared with others",
    ]
    seeding = tempfile.mkdtemp(prefix="aidhub-exports-seed-")  # seed_scale's checkpoint writes
    started = time.perf_counter()
    subprocess.run(
        [PYTHON, "bench/scale.py", "--database-url", args.database_url, "--entries",
         str(args.entries)],
        cwd=ROOT, env={**os.environ, "LEDGER_EXPORT_ROOT": seeding}, check=True,
    )  # fmt: skip
    shutil.rmtree(seeding, ignore_errors=True)
    lines.append(
        f"- seeding (bench/scale.py, skipped when seeded): {time.perf_counter() - started:.0f} s"
    )

    export_root = Path(tempfile.mkdtemp(prefix="aidhub-exports-"))
    env = production_environment(args, export_root)
    setup_django(env)
    from django.db import connection

    manage = [PYTHON, "manage.py"]
    subprocess.run([*manage, "ledger_checkpoint"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    shutil.rmtree(export_root)
    export_root.mkdir()
    built, built_peak, said = run_with_peak([*manage, "ledger_exports"], env)
    sizes = {p.name: p.stat().st_size for p in sorted(export_root.glob("ledger.*"))}
    with connection.cursor() as cur:
        cur.execute(
            "SELECT ref FROM ledger_ledgerref WHERE scope = 'fundraiser' GROUP BY ref "
            "ORDER BY count(*) DESC LIMIT 1"
        )
        fundraiser = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM ledger_ledgerref WHERE scope = 'fundraiser' AND ref = %s",
                    [fundraiser])  # fmt: skip
        fundraiser_entries = cur.fetchone()[0]
    connection.close()
    lines += [
        f"- `manage.py ledger_exports` from nothing: **{built:.1f} s**, peak memory "
        f"**{built_peak:.0f} MiB** ({said}; "
        + ", ".join(f"{n} {mib(b)}" for n, b in sizes.items())
        + ")",
    ]

    with gunicorn(env, workers=args.workers) as server:
        base = server.url
        for _ in range(3 * args.workers):  # every worker imports and connects before timing
            for path in [*PROBES, "/ledger/export.csv"]:
                fetch(base, path, headers={"Range": "bytes=0-0"} if "export" in path else None)
        lines += [
            "",
            f"gunicorn {args.workers} sync workers, `--timeout 60`, on the same 2 cores.",
            "",
        ]
        lines += check_http(base)
        before_peak, before_now = workers_memory(server)
        lines += [
            "",
            "One full download at a time (time to the last byte; workers' memory before: "
            f"largest peak {before_peak:.0f} MiB, largest now {before_now:.0f} MiB):",
            "",
            "| format | status | time | bytes | workers' largest peak (VmHWM) after |",
            "| --- | --- | --- | --- | --- |",
        ]
        for fmt in FORMATS:
            got = fetch(base, f"/ledger/export.{fmt}")
            peak, _now = workers_memory(server)
            lines.append(
                f"| {fmt} | {got.status} | **{got.seconds:.2f} s** | {mib(got.size)} | "
                f"{peak:.0f} MiB |"
            )
        got = fetch(base, f"/ledger/export.csv?fundraiser={fundraiser}",
                    headers={"X-Forwarded-For": "198.51.100.1"})  # fmt: skip
        peak, _now = workers_memory(server)
        lines.append(
            f"| csv `?fundraiser={fundraiser}` (generated, {fundraiser_entries:,} entries) | "
            f"{got.status} | {got.seconds:.2f} s | {mib(got.size)} | {peak:.0f} MiB |"
        )

        progress(f"probing {args.load_seconds:.0f} s without load …")
        quiet, quiet_bad = probe(base, args.load_seconds)
        progress(f"probing {args.load_seconds:.0f} s under load …")
        stop = threading.Event()
        tally = {"lock": threading.Lock(), "status": Counter(), "done": []}
        clients = []
        for n in range(args.concurrency):
            fmt = "csv" if n % 2 == 0 else "json"
            clients.append((f"/ledger/export.{fmt}", f"198.51.100.{10 + n}"))
            clients.append(
                (f"/ledger/export.{fmt}?fundraiser={fundraiser}", f"198.51.100.{100 + n}")
            )
        threads = [
            threading.Thread(target=load_loop, args=(base, path, address, stop, tally, args.rounds))
            for path, address in clients
        ]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        time.sleep(0.2)  # every client has its first request in
        loaded, loaded_bad = probe(
            base, args.load_seconds, busy=lambda: any(t.is_alive() for t in threads)
        )
        load_wall = time.perf_counter() - started
        stop.set()
        for thread in threads:
            thread.join()
        peak, _now = workers_memory(server)
        log_tail = server.log.read_text()[-1500:]

    shutil.rmtree(export_root, ignore_errors=True)
    whole = [d for d in tally["done"] if "?" not in d[0]]
    made = [d for d in tally["done"] if "?" in d[0]]
    lines += [
        "",
        "Probes (one visitor: `/` then `/ledger/`, 4 times a second), "
        f"{args.load_seconds:.0f} s each (p50, p95, max, and how many answered 200):",
        "",
        "| | `/` | `/ledger/` | not 200 |",
        "| --- | --- | --- | --- |",
        f"| no load | {spread(quiet['/'])} | {spread(quiet['/ledger/'])} | "
        f"{dict(quiet_bad) or 'none'} |",
        f"| {args.concurrency} whole-export + {args.concurrency} `?fundraiser=` clients, "
        f"{f'{args.rounds} download(s) each' if args.rounds else 'in a loop'}, "
        f"probed {load_wall:.0f} s | "
        f"{spread(loaded['/'])} | {spread(loaded['/ledger/'])} | {dict(loaded_bad) or 'none'} |",
        "",
        f"- during the load: {len(whole)} whole exports downloaded "
        f"({mib(sum(d[2] for d in whole))}; time each: {spread([d[1] for d in whole])}), "
        f"{len(made)} generated `?fundraiser=` exports",
        "- statuses: " + ", ".join(f"`{k}` {v}" for k, v in sorted(tally["status"].items())),
        f"- workers' largest peak memory (VmHWM) after the load: **{peak:.0f} MiB**",
        f"- load after the run (`uptime`): {os.getloadavg()[0]:.2f}, {os.getloadavg()[1]:.2f}, "
        f"{os.getloadavg()[2]:.2f}",
    ]
    if "Traceback" in log_tail or "WORKER TIMEOUT" in log_tail:
        lines += ["", "gunicorn's log ended with:", "", "```", log_tail, "```"]
    header = machine_header(
        "Export benchmark through gunicorn", postgres_settings=("shared_buffers",)
    )
    write_report(args.results, "exports-gunicorn", "\n".join([*header, "", *lines]) + "\n")
    return 0


def check_http(base: str) -> list[str]:
    """A byte range, a suffix range, If-None-Match and If-Range over HTTP, asserted."""
    full = fetch(base, "/ledger/export.csv")
    etag = full.headers["etag"]
    ranged = fetch(base, "/ledger/export.csv", headers={"Range": "bytes=100-1099"})
    assert ranged.status == 206 and ranged.size == 1000, ranged
    assert ranged.body == full.body[100:1100], "the range is not those bytes of the file"
    assert ranged.headers["content-range"] == f"bytes 100-1099/{full.size}", ranged.headers
    tail = fetch(base, "/ledger/export.json", headers={"Range": "bytes=-2"})
    assert tail.status == 206 and tail.body.strip() == b"]", tail
    not_modified = fetch(base, "/ledger/export.csv", headers={"If-None-Match": etag})
    assert not_modified.status == 304 and not_modified.size == 0, not_modified
    stale = fetch(base, "/ledger/export.csv",
                  headers={"Range": "bytes=0-9", "If-Range": '"stale"'})  # fmt: skip
    assert stale.status == 200 and stale.size == full.size, stale
    past = fetch(base, "/ledger/export.csv", headers={"Range": f"bytes={full.size}-"})
    assert past.status == 416, past
    return [
        f"Checked over HTTP: `Range: bytes=100-1099` → 206, those 1,000 bytes, "
        f"`Content-Range: {ranged.headers['content-range']}` ({ranged.seconds * 1000:.0f} ms); "
        f"`Range: bytes=-2` of the JSON → 206 `{tail.body.decode().strip()}`; "
        f"`If-None-Match: {etag}` → 304 ({not_modified.seconds * 1000:.0f} ms); a stale "
        f"`If-Range` → 200 with everything; a range past the end → 416.",
    ]


if __name__ == "__main__":
    sys.exit(main())
