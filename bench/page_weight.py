#!/usr/bin/env python3
"""The weight of every public page of the demo, as a visitor's first load would cost it.

Run from the project folder::

    .venv/bin/python bench/page_weight.py

It seeds the demo into a throw-away SQLite database (nothing else is touched), fetches each
public page with Django's test client as an anonymous visitor, and prints a Markdown table:
the page's HTML gzipped, the HTML plus every render-blocking stylesheet (what a first visit
waits for before it draws anything), and the HTML plus every same-origin stylesheet and script
it references, each gzipped on its own (images are not counted). The same measurement is what
`tests/aidhub/test_page_weight.py` holds to the budget, so the table in docs/performance.md
is what the test saw.

HTML is gzipped at level 6 (what a reverse proxy such as nginx or Caddy is usually set to);
static files at level 9, which is how WhiteNoise stores its `.gz` copies.
"""

from __future__ import annotations

import gzip
import os
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent

PAGE_BUDGET = 50 * 1024  # HTML + CSS + JS, compressed, images excluded
HTML_BUDGET = 14 * 1024  # the HTML alone, compressed: about the first round trips of TCP
# The HTML and every stylesheet that blocks rendering, compressed: a first visit on 2G draws the
# page from what arrives in the first round trips (TCP's initial window is about 14 KB).
FIRST_PAINT_BUDGET = 14 * 1024
THUMBNAIL_BUDGET = 20 * 1024
# An <img> no bigger than this on both sides is an icon: it may load eagerly.
ICON_PIXELS = 48

# Elements and attributes that make the browser fetch something while the page loads.
FETCHING = {
    "link": ("href",),
    "script": ("src",),
    "img": ("src", "srcset"),
    "source": ("src", "srcset"),
    "iframe": ("src",),
    "video": ("src", "poster"),
    "audio": ("src",),
    "embed": ("src",),
    "object": ("data",),
    "input": ("src",),
}
# Attributes that hold a far host without fetching it on load: links the visitor may follow,
# and the hubs map's tile URL, fetched only when the visitor presses "Show on a map".
NOT_FETCHED = {("a", "href"), ("form", "action"), ("button", "data-tiles"), ("meta", "content")}


def gz(data: bytes, level: int) -> int:
    return len(gzip.compress(data, compresslevel=level, mtime=0))


@dataclass
class Page:
    label: str
    url: str
    status: int = 0
    html: int = 0
    assets: dict[str, int] = field(default_factory=dict)
    blocking: list[str] = field(default_factory=list)  # render-blocking stylesheets, by name
    far_hosts: set[str] = field(default_factory=set)
    eager_images: list[str] = field(default_factory=list)
    thumbnails: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.html + sum(self.assets.values())

    @property
    def first_paint(self) -> int:
        return self.html + sum(self.assets[name] for name in self.blocking)

    def over_budget(self) -> list[str]:
        found = []
        if self.status != 200:
            found.append(f"{self.label} {self.url}: status {self.status}")
        if self.html > HTML_BUDGET:
            found.append(
                f"{self.label} {self.url}: HTML is {self.html} bytes compressed "
                f"(budget {HTML_BUDGET})"
            )
        if self.first_paint > FIRST_PAINT_BUDGET:
            found.append(
                f"{self.label} {self.url}: HTML and render-blocking CSS are {self.first_paint} "
                f"bytes compressed (budget {FIRST_PAINT_BUDGET}): HTML {self.html}"
                + "".join(f" + {name} {self.assets[name]}" for name in self.blocking)
            )
        if self.total > PAGE_BUDGET:
            found.append(
                f"{self.label} {self.url}: first load is {self.total} bytes compressed "
                f"(budget {PAGE_BUDGET}): HTML {self.html} + "
                + ", ".join(f"{name} {size}" for name, size in self.assets.items())
            )
        found.extend(
            f"{self.label} {self.url}: thumbnail {src} is {size} bytes (budget {THUMBNAIL_BUDGET})"
            for src, size in self.thumbnails.items()
            if size > THUMBNAIL_BUDGET
        )
        return found

    def third_party(self) -> list[str]:
        return [f"{self.label} {self.url}: loads from {host}" for host in sorted(self.far_hosts)]

    def eager(self) -> list[str]:
        return [
            f"{self.label} {self.url}: <img src={src}> has no loading=lazy"
            for src in self.eager_images
        ]

    def problems(self) -> list[str]:
        return self.over_budget() + self.third_party() + self.eager()


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.styles: list[str] = []
        self.blocking_styles: list[str] = []
        self.scripts: list[str] = []
        self.images: list[dict[str, str]] = []
        self.urls: list[tuple[str, str, str]] = []  # (tag, attribute, value)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "link" and "stylesheet" in values.get("rel", "").split():
            self.styles.append(values.get("href", ""))
            # A stylesheet for another medium (the media="print" trick) does not block drawing.
            if values.get("media", "all").strip().lower() in {"all", "screen", ""}:
                self.blocking_styles.append(values.get("href", ""))
        elif tag == "script" and values.get("src"):
            self.scripts.append(values["src"])
        elif tag == "img":
            self.images.append(values)
        for name, value in values.items():
            self.urls.append((tag, name, value))


def _is_far(value: str) -> str:
    """The host a URL-like attribute value points at, if it is not this site's."""
    for candidate in value.replace(",", " ").split():
        if candidate.startswith(("http://", "https://", "//")):
            host = urlsplit(candidate).hostname or ""
            if host not in {"testserver", "localhost", "127.0.0.1"}:
                return host
    return ""


def _static_bytes(url: str) -> bytes:
    from django.conf import settings
    from django.contrib.staticfiles import finders

    path = urlsplit(url).path
    prefix = "/" + settings.STATIC_URL.lstrip("/")
    if not path.startswith(prefix):
        raise ValueError(f"{url} is not a static file")
    found = finders.find(path.removeprefix(prefix))
    if not found:
        raise FileNotFoundError(f"{url}: no such static file")
    return Path(found).read_bytes()


def measure(client, label: str, url: str) -> Page:
    page = Page(label, url)
    response = client.get(url)
    page.status = response.status_code
    body = response.content
    page.html = gz(body, 6)
    refs = _Refs()
    refs.feed(body.decode(response.charset or "utf-8"))
    for src in refs.styles + refs.scripts:
        if _is_far(src):
            continue  # reported below as a far host
        name = urlsplit(src).path.rsplit("/", 1)[-1]
        page.assets[name] = gz(_static_bytes(src), 9)
        if src in refs.blocking_styles:
            page.blocking.append(name)
    for tag, name, value in refs.urls:
        if (tag, name) in NOT_FETCHED:
            continue
        if name in FETCHING.get(tag, ()) or name in {"style", "background"}:
            host = _is_far(value)
            if host:
                page.far_hosts.add(host)
    for image in refs.images:
        src = image.get("src", "")
        small = all(image.get(side, "").isdigit() for side in ("width", "height")) and all(
            int(image[side]) <= ICON_PIXELS for side in ("width", "height")
        )
        if image.get("loading") != "lazy" and not small:
            page.eager_images.append(src)
        if "thumb" in src and not _is_far(src):
            thumb = client.get(src)
            page.thumbnails[src] = len(b"".join(thumb.streaming_content))
    return page


def public_pages() -> list[tuple[str, str]]:
    """Every public page of the seeded demo: the lists and one of each kind of detail page."""
    from deliveries.models import Delivery
    from donations.models import Fundraiser
    from hubs.models import Hub, Place
    from ledger.models import ReceiptCode

    hub = Hub.objects.order_by("pk").first()
    place = Place.objects.filter(deliveries__status="verified").order_by("pk").first()
    fundraiser = Fundraiser.objects.order_by("pk").first()
    # The delivery entry of the demo: the entry page with the most thumbnails.
    entry = Delivery.objects.filter(status="verified").order_by("pk").first().ledger_index
    receipt = ReceiptCode.objects.order_by("created_at").first()
    delivery = Delivery.objects.filter(status="dispatched").order_by("pk").first()
    pages = [
        ("home", "/"),
        ("hubs", "/hubs/"),
        ("hub", hub.get_absolute_url()),
        ("needs", "/needs/"),
        ("gaps", "/gaps/"),
        ("place", place.get_absolute_url()),
        ("fundraisers", "/fundraisers/"),
        ("fundraiser", fundraiser.get_absolute_url()),
        ("group", fundraiser.group.get_absolute_url()),
        ("ledger", "/ledger/"),
        ("ledger entry", f"/ledger/{entry}/"),
        ("verify instructions", "/ledger/verify/"),
        ("receipt lookup", "/ledger/receipt/"),
        ("receipt", f"/ledger/receipt/{receipt.code}/"),
        ("handover confirm", f"/handover/{delivery.slug}/"),
        ("log in", "/accounts/login/"),
    ]
    return pages


def volunteer_pages() -> list[tuple[str, str]]:
    """The pages a volunteer opens on the road (logged in: they also load the offline queue)."""
    from deliveries.models import Delivery

    delivery = Delivery.objects.filter(status="dispatched").order_by("pk").first()
    return [
        ("my deliveries", "/deliveries/"),
        ("a delivery", delivery.get_absolute_url()),
        ("its report form", f"{delivery.get_absolute_url()}report/"),
    ]


def measure_all(client) -> list[Page]:
    return [measure(client, label, url) for label, url in public_pages()]


def measure_volunteer(client) -> list[Page]:
    """The volunteer pages, as the demo volunteer whose delivery is on the way."""
    from deliveries.models import Delivery

    client.force_login(Delivery.objects.filter(status="dispatched").first().volunteer)
    try:
        return [measure(client, label, url) for label, url in volunteer_pages()]
    finally:
        client.logout()


def table(pages: Iterable[Page]) -> str:
    def kb(n: int) -> str:
        return f"{n / 1024:.1f} KB"

    lines = [
        "| page | URL | HTML | HTML + blocking CSS | CSS + JS | first load "
        "| thumbnails (largest) | within budget |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for page in pages:
        verdict = "yes" if not page.problems() else "**no**"
        thumbs = (
            f"{len(page.thumbnails)} ({kb(max(page.thumbnails.values()))})"
            if page.thumbnails
            else "—"
        )
        lines.append(
            f"| {page.label} | `{page.url}` | {kb(page.html)} | {kb(page.first_paint)} "
            f"| {kb(page.total - page.html)} "
            f"| {kb(page.total)} | {thumbs} | {verdict} |"
        )
    return "\n".join(lines)


def main() -> int:
    workdir = Path(tempfile.mkdtemp(prefix="aidhub-page-weight-"))
    sys.path.insert(0, str(ROOT))
    from ledger.note import generate_private_key_text

    os.environ.update(
        DJANGO_SETTINGS_MODULE="aidhub.settings",
        DATABASE_URL=f"sqlite:///{workdir / 'db.sqlite3'}",
        MEDIA_ROOT=str(workdir / "media"),
        REDIS_URL="",
        DEBUG="true",
        AIDHUB_PRODUCTION="false",
        LEDGER_SIGNING_KEY=generate_private_key_text("aidhub.localhost/ledger"),
        LOG_LEVEL="WARNING",
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    call_command("migrate", verbosity=0)
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    client = Client()
    pages = measure_all(client)
    volunteer = measure_volunteer(client)
    print("Public pages (anonymous visitor):\n")
    print(table(pages))
    print("\nA volunteer's pages (logged in; they also load the offline queue's scripts):\n")
    print(table(volunteer))
    pages += volunteer
    problems = [problem for page in pages for problem in page.problems()]
    for problem in problems:
        print(f"over budget: {problem}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
