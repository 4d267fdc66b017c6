#!/usr/bin/env python3
"""200 volunteers submitting delivery reports with photos at once, against gunicorn on
PostgreSQL with a real Celery worker and Redis. It prints figures; it never passes or fails.

    .venv/bin/python bench/reports.py [--volunteers 200] [--seconds 60] [--per-volunteer 24]
        [--database-url postgres://postgres@127.0.0.1:5432/aidhub_scale]

Preparation (not timed): every volunteer of the seeded database (`manage.py seed_scale`) gets
--per-volunteer deliveries planned, claimed and dispatched through the real services, and a
session made directly in the session store (so 200 logins do not trip the login rate limit).
Then each volunteer, one thread each, loops: GET the report form (CSRF token), POST it with a
~100 KB JPEG of its own and a fresh idempotency key; one POST in ten is sent a second time with
the same key, as a phone's retry would be. Afterwards the database is counted: a report
accepted (HTTP 302) whose delivery has no proof is lost; more than one proof per key's delivery
is a duplicate. A private redis-server on a free port and one Celery worker (solo pool) run the
on-commit tasks (thumbnails). Results go to bench/results/<date>-reports.md.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import io
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # the project, not bench/

from bench.common import (  # noqa: E402
    DEFAULT_URL,
    ROOT,
    bench_environment,
    free_port,
    gunicorn,
    machine_header,
    peak_memory_mib,
    percentile,
    refuse_unsafe_database,
    setup_django,
    write_report,
)

CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--volunteers", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--per-volunteer", type=int, default=24, help="deliveries prepared each")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument("--retry-share", type=float, default=0.1, help="POSTs sent twice")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results")
    return parser.parse_args()


def photo(seed: int) -> bytes:
    """About 100 KB of JPEG: noise compresses badly, like a real photo."""
    from PIL import Image

    rng = random.Random(seed)
    image = Image.frombytes("RGB", (200, 170), rng.randbytes(200 * 170 * 3))
    out = io.BytesIO()
    image.resize((400, 340)).save(out, "JPEG", quality=90)
    return out.getvalue()


def prepare(volunteers: int, per_volunteer: int) -> list[tuple[str, list[str]]]:
    """(session key, delivery slugs) for each volunteer, through the real services."""
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.contrib.sessions.backends.db import SessionStore

    from deliveries import services
    from hubs.models import Hub, Item, Membership, Place
    from hubs.services import hub_receive_goods

    users = get_user_model().objects
    chosen = list(
        Membership.objects.filter(role="volunteer").select_related("user", "hub")
        .order_by("user_id")[:volunteers]
    )  # fmt: skip
    if len(chosen) < volunteers:
        sys.exit(f"only {len(chosen)} volunteers in the database; seed it with seed_scale")
    item = Item.objects.order_by("pk").first()
    out = []
    for n, membership in enumerate(chosen):
        hub: Hub = membership.hub
        coordinator = users.get(
            pk=Membership.objects.filter(hub=hub, role="coordinator").values("user")[:1]
        )
        place = Place.objects.order_by("pk")[n % Place.objects.count()]
        # Enough stock first, so every dispatch succeeds; a real intake entry.
        hub_receive_goods(hub=hub, lines=[(item, 2 * per_volunteer)], by=coordinator)
        slugs = []
        for _ in range(per_volunteer):
            delivery = services.delivery_plan(
                hub=hub, place=place, lines=[(item, 1)], by=coordinator
            )
            services.delivery_claim(delivery=delivery, volunteer=membership.user)
            services.delivery_dispatch(delivery=delivery, volunteer=membership.user)
            slugs.append(delivery.slug)
        session = SessionStore()
        user = membership.user
        session[SESSION_KEY] = str(user.pk)
        # The backend that loads users; django-axes's, listed first, only guards logins.
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        out.append((session.session_key, slugs))
        if n % 20 == 19:
            print(f"prepared {n + 1} of {volunteers} volunteers", file=sys.stderr, flush=True)
    return out


def multipart(fields: dict[str, str], image: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
            .encode()
        )  # fmt: skip
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; filename="p.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n".encode()
        + image
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class Volunteer(threading.Thread):
    def __init__(self, url: str, session: str, slugs: list[str], image: bytes, args, stop: float):
        super().__init__(daemon=True)
        self.parts = urlsplit(url)
        self.session, self.slugs, self.image = session, slugs, image
        self.retry_share, self.stop = args.retry_share, stop
        self.rng = random.Random(session)
        self.latencies: list[float] = []
        self.accepted: dict[str, str] = {}  # idempotency key -> delivery slug
        self.statuses: dict[int, int] = {}
        self.retries = 0
        self.errors: list[str] = []

    def request(self, conn, method: str, path: str, body=None, headers=None):
        headers = {"Cookie": f"sessionid={self.session}; csrftoken={self.csrf}", **(headers or {})}
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        for cookie in response.headers.get_all("Set-Cookie") or []:
            if cookie.startswith("csrftoken="):
                self.csrf = cookie.split(";", 1)[0].split("=", 1)[1]
        return response.status, response.read()

    def run(self) -> None:
        self.csrf = ""
        conn = http.client.HTTPConnection(self.parts.hostname, self.parts.port, timeout=120)
        for slug in self.slugs:
            if time.monotonic() >= self.stop:
                break
            path = f"/deliveries/{slug}/report/"
            try:
                status, page = self.request(conn, "GET", path)
                found = CSRF_INPUT.search(page)
                if status != 200 or not found:
                    self.errors.append(f"GET {path}: {status}")
                    continue
                token = found.group(1).decode()
                key = uuid.uuid4().hex
                fields = {"csrfmiddlewaretoken": token, "idempotency_key": key, "people": "40",
                          "households": "10", "note": ""}  # fmt: skip
                body, content_type = multipart(fields, self.image)
                headers = {"Content-Type": content_type, "Referer": self.base()}
                sends = 2 if self.rng.random() < self.retry_share else 1
                for attempt in range(sends):
                    t0 = time.perf_counter()
                    status, _ = self.request(conn, "POST", path, body, headers)
                    self.latencies.append((time.perf_counter() - t0) * 1000)
                    self.statuses[status] = self.statuses.get(status, 0) + 1
                    if status == 302 and attempt == 0:
                        self.accepted[key] = slug
                    self.retries += attempt
            except (OSError, http.client.HTTPException) as exc:
                self.errors.append(f"{path}: {exc!r}")
                conn.close()
                conn = http.client.HTTPConnection(self.parts.hostname, self.parts.port, timeout=120)
        conn.close()

    def base(self) -> str:
        return f"http://{self.parts.hostname}:{self.parts.port}/"


@contextlib.contextmanager
def private_redis():
    port = free_port()
    folder = tempfile.mkdtemp(prefix="aidhub-bench-redis-")
    process = subprocess.Popen(
        [shutil.which("redis-server") or "redis-server", "--port", str(port), "--save", "",
         "--appendonly", "no", "--dir", folder],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    time.sleep(0.5)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def celery_worker(env: dict[str, str]):
    command = [sys.executable, "-m", "celery", "-A", "aidhub", "worker", "--pool", "solo",
               "--loglevel", "WARNING", "--without-gossip", "--without-mingle",
               "--without-heartbeat"]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def count(accepted: dict[str, str]) -> tuple[int, int, int]:
    """(lost, duplicated, proofs) counted from the database."""
    from django.db.models import Count

    from aidhub.models import IdempotentSubmission
    from deliveries.models import ProofOfDelivery

    slugs = set(accepted.values())
    per_delivery = dict(
        ProofOfDelivery.objects.filter(delivery__slug__in=slugs)
        .values_list("delivery__slug").annotate(n=Count("id"))
    )  # fmt: skip
    lost = sum(1 for slug in slugs if not per_delivery.get(slug))
    duplicated = sum(n - 1 for n in per_delivery.values() if n > 1)
    keys = IdempotentSubmission.objects.filter(key__in=list(accepted)).count()
    lost += len(accepted) - keys  # an accepted key the server does not remember
    return lost, duplicated, sum(per_delivery.values())


def main() -> int:
    args = parse_args()
    refuse_unsafe_database(args.database_url)
    with private_redis() as redis_url:
        env = bench_environment(args.database_url, redis_url=redis_url)
        setup_django(env)
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
        t0 = time.monotonic()
        prepared = prepare(args.volunteers, args.per_volunteer)
        preparing = time.monotonic() - t0
        images = [photo(n) for n in range(args.volunteers)]
        with (
            celery_worker(env) as worker,
            gunicorn(env, workers=args.workers, threads=args.threads) as server,
        ):
            stop = time.monotonic() + args.seconds
            volunteers = [
                Volunteer(server.url, session, slugs, images[n], args, stop)
                for n, (session, slugs) in enumerate(prepared)
            ]
            started = time.monotonic()
            for volunteer in volunteers:
                volunteer.start()
            for volunteer in volunteers:
                volunteer.join(timeout=args.seconds + 180)
            elapsed = time.monotonic() - started
            time.sleep(3)  # let the worker finish the thumbnails it was sent
            web = [(pid, peak_memory_mib(pid)) for pid in server.worker_pids()]
            celery = [(pid, peak_memory_mib(pid)) for pid in [worker.pid]]
    latencies = [x for v in volunteers for x in v.latencies]
    accepted = {k: s for v in volunteers for k, s in v.accepted.items()}
    statuses: dict[int, int] = {}
    for volunteer in volunteers:
        for status, n in volunteer.statuses.items():
            statuses[status] = statuses.get(status, 0) + n
    errors = [e for v in volunteers for e in v.errors]
    lost, duplicated, proofs = count(accepted)
    retries = sum(v.retries for v in volunteers)
    ran_out = sum(1 for v in volunteers if len(v.accepted) >= len(v.slugs))
    seen = ", ".join(f"{k}: {v:,}" for k, v in sorted(statuses.items()))
    lines = machine_header("Delivery reports with photos, 200 volunteers at once")
    lines += [
        f"- gunicorn {args.workers} workers × {args.threads} threads, one Celery worker (solo "
        "pool) and a private redis-server, all on the same cores as the client threads",
        f"- {args.volunteers} volunteers, one thread each, for {args.seconds:g} s; photos "
        f"~{len(images[0]) // 1024} KB JPEG; {args.retry_share:.0%} of POSTs sent twice with the "
        f"same idempotency key; preparation (not timed): {preparing:.0f} s",
        "",
        "| figure | value |",
        "| --- | --- |",
        f"| reports accepted (HTTP 302, first send) | **{len(accepted):,}** |",
        f"| throughput | **{len(accepted) / elapsed:.1f} reports/s** over {elapsed:.1f} s |",
        f"| POST latency p50 / p95 / max | {percentile(latencies, 0.5):.0f} ms / "
        f"**{percentile(latencies, 0.95):.0f} ms** / {max(latencies, default=0):.0f} ms |",
        f"| retried POSTs (same key) | {retries:,} |",
        f"| HTTP statuses of all POSTs | {seen} |",
        f"| proofs in the database for those deliveries | {proofs:,} |",
        f"| **lost** (accepted, no proof or no key) | **{lost}** |",
        f"| **duplicated** (more than one proof per report) | **{duplicated}** |",
        f"| client errors | {len(errors)}{': ' + errors[0] if errors else ''} |",
        f"| volunteers who ran out of deliveries | {ran_out} |",
        "",
        "Peak resident memory (VmHWM): "
        + ", ".join(f"gunicorn worker {p}: **{m:.0f} MiB**" for p, m in web if m)
        + "; "
        + ", ".join(f"Celery worker {p}: **{m:.0f} MiB**" for p, m in celery if m),
    ]
    text = "\n".join(lines) + "\n"
    if not accepted:
        print(text)
        # Not a slow result but a broken run: keep the last good report.
        print(f"no report was accepted; see {server.log}", file=sys.stderr)
        return 1
    write_report(args.results, "reports", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
