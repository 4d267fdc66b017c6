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
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0] or ".").resolve() == ROOT / "bench":
    sys.path[0] = str(ROOT)

from bench.common import machine_header, write_report  # noqa: E402
from bench.ledger import (  # noqa: E402
    DEFAULT_URL,
    bulk_load,
    configure_django,
    donation_payload,
    ensure_database,
    progress,
)

FORMATS = ["csv", "json", "hxl.csv"]


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
    args = parser.parse_args()
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


if __name__ == "__main__":
    sys.exit(main())
