"""Every public page of the demo fits the budget of a phone on 2G: at most 50 KB compressed on
first load (images excluded), its HTML and render-blocking CSS at most 14 KB together,
thumbnails at most 20 KB and lazy, and nothing from a third-party host. The measurement is
bench/page_weight.py's, which also prints the table in docs/performance.md."""

import base64
import hashlib
import io
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from bench.page_weight import (
    FIRST_PAINT_BUDGET,
    HTML_BUDGET,
    PAGE_BUDGET,
    Page,
    measure_all,
    measure_volunteer,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(media, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):  # thumbnails are made on commit
        call_command("seed_demo", stdout=io.StringIO())


@pytest.fixture
def pages(demo, client):
    return measure_all(client)


def test_every_public_page_is_within_the_weight_budget(pages):
    assert len(pages) >= 15
    problems = [problem for page in pages for problem in page.over_budget()]
    assert not problems, "\n".join(problems)


def _first_paint_problems(pages: list[Page]) -> list[str]:
    return [
        f"{page.label} {page.url}: HTML {page.html} + render-blocking CSS "
        f"{page.first_paint - page.html} = {page.first_paint} bytes compressed "
        f"(budget {FIRST_PAINT_BUDGET}): {', '.join(page.blocking) or 'no stylesheet'}"
        for page in pages
        if page.first_paint > FIRST_PAINT_BUDGET
    ]


def test_every_public_page_draws_from_its_first_round_trips(pages):
    assert FIRST_PAINT_BUDGET == 14 * 1024
    assert not _first_paint_problems(pages), "\n".join(_first_paint_problems(pages))


def test_the_volunteers_report_form_draws_from_its_first_round_trips(demo, client):
    pages = measure_volunteer(client)
    assert [page.label for page in pages][-1] == "its report form"
    assert not _first_paint_problems(pages), "\n".join(_first_paint_problems(pages))


def test_the_inlined_stylesheet_is_allowed_by_its_hash_in_the_csp(client):
    response = client.get("/accounts/login/")
    styles = re.findall(r"<style>(.*?)</style>", response.text, flags=re.S)
    assert len(styles) == 1 and ".navbar-brand" in styles[0]
    digest = base64.b64encode(hashlib.sha256(styles[0].encode()).digest()).decode()
    style_src = next(
        part.split()[1:]
        for part in response["Content-Security-Policy"].split(";")
        if part.split()[:1] == ["style-src"]
    )
    assert f"'sha256-{digest}'" in style_src
    assert "'unsafe-inline'" not in style_src


def _selectors(css: str) -> list[set[str]]:
    """The class names each selector of a stylesheet needs."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    return [
        set(re.findall(r"\.(-?[A-Za-z_][\w-]*)", selector))
        for selectors in re.findall(r"([^{}]+)\{", css)
        for selector in selectors.split(",")
    ]


def _classes_named(text: str) -> set[str]:
    """Every word of a class attribute in a template, and every word of a script's strings."""
    names = set()
    for value in re.findall(r'class="([^"]*)"', text) + re.findall(r'"([^"\n]*)"', text):
        names.update(re.sub(r"\{[%{].*?[%}]\}", " ", value).split())
    return names


def test_site_css_keeps_every_rule_the_templates_and_scripts_use():
    """static/css/site.css is made by `make css`: run it after using a class it does not have."""
    static = Path(settings.BASE_DIR) / "static"
    sources = [
        *(Path(settings.BASE_DIR) / "templates").rglob("*.html"),
        *(static / "js").glob("*.js"),
    ]
    named = set().union(*(_classes_named(path.read_text()) for path in sources))
    full = (static / "vendor/bootstrap/bootstrap.min.css").read_text()
    full += (static / "css/aidhub.css").read_text()
    trimmed = set().union(*_selectors((static / "css/site.css").read_text()))
    # A rule applies to our pages when every class its selector needs is used somewhere.
    missing = {
        name for needs in _selectors(full) if needs and needs <= named for name in needs - trimmed
    }
    assert not missing, "not in static/css/site.css (run `make css`): " + ", ".join(sorted(missing))
    assert {"alert-info", "alert-success", "alert-warning", "alert-danger"} <= trimmed


def test_no_public_page_loads_anything_from_a_third_party_host(pages):
    problems = [problem for page in pages for problem in page.third_party()]
    assert not problems, "\n".join(problems)


def test_every_image_on_a_public_page_but_icons_loads_lazily(pages):
    problems = [problem for page in pages for problem in page.eager()]
    assert not problems, "\n".join(problems)
    assert any(page.thumbnails for page in pages), "the demo's ledger shows thumbnails"


def test_the_volunteers_pages_with_the_offline_queue_are_within_the_budget_too(demo, client):
    pages = measure_volunteer(client)
    assert all("offline-report.js" in page.assets for page in pages)
    problems = [problem for page in pages for problem in page.problems()]
    assert not problems, "\n".join(problems)


def test_the_offline_queue_is_not_loaded_on_public_pages(pages):
    assert not [page.url for page in pages if "offline-report.js" in page.assets]


def test_an_over_budget_page_is_named_with_its_bytes():
    page = Page("ledger", "/ledger/", status=200, html=HTML_BUDGET + 1)
    page.assets = {"bootstrap.min.css": PAGE_BUDGET}
    page.blocking = ["bootstrap.min.css"]
    page.far_hosts = {"fonts.example"}
    page.eager_images = ["/big.jpg"]
    problems = page.problems()
    assert f"ledger /ledger/: HTML is {HTML_BUDGET + 1} bytes compressed" in problems[0]
    assert "HTML and render-blocking CSS are" in problems[1]
    assert f"+ bootstrap.min.css {PAGE_BUDGET}" in problems[1]
    assert f"first load is {PAGE_BUDGET + HTML_BUDGET + 1} bytes compressed" in problems[2]
    assert "loads from fonts.example" in problems[3]
    assert "/big.jpg" in problems[4]
