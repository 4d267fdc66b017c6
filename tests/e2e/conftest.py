"""End-to-end tests: Debian's Chromium, driven by Playwright, against a live AidHub server.

Playwright never downloads a browser here: it starts /usr/bin/chromium. Without it (or without
the `playwright` package) the tests are skipped with the reason shown, unless
AIDHUB_REQUIRE_E2E is set (CI sets it), which turns the skip into a failure.

Screenshots of every step go to test-artifacts/e2e/<test>/.
"""

import os
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.servers.basehttp import WSGIServer

from .steps import Shots

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_collection_modifyitems(config, items):
    # Chromium has its own clock: these tests run on the machine's (tests/conftest.py).
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.real_clock)


def _missing() -> str:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (make install)"
    return ""


@pytest.fixture(scope="package")
def browser():
    missing = _missing()
    if missing:
        if os.environ.get("AIDHUB_REQUIRE_E2E"):
            pytest.fail(f"AIDHUB_REQUIRE_E2E is set but {missing}", pytrace=False)
        pytest.skip(f"end-to-end tests need Chromium and Playwright: {missing}")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread until it stops; the
    # tests' own ORM calls (seeding, checking the database) are still plain synchronous code.
    # Package scope: the loop is gone before the next folder's tests run.
    allow = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if allow is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = allow


class _OneAtATime(WSGIServer):
    def __init__(self, *args, connections_override=None, **kwargs):
        # Requests are handled in the server's own thread, which already uses these.
        super().__init__(*args, **kwargs)


@pytest.fixture(scope="session")
def live_server(request):
    """pytest-django's live server, answering one request at a time: with SQLite in memory
    every request thread would share one connection, and the browser and its service worker
    send requests side by side."""
    from pytest_django.live_server_helper import LiveServer

    server = LiveServer("localhost", start=False)
    server.thread.server_class = _OneAtATime
    server.start()
    request.addfinalizer(server.stop)
    return server


@pytest.fixture
def demo(browser, media, ledger_transactional_db, live_server):
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    return live_server.url


@pytest.fixture
def shots(request):
    return Shots(request.node.name)


@pytest.fixture
def new_page(browser, demo):
    """Pages in fresh browser contexts (one person's phone or laptop each), closed afterwards.
    Any breach of the Content Security Policy on any of them fails the test."""
    contexts = []
    breaches = []

    def watch(page):
        def on_console(message):
            # A photo opened on its own is shown by Chromium's image viewer, which styles
            # itself inline: that is the browser's page, not ours.
            if "Content Security Policy" in message.text and "/evidence/" not in page.url:
                breaches.append(f"{page.url}: {message.text}")

        return on_console

    def open_page(viewport=None, **options):
        context = browser.new_context(
            base_url=demo, viewport=viewport or {"width": 1024, "height": 800}, **options
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.on("console", watch(page))
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert not breaches, "\n".join(breaches)
