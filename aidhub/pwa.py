"""The volunteer pages as a progressive web app: the service worker, the manifest, and a
logout that wipes what the phone kept.

The service worker must be served from the site root to control every page, so it is a view
rather than a static file; it names the app shell by its real static URLs (hashed in
production), and its version changes whenever the shell or the worker changes, which makes
the browser install the new one.
"""

import hashlib
import json
from functools import cache
from pathlib import Path

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

# What a volunteer's phone keeps so the pages open with no network at all. No stylesheet: every
# page carries its CSS inline (templates/base.html), so none is worth 31 KB of a 2G download.
SHELL = [
    "js/report-queue.js",
    "js/offline-report.js",
    "img/icon.svg",
]


def _static_source(name: str) -> bytes:
    found = finders.find(name)
    if not found:
        raise FileNotFoundError(name)
    return Path(found).read_bytes()


def _render_worker() -> str:
    source = _static_source("js/sw.js").decode()
    shell = [static(name) for name in SHELL]
    version = hashlib.sha256(source.encode())
    for name in SHELL:
        version.update(_static_source(name))
    return (
        source.replace('"__SHELL__"', json.dumps(shell))
        .replace("__QUEUE_SCRIPT__", static("js/report-queue.js"))
        .replace("__MINE__", reverse("deliveries:mine"))
        .replace("__VERSION__", version.hexdigest()[:16])
    )


_cached_worker = cache(_render_worker)


@never_cache
@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    body = _render_worker() if settings.DEBUG else _cached_worker()
    response = HttpResponse(body, content_type="application/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/"
    return response


@require_GET
def manifest(request: HttpRequest) -> JsonResponse:
    body = {
        "name": "AidHub",
        "short_name": "AidHub",
        "description": _(
            "Mutual aid in a crisis: collection hubs, needs, deliveries with proof and a "
            "public ledger anyone can check."
        ),
        "lang": get_language(),
        "start_url": reverse("deliveries:mine"),
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#b02a37",
        "icons": [{"src": static("img/icon.svg"), "sizes": "any", "type": "image/svg+xml"}],
    }
    response = JsonResponse(body, json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/manifest+json"
    return response


class LogoutView(auth_views.LogoutView):
    """Django's logout, and the browser forgets every page and queued report it kept, so the
    next person to use the phone sees nothing of the last one's deliveries."""

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        response["Clear-Site-Data"] = '"cache", "storage"'
        return response
