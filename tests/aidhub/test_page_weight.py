"""Every public page of the demo fits the budget of a phone on 2G: at most 50 KB compressed on
first load (images excluded), its HTML at most 14 KB, thumbnails at most 20 KB and lazy, and
nothing from a third-party host. The measurement is bench/page_weight.py's, which also prints
the table in docs/performance.md."""

import io

import pytest
from django.core.management import call_command

from bench.page_weight import HTML_BUDGET, PAGE_BUDGET, Page, measure_all, measure_volunteer

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
    page.far_hosts = {"fonts.example"}
    page.eager_images = ["/big.jpg"]
    problems = page.problems()
    assert f"ledger /ledger/: HTML is {HTML_BUDGET + 1} bytes compressed" in problems[0]
    assert f"first load is {PAGE_BUDGET + HTML_BUDGET + 1} bytes compressed" in problems[1]
    assert "loads from fonts.example" in problems[2]
    assert "/big.jpg" in problems[3]
