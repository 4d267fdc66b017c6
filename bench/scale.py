#!/usr/bin/env python3
"""Make the scale database ready for bench/pages.py and bench/reports.py: create it if missing,
migrate it, and seed a crisis-sized month with `manage.py seed_scale` if its ledger is empty.

    .venv/bin/python bench/scale.py [--entries 1000000]
        [--database-url postgres://postgres@127.0.0.1:5432/aidhub_scale]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # the project, not bench/

from bench.common import (  # noqa: E402
    DEFAULT_URL,
    PYTHON,
    ROOT,
    bench_environment,
    refuse_unsafe_database,
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--entries", type=int, default=1_000_000)
    args = parser.parse_args()
    refuse_unsafe_database(args.database_url)

    import psycopg
    from psycopg import sql

    parts = urlsplit(args.database_url)
    name = parts.path.lstrip("/")
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    env = bench_environment(args.database_url)
    manage = [PYTHON, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    with psycopg.connect(args.database_url) as conn:
        size = conn.execute("SELECT size FROM ledger_ledgerhead WHERE id = 1").fetchone()
    if size and size[0]:
        print(f"{name} already has {size[0]:,} ledger entries: not seeding", file=sys.stderr)
        return 0
    started = time.monotonic()
    seed = [*manage, "seed_scale", "--entries", str(args.entries)]
    subprocess.run(seed, cwd=ROOT, env=env, check=True)
    print(f"seeded {args.entries:,} entries in {time.monotonic() - started:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
