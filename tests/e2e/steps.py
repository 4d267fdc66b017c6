"""Helpers for the end-to-end tests: screenshots of each step, logging in, waiting."""

import re
import time
from pathlib import Path

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"
PHONE = {"width": 360, "height": 740}
DEMO_PASSWORD = "aidhub-demo"


class Shots:
    """Numbered screenshots of one test's steps."""

    def __init__(self, name: str) -> None:
        self.folder = ARTIFACTS / re.sub(r"[^\w.-]+", "-", name)
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("*.png"):
            old.unlink()
        self.count = 0

    def __call__(self, page, step: str) -> None:
        self.count += 1
        page.screenshot(path=self.folder / f"{self.count:02d}-{step}.png", full_page=True)


def log_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("main [type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def wait_until(page, expression: str, *, timeout: float, every: float = 0.25):
    """Evaluate `expression` in the page until it gives a truthy value, and return that value.

    For a function that returns a promise (reading IndexedDB, say): Playwright's
    `wait_for_function` takes the promise itself as truthy and returns at once
    (microsoft/playwright#29132), while `evaluate` waits for what it resolves to.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = page.evaluate(expression)
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"still falsy after {timeout} s: {expression[:80]}")
        time.sleep(every)


def choose_language(page, code: str) -> None:
    """Pick a language in the footer's form, as a person does; the same page comes back in it."""
    page.select_option("#language", code)
    page.click("footer [type=submit]")
    page.wait_for_function(f"() => document.documentElement.lang === '{code}'")


def lose_the_first_answer(page, url: str, received=None) -> list[str]:
    """The server gets the first POST to `url` but the phone never hears its answer; later
    POSTs go through. `received()` runs once the server has the first one. Returns the
    Idempotency-Key of every POST, in order."""
    keys = []

    def handle(route):
        if route.request.method != "POST":
            return route.continue_()
        keys.append(route.request.headers.get("idempotency-key"))
        if len(keys) > 1:
            return route.continue_()
        route.fetch()  # the server gets the report and records it...
        if received is not None:
            received()
        route.abort("connectionreset")  # ...and the phone never hears back

    page.route(f"**{url}", handle)
    return keys
