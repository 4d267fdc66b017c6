#!/usr/bin/env python3
"""A first visit on 2G, measured in Chromium: how long until each page is usable, and how long a
volunteer's report with a 1 MB photo takes to reach the server.

Run from the project folder (needs /usr/bin/chromium and the playwright package)::

    .venv/bin/python bench/firstvisit.py

It seeds the demo into a throw-away SQLite database in a temporary folder, collects the static
files as `make run` does (gzipped, into staticfiles/), and starts Django's development server
(the one `make run` uses) twice: once as `make run` serves pages (HTML uncompressed) and once
with the HTML gzipped at level 6, as a reverse proxy in front of gunicorn serves it in
production. Chromium reaches each server through a shaping proxy written below: 250 kbit/s each
way shared by all connections, 800 ms round trips (400 ms each way), a round trip for each new
connection's handshake, and TCP's slow start (10 segments in the first round trip, doubling).

Each page is opened in a new browser context (an empty cache: a first visit). "Usable" is the
first contentful paint: the page is drawn with its styles, and every page and form works without
JavaScript. DOMContentLoaded (its deferred scripts have run too: the offline queue on the
report form) is printed beside it. The report is timed from pressing "Send the report" to the
report being in the database; the phone first makes the photo smaller (offline-report.js).

Benchmarks print figures, never pass or fail. Goals (issue 14): a first visit usable within 4 s,
a report sent within 12 s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import io
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
CHROMIUM = "/usr/bin/chromium"
RATE_BITS = 250_000
RTT = 0.8
SEGMENT = 1460
INITIAL_WINDOW = 10 * SEGMENT


# ---- the shaping proxy -------------------------------------------------------------------------


class Link:
    """One direction of the line: every connection's bytes queue for the same bandwidth."""

    def __init__(self, bits_per_second: int) -> None:
        self.bytes_per_second = bits_per_second / 8
        self.free_at = 0.0

    def transmit(self, size: int, now: float) -> float:
        """When the last of `size` bytes handed over at `now` has left the sender."""
        self.free_at = max(now, self.free_at) + size / self.bytes_per_second
        return self.free_at


async def _pipe(reader, writer, link: Link, rtt: float) -> None:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()

    async def deliver() -> None:
        while True:
            at, data = await queue.get()
            await asyncio.sleep(max(0.0, at - loop.time()))
            if data is None:
                break
            try:
                writer.write(data)
                await writer.drain()
            except (ConnectionError, OSError):
                return
        with contextlib.suppress(OSError, RuntimeError):
            writer.write_eof()

    delivering = asyncio.create_task(deliver())
    window, sent_in_round, round_ends = INITIAL_WINDOW, 0, 0.0
    try:
        while data := await reader.read(64 * 1024):
            while data:
                now = loop.time()
                if now >= round_ends:
                    round_ends, sent_in_round = now + rtt, 0
                if sent_in_round >= window:  # slow start: wait for the acknowledgements
                    await asyncio.sleep(round_ends - now)
                    window *= 2
                    round_ends, sent_in_round = loop.time() + rtt, 0
                    continue
                part, data = (
                    data[: window - sent_in_round],
                    data[window - sent_in_round :],
                )
                sent_in_round += len(part)
                queue.put_nowait((link.transmit(len(part), loop.time()) + rtt / 2, part))
    except (ConnectionError, OSError):
        pass
    queue.put_nowait((link.free_at + rtt / 2, None))
    await delivering


async def _serve_proxy(listen: socket.socket, upstream: int, ready: threading.Event) -> None:
    down, up = Link(RATE_BITS), Link(RATE_BITS)

    async def connection(client_reader, client_writer) -> None:
        await asyncio.sleep(RTT)  # the TCP handshake: SYN, SYN-ACK
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", upstream)
        await asyncio.gather(
            _pipe(client_reader, server_writer, up, RTT),
            _pipe(server_reader, client_writer, down, RTT),
        )
        client_writer.close()
        server_writer.close()

    server = await asyncio.start_server(connection, sock=listen)
    ready.set()
    async with server:
        await server.serve_forever()


def start_proxy(upstream: int) -> int:
    listen = socket.socket()
    listen.bind(("127.0.0.1", 0))
    ready = threading.Event()
    thread = threading.Thread(
        target=asyncio.run, args=(_serve_proxy(listen, upstream, ready),), daemon=True
    )
    thread.start()
    ready.wait(10)
    return listen.getsockname()[1]


# ---- the server --------------------------------------------------------------------------------


def gzip_html(app):
    """What a reverse proxy with `gzip on` (level 6) does to Django's HTML."""

    def wrapped(environ, start_response):
        if "gzip" not in environ.get("HTTP_ACCEPT_ENCODING", ""):
            return app(environ, start_response)
        seen = {}

        def capture(status, headers, exc_info=None):
            seen.update(status=status, headers=headers)
            return lambda data: None

        result = app(environ, capture)
        try:
            body = b"".join(result)
        finally:
            getattr(result, "close", lambda: None)()
        headers = seen["headers"]
        names = {name.lower(): value for name, value in headers}
        if names.get("content-type", "").startswith("text/html") and (
            "content-encoding" not in names
        ):
            body = gzip.compress(body, compresslevel=6, mtime=0)
            headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
            headers += [("Content-Encoding", "gzip"), ("Content-Length", str(len(body)))]
        start_response(seen["status"], headers)
        return [body]

    return wrapped


def serve(port: int, compress: bool) -> None:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.servers.basehttp import run
    from django.core.wsgi import get_wsgi_application

    app = get_wsgi_application()
    run("127.0.0.1", port, gzip_html(app) if compress else app, threading=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(compress: bool) -> tuple[subprocess.Popen, int]:
    port = free_port()
    args = [PYTHON, __file__, "--serve", str(port)] + (["--gzip-html"] if compress else [])
    quiet = subprocess.DEVNULL  # the request log
    process = subprocess.Popen(args, cwd=ROOT, stdout=quiet, stderr=quiet)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, port
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the server did not start")


# ---- the browser -------------------------------------------------------------------------------

TIMINGS = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const paint = performance.getEntriesByName("first-contentful-paint")[0];
  const brand = document.querySelector(".navbar-brand");
  return {fcp: paint ? paint.startTime : null, dcl: nav.domContentLoadedEventEnd,
          load: nav.loadEventEnd, bytes: nav.transferSize,
          styled: !!brand && getComputedStyle(brand).color === "rgb(176, 42, 55)"};
}"""


def photo_of_a_megabyte() -> bytes:
    from PIL import Image

    size = (2400, 1800)
    image = Image.merge(
        "RGB",
        (
            Image.effect_mandelbrot(size, (-2.0, -1.2, 1.0, 1.2), 60),
            Image.effect_noise(size, 12),
            Image.linear_gradient("L").resize(size),
        ),
    )
    for quality in (95, 90, 85, 80, 75, 70, 60, 50):
        out = io.BytesIO()
        image.save(out, "JPEG", quality=quality)
        if out.tell() <= 1_100_000:
            break
    return out.getvalue()


def first_visit(browser, base: str, path: str, cookies: list[dict]) -> dict:
    context = browser.new_context()
    context.add_cookies(cookies)
    page = context.new_page()
    violations = []
    page.on("console", lambda m: "Content Security Policy" in m.text and violations.append(m))
    page.goto(base + path, wait_until="load", timeout=120_000)
    with contextlib.suppress(Exception):  # the paint entry can come a frame after "load"
        page.wait_for_function(
            "() => performance.getEntriesByName('first-contentful-paint').length", timeout=5000
        )
    timings = page.evaluate(TIMINGS)
    timings["usable"] = timings["fcp"]
    timings["csp"] = len(violations)
    context.close()
    return timings


def report(browser, base: str, path: str, cookies: list[dict], photo: Path, delivery) -> float:
    from deliveries.models import ProofOfDelivery

    context = browser.new_context()
    context.add_cookies(cookies)
    page = context.new_page()
    page.goto(base + path, wait_until="load", timeout=120_000)
    page.set_input_files("#id_photos", str(photo))
    page.fill("#id_people", "57")
    page.fill("#id_households", "12")
    started = time.monotonic()
    page.click("#report-form [type=submit]")
    while not ProofOfDelivery.objects.filter(delivery=delivery).exists():
        page.wait_for_timeout(100)
        if time.monotonic() - started > 180:
            context.close()
            return float("inf")
    elapsed = time.monotonic() - started
    context.close()
    return elapsed


def main() -> int:
    workdir = Path(tempfile.mkdtemp(prefix="aidhub-firstvisit-"))
    sys.path.insert(0, str(ROOT))
    from ledger.note import generate_private_key_text

    os.environ.update(
        DJANGO_SETTINGS_MODULE="aidhub.settings",
        DATABASE_URL=f"sqlite:///{workdir / 'db.sqlite3'}",
        MEDIA_ROOT=str(workdir / "media"),
        REDIS_URL="",
        DEBUG="true",
        AIDHUB_PRODUCTION="false",
        WHITENOISE_USE_FINDERS="false",  # as `make run`: the collected, gzipped copies
        LEDGER_SIGNING_KEY=generate_private_key_text("aidhub.localhost/ledger"),
        LOG_LEVEL="WARNING",
        EMAIL_URL="dummymail://",
        DJANGO_ALLOW_ASYNC_UNSAFE="true",  # the ORM beside Playwright's event loop
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from playwright.sync_api import sync_playwright

    from deliveries.models import Delivery
    from donations.models import Fundraiser

    call_command("migrate", verbosity=0)
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    call_command("collectstatic", interactive=False, verbosity=0)
    photo = workdir / "photo.jpg"
    photo.write_bytes(photo_of_a_megabyte())

    pages = [
        ("home", "/", False),
        ("fundraiser", Fundraiser.objects.order_by("pk").first().get_absolute_url(), False),
        ("ledger", "/ledger/", False),
    ]
    rows: list[tuple[str, str, dict, dict]] = []
    sends: dict[str, float] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        # The demo has one delivery on the road: its report is sent last, in the second run.
        delivery = Delivery.objects.filter(status="dispatched").order_by("pk").first()
        report_path = f"{delivery.get_absolute_url()}report/"
        for compress in (True, False):
            server, port = start_server(compress)
            try:
                for _label, path, _logged_in in pages:  # warm the server up, unshaped
                    urllib.request.urlopen(f"http://127.0.0.1:{port}{path}").read()
                base = f"http://127.0.0.1:{start_proxy(port)}"
                client = Client()
                client.force_login(delivery.volunteer)
                cookies = [
                    {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}
                ]
                for label, path, logged_in in [
                    *pages,
                    ("report form (volunteer)", report_path, True),
                ]:
                    visit = first_visit(browser, base, path, cookies if logged_in else [])
                    rows.append((label, path, visit, {"compress": compress}))
                if not compress:
                    sends[compress] = report(browser, base, report_path, cookies, photo, delivery)
            finally:
                server.terminate()
                server.wait()
        browser.close()

    def s(ms) -> str:
        return "—" if ms is None else f"{ms / 1000:.1f} s"

    print(
        f"First visit over {RATE_BITS // 1000} kbit/s, {RTT * 1000:.0f} ms round trips "
        f"(photo {photo.stat().st_size / 1e6:.2f} MB):\n"
    )
    print("| page | HTML served | first paint | DOMContentLoaded | usable | load | styled |")
    print("| --- | --- | ---: | ---: | ---: | ---: | --- |")
    for label, _path, t, how in rows:
        served = "gzipped (reverse proxy)" if how["compress"] else "as `make run` (plain)"
        print(
            f"| {label} | {served} | {s(t['fcp'])} | {s(t['dcl'])} | **{s(t['usable'])}** "
            f"| {s(t['load'])} | {'yes' if t['styled'] and not t['csp'] else 'NO'} |"
        )
    for compress, seconds in sends.items():
        served = "gzipped HTML" if compress else "as `make run`"
        print(f"\nReport with a 1 MB photo, {served}: **{seconds:.1f} s** from Send to the server")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--gzip-html", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.serve:
        serve(options.serve, options.gzip_html)
        sys.exit(0)
    sys.exit(main())
