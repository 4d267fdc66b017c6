#!/usr/bin/env python3
"""Throughput and latency of the public pages under gunicorn on PostgreSQL, beside a trivial
Django view on the same server in the same run. It prints figures; it never passes or fails.

    .venv/bin/python bench/pages.py [--seconds 10] [--connections 8] [--workers 2]
        [--database-url postgres://postgres@127.0.0.1:5432/aidhub_scale]

The database is filled first with `manage.py seed_scale` (see docs/scale.md). gunicorn runs
`bench.settings` (the project's settings plus /bench/trivial) with DEBUG off. Each page is
compared with the trivial view loaded right after it, since the cores may be shared with other
work that comes and goes during the run. The load comes
from `wrk` when installed (`apt-get install wrk`), else from a small threaded client here, which
competes for the same cores and so understates every page alike. SQL queries per page are
counted once in this process with Django's test client. Results go to
bench/results/<date>-pages.md.
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # the project, not bench/

from bench.common import (  # noqa: E402
    DEFAULT_URL,
    ROOT,
    bench_environment,
    gunicorn,
    machine_header,
    peak_memory_mib,
    percentile,
    refuse_unsafe_database,
    setup_django,
    write_report,
)

TRIVIAL = "/bench/trivial"
WRK_SCRIPT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), e.status,
    e.connect + e.read + e.write + e.timeout))
end
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--seconds", type=float, default=10, help="load time per page")
    parser.add_argument("--connections", type=int, default=8, help="concurrent connections")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--client", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results")
    return parser.parse_args()


def pages() -> list[tuple[str, str, str]]:
    """(name, path, Cookie header). Pages that visitors without a session get from the cache
    (aidhub.pagecache) are loaded again with a session cookie, which makes them rendered: that
    is what they cost for everyone who is logged in."""
    from django.conf import settings

    from donations.models import Fundraiser
    from hubs.models import Hub, Place
    from ledger.models import LedgerHead

    fundraiser = Fundraiser.objects.order_by("pk").values_list("slug", flat=True).first()
    place = Place.objects.order_by("-last_delivery_at", "pk").values_list("slug", flat=True)[0]
    hub = Hub.objects.filter(is_active=True).order_by("pk").values_list("slug", flat=True)[0]
    entry = max(LedgerHead.objects.get(pk=1).size - 10, 0)
    session = f"{settings.SESSION_COOKIE_NAME}=bench-no-such-session"
    return [
        ("trivial Django view", TRIVIAL, ""),
        ("home", "/", ""),
        ("home, rendered (visitor with a session)", "/", session),
        ("fundraiser", f"/fundraisers/{fundraiser}/", ""),
        ("fundraiser, rendered (visitor with a session)", f"/fundraisers/{fundraiser}/", session),
        ("ledger", "/ledger/", ""),
        ("ledger, rendered (visitor with a session)", "/ledger/", session),
        ("a ledger entry (visitor with a session)", f"/ledger/{entry}/", session),
        ("needs (visitor with a session)", "/needs/", session),
        ("gaps (visitor with a session)", "/gaps/", session),
        ("a place (visitor with a session)", f"/places/{place}/", session),
        ("hubs (visitor with a session)", "/hubs/", session),
        ("a hub (visitor with a session)", f"/hubs/{hub}/", session),
        ("search (visitor with a session)", "/search/?q=water", session),
    ]


def count_queries(path: str, cookie: str) -> tuple[int, int, int]:
    """(status, SQL queries, bytes) of one GET through Django's test client, after a warm-up."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(headers={"cookie": cookie} if cookie else {})
    client.get(path)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    return response.status_code, len(captured.captured_queries), len(response.content)


def load_wrk(url: str, seconds: float, connections: int, cookie: str) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    command = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds:g}s", "-s", script.name]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    done = subprocess.run([*command, url], capture_output=True, text=True, check=True)
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT"))
    requests, duration, p50, p95, bad_status, socket_errors = map(int, line.split()[1:])
    return {
        "rps": requests / (duration / 1e6),
        "p50": p50 / 1000,
        "p95": p95 / 1000,
        "requests": requests,
        "errors": bad_status + socket_errors,
    }


def load_python(url: str, seconds: float, connections: int, cookie: str) -> dict:
    parts = urlsplit(url)
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def work() -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        mine, bad = [], 0
        while time.monotonic() < stop:
            t0 = time.perf_counter()
            try:
                conn.request("GET", parts.path, headers={"Cookie": cookie} if cookie else {})
                response = conn.getresponse()
                response.read()
                bad += response.status >= 400
            except (OSError, http.client.HTTPException):
                bad += 1
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
                continue
            mine.append((time.perf_counter() - t0) * 1000)
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    started = time.monotonic()
    threads = [threading.Thread(target=work) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    return {
        "rps": len(latencies) / elapsed,
        "p50": percentile(latencies, 0.5),
        "p95": percentile(latencies, 0.95),
        "requests": len(latencies),
        "errors": errors[0],
    }


def main() -> int:
    args = parse_args()
    refuse_unsafe_database(args.database_url)
    env = bench_environment(args.database_url)
    setup_django(env)
    client = args.client
    if client == "auto":
        client = "wrk" if shutil.which("wrk") else "python"
    load = load_wrk if client == "wrk" else load_python
    targets = pages()
    queries = {name: count_queries(path, cookie) for name, path, cookie in targets}
    rows, memory = [], []
    with gunicorn(env, workers=args.workers) as server:
        for name, path, cookie in targets:
            print(f"[{name}] {path} …", file=sys.stderr, flush=True)
            load(server.url + path, 2, args.connections, cookie)  # warm caches and connections
            result = load(server.url + path, args.seconds, args.connections, cookie)
            # The cores are shared (other work on the machine comes and goes): each page is
            # compared with the trivial view loaded right after it.
            beside = load(server.url + TRIVIAL, args.seconds / 2, args.connections, "")
            rows.append((name, path, result, beside["rps"]))
        memory = [(pid, peak_memory_mib(pid)) for pid in server.worker_pids()]
        master = peak_memory_mib(server.process.pid)
    table = [
        "| page | path | requests/s | trivial beside it | × trivial | p50 | p95 | errors "
        "| SQL queries | HTML bytes |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, path, r, trivial in rows:
        status, count, size = queries[name]
        table.append(
            f"| {name} | `{path}` | **{r['rps']:,.0f}** | {trivial:,.0f} "
            f"| **{r['rps'] / trivial:.2f}** "
            f"| {r['p50']:.1f} ms | {r['p95']:.1f} ms | {r['errors']} "
            f"| {count}{'' if status == 200 else f' (HTTP {status})'} | {size:,} |"
        )
    ledger, trivial = next((r, t) for name, _p, r, t in rows if name == "ledger")
    lines = machine_header("Public pages under gunicorn")
    lines += [
        f"- gunicorn: {args.workers} sync workers on the same {os.cpu_count()} cores as the "
        f"load generator ({client}, {args.connections} connections, {args.seconds:g} s a page "
        f"after 2 s of warm-up, then {args.seconds / 2:g} s of the trivial view beside it); "
        "settings `bench.settings` (DEBUG off, CONN_MAX_AGE 60, "
        "WhiteNoise plain static); no Redis (local-memory cache)",
        "",
        *table,
        "",
        f"Ledger page throughput / trivial view: **{ledger['rps'] / trivial:.2f}** "
        "(budget: at least 0.5).",
        "",
        "Peak resident memory (VmHWM) after the run: "
        + ", ".join(f"worker {pid}: **{mib:.0f} MiB**" for pid, mib in memory if mib)
        + (f"; gunicorn master: {master:.0f} MiB" if master else ""),
    ]
    write_report(args.results, "pages", "\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
