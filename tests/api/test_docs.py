"""/api/schema/ and /api/docs/: the OpenAPI schema, and Swagger UI from our own static files
under the site's Content-Security-Policy (no inline script or style, no other host)."""

import re
from html.parser import HTMLParser

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command

pytestmark = pytest.mark.django_db

PATHS = [
    "/api/v1/hubs/", "/api/v1/hubs/{slug}/", "/api/v1/places/", "/api/v1/places/{slug}/",
    "/api/v1/requests/", "/api/v1/fundraisers/", "/api/v1/fundraisers/{slug}/",
    "/api/v1/deliveries/", "/api/v1/deliveries/{slug}/", "/api/v1/deliveries/{slug}/report/",
    "/api/v1/ledger/entries/", "/api/v1/ledger/entries/{index}/",
]  # fmt: skip


class Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts = 0
        self.inline_styles = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attrs = dict(attrs)
        self.urls += [attrs[name] for name in ("src", "href") if attrs.get(name)]
        self.inline_scripts += tag == "script" and not attrs.get("src")
        self.inline_styles += tag == "style" or "style" in attrs


def test_the_schema_is_openapi_3_with_every_endpoint(client):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert sorted(schema["paths"]) == sorted(PATHS)


def test_the_schema_validates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", tmp_path / "s.yaml")


def test_the_docs_page_loads_only_same_origin_files_and_no_inline_code(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert "script-src 'self'" in response["Content-Security-Policy"]
    page = Assets()
    page.feed(response.text)
    assert page.inline_scripts == 0 and page.inline_styles == 0
    assert len(page.urls) >= 5
    for url in page.urls:
        assert url.startswith("/") and not url.startswith("//"), url
    static = [url.removeprefix("/static/") for url in page.urls if url.startswith("/static/")]
    assert any("swagger-ui-bundle.js" in path for path in static)
    assert all(finders.find(path) for path in static), static


def test_the_docs_script_points_swagger_ui_at_our_schema(client):
    html = client.get("/api/docs/").text
    assert re.search(r'data-schema-url="/api/schema/"', html)
    with open(finders.find("api/docs.js"), encoding="utf-8") as script:
        assert "root.dataset.schemaUrl" in script.read()
