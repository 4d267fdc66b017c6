from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .health import run_checks


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "aidhub/home.html")


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    healthy, parts = run_checks()
    failing = [name for name, state in parts.items() if state.startswith("error")]
    body = {"status": "ok" if healthy else "failing", "failing": failing, **parts}
    return JsonResponse(body, status=200 if healthy else 503)
