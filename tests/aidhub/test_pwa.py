"""The volunteer pages as an installable, offline-capable app: service worker, manifest, the
offline queue's scripts and status area, and a logout that clears the phone."""

import io
import json
import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_service_worker_is_served_from_the_root_with_the_app_shell_filled_in(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    assert "no-cache" in response["Cache-Control"]
    body = response.text
    assert not re.search(r"__[A-Z]+__", body)  # every placeholder filled in
    assert 'importScripts("/static/js/report-queue.js")' in body
    assert '"/static/js/offline-report.js"' in body
    assert ".css" not in body  # pages carry their CSS inline: the phone keeps no stylesheet
    assert re.search(r'"aidhub-shell-[0-9a-f]{16}"', body)
    assert 'var MINE = "/deliveries/"' in body


def test_the_service_worker_version_changes_when_a_shell_file_changes(client, settings, tmp_path):
    before = re.search(r"aidhub-shell-([0-9a-f]+)", client.get("/sw.js").text)[1]
    (tmp_path / "js").mkdir()
    (tmp_path / "js" / "offline-report.js").write_text("// changed")
    settings.STATICFILES_DIRS = [tmp_path, *settings.STATICFILES_DIRS]
    settings.DEBUG = True  # in production the worker is rendered once per process
    after = re.search(r"aidhub-shell-([0-9a-f]+)", client.get("/sw.js").text)[1]
    assert before != after


def test_the_manifest_starts_at_my_deliveries_in_the_visitors_language(client):
    response = client.get("/manifest.webmanifest", headers={"accept-language": "ru"})
    assert response["Content-Type"] == "application/manifest+json"
    manifest = json.loads(response.content)
    assert manifest["start_url"] == reverse("deliveries:mine")
    assert manifest["display"] == "standalone"
    assert manifest["lang"] == "ru"
    assert manifest["icons"][0]["src"] == "/static/img/icon.svg"
    assert "Mutual aid" not in manifest["description"]


def test_public_pages_do_not_load_the_offline_queue(client):
    page = client.get("/").text
    assert "offline-report.js" not in page
    assert 'rel="manifest"' not in page
    assert 'id="offline-queue"' not in page


def test_a_logged_in_volunteer_gets_the_manifest_the_scripts_and_the_status_area(client, volunteer):
    client.force_login(volunteer)
    page = client.get("/").text
    assert '<link rel="manifest" href="/manifest.webmanifest">' in page
    assert '<script src="/static/js/report-queue.js" defer></script>' in page
    assert '<script src="/static/js/offline-report.js" defer></script>' in page
    assert 'id="offline-queue"' in page and 'data-sw="/sw.js"' in page
    assert "Delivery reports waiting to be sent:" in page


def test_logging_out_tells_the_browser_to_forget_cached_pages_and_queued_reports(client, volunteer):
    client.force_login(volunteer)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response["Clear-Site-Data"] == '"cache", "storage"'
    assert not client.get("/").context["user"].is_authenticated


@pytest.fixture
def demo(media):
    from django.core.management import call_command

    call_command("seed_demo", stdout=io.StringIO())
    return get_user_model().objects.get(username="volunteer")


def test_my_deliveries_names_only_my_own_deliveries_for_keeping_offline(client, demo):
    from deliveries.models import Delivery

    client.force_login(demo)
    page = client.get(reverse("deliveries:mine")).text
    kept = " ".join(re.findall(r'data-offline="([^"]*)"', page)).split()
    samarkandyk = Delivery.objects.get(place__slug="samarkandyk")  # mine, on the way
    isfana = Delivery.objects.get(place__slug="isfana")  # mine, verified: not listed
    ak_sai = Delivery.objects.get(place__slug="ak-sai")  # free to take: listed, not mine
    assert samarkandyk.get_absolute_url() in kept
    assert reverse("deliveries:report", args=[samarkandyk.slug]) in kept
    assert ak_sai.get_absolute_url() in page
    assert ak_sai.get_absolute_url() not in kept
    assert isfana.get_absolute_url() not in kept


def test_the_report_form_carries_what_the_offline_queue_needs(client, demo):
    from deliveries.models import Delivery

    delivery = Delivery.objects.get(place__slug="samarkandyk")
    client.force_login(demo)
    page = client.get(reverse("deliveries:report", args=[delivery.slug])).text
    assert f'data-slug="{delivery.slug}"' in page
    assert f'data-delivery="{delivery.get_absolute_url()}"' in page
    assert 'data-place="Samarkandyk"' in page
    assert 'id="report-status"' in page


def test_the_offline_scripts_have_no_words_of_their_own():
    """Every word a volunteer reads comes from the page, translated: none from the scripts."""
    from pathlib import Path

    folder = Path(__file__).resolve().parents[2] / "static" / "js"
    for name in ["offline-report.js", "report-queue.js", "sw.js"]:
        code = re.sub(r"^\s*//.*$", "", (folder / name).read_text(), flags=re.M)
        literals = re.findall(r'"([^"\n]*)"', code)
        prose = [text for text in literals if re.fullmatch(r"[A-Z][a-z]+( [a-z]+)+\W?", text)]
        assert not prose, f"{name}: {prose}"
