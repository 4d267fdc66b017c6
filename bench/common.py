"""What the gunicorn benchmarks share: the scale database's environment, a gunicorn server
started and stopped around a run, peak memory of processes, and the machine's description."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import platform
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/aidhub_scale"
ORIGIN = "bench.aidhub/scale"
PYTHON = str(ROOT / ".venv" / "bin" / "python")


def refuse_unsafe_database(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    if name in ("", "test", "postgres", "template0", "template1") or not url.startswith("postgres"):
        sys.exit(f"refusing to benchmark in database {name!r}; name a bench database")


def signing_key(
    name: str = ORIGIN,
    seed_text: bytes = b"aidhub scale benchmark key: public, never for a real log",
) -> str:
    """A fixed, public signer key for bench databases only (never for a real log). Fixed, not
    made per run, so a checkpoint an earlier run signed in the same database still verifies."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    from ledger.note import parse_private_key_text
    from ledger.verify import ALG_ED25519, key_id

    seed = hashlib.sha256(seed_text).digest()
    public = (
        Ed25519PrivateKey.from_private_bytes(seed)
        .public_key()
        .public_bytes(Encoding.Raw, PublicFormat.Raw)
    )
    encoded = base64.b64encode(bytes([ALG_ED25519]) + seed).decode()
    text = f"PRIVATE+KEY+{name}+{key_id(name, public).hex()}+{encoded}"
    parse_private_key_text(text)  # the project's own parser accepts it
    return text


def bench_environment(url: str, *, redis_url: str = "") -> dict[str, str]:
    """Production-like settings on the bench database: DEBUG off, plain static files."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    env = dict(os.environ)
    for name in ("REDIS_URL", "DATABASE_POOL", "AIDHUB_PRODUCTION", "LEDGER_SIGNING_KEY_FILE"):
        env.pop(name, None)
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DATABASE_URL=url,
        DEBUG="0",
        SECRET_KEY=env.get("SECRET_KEY") or "bench-" + secrets.token_urlsafe(40),
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        AIDHUB_PLAIN_STATIC="1",
        LOG_LEVEL="WARNING",
        LEDGER_ORIGIN=ORIGIN,
        LEDGER_KEY_NAME=ORIGIN,
        LEDGER_SIGNING_KEY=signing_key(),
        MEDIA_ROOT=env.get("MEDIA_ROOT") or str(Path(tempfile.gettempdir()) / "aidhub-bench-media"),
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    import warnings

    import django

    warnings.filterwarnings("ignore", message="No directory at")
    django.setup()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def gunicorn(env: dict[str, str], *, workers: int = 2, threads: int = 1) -> Iterator[Server]:
    port = free_port()
    log_path = Path(tempfile.mkstemp(prefix="aidhub-bench-gunicorn-", suffix=".log")[1])
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"), "aidhub.wsgi", "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers), "--threads", str(threads), "--timeout", "60",
        "--backlog", "2048", "--log-level", "warning",
    ]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = Server(f"http://127.0.0.1:{port}", process, log_path)
    try:
        server.wait_up()
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Server:
    def __init__(self, url: str, process: subprocess.Popen, log: Path) -> None:
        self.url, self.process, self.log = url, process, log

    def wait_up(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("gunicorn exited:\n" + self.log.read_text()[-3000:])
            with contextlib.suppress(OSError):
                urllib.request.urlopen(self.url + "/bench/trivial", timeout=5).read()  # noqa: S310
                return
            time.sleep(0.3)
        raise RuntimeError("gunicorn did not answer in 60 s:\n" + self.log.read_text()[-3000:])

    def worker_pids(self) -> list[int]:
        return children(self.process.pid)


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def peak_memory_mib(pid: int) -> float | None:
    """VmHWM: the most resident memory the process ever had."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


def machine_header(title: str, *, postgres_settings: tuple[str, ...] = ()) -> list[str]:
    from django.db import connection

    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = "unknown"
    with contextlib.suppress(OSError):
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kib / 1024 / 1024:.1f} GiB"
    with connection.cursor() as cur:
        cur.execute("SHOW server_version")
        pg = cur.fetchone()[0]
        shown = []
        for name in postgres_settings:
            cur.execute(f"SHOW {name}")  # names from this file, never from input
            shown.append(f"{name} {cur.fetchone()[0]}")
        cur.execute("SELECT size FROM ledger_ledgerhead WHERE id = 1")
        row = cur.fetchone()
    size = row[0] if row else 0
    return [
        f"# {title}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"- machine: {platform.platform()}; CPU: {cpu}; cores: {os.cpu_count()}; RAM: {memory}",
        f"- Python {platform.python_version()}; PostgreSQL {pg} on 127.0.0.1"
        f"{' (' + ', '.join(shown) + ')' if shown else ''}; Django DEBUG off;"
        f" ledger size {size:,} entries",
        f"- command: `.venv/bin/python bench/{Path(sys.argv[0]).name} {' '.join(sys.argv[1:])}`",
    ]


def write_report(folder: Path, name: str, text: str) -> Path:
    """Print a report and keep it as bench/results/<date>-<name>.md; return its path."""
    print(text)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{datetime.now(UTC):%Y-%m-%d}-{name}.md"
    path.write_text(text, encoding="utf-8")
    print(f"report written to {path}", file=sys.stderr)
    return path
