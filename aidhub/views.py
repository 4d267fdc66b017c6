from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.functional import SimpleLazyObject
from django.views import i18n
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from . import roles, search
from .health import run_checks
from .pagecache import public_page
from .ratelimits import exceeded


# Choosing the language of the pages takes no CSRF token: a forged request can only change the
# language someone reads in, while a token in every page's footer would set a cookie for every
# visitor, and public pages that set cookies cannot be served whole from the cache.
@csrf_exempt
def set_language(request: HttpRequest) -> HttpResponse:
    response = i18n.set_language(request)
    if request.method == "POST" and request.user.is_authenticated:
        # What is sent to this person by e-mail (their daily digest) follows the choice too.
        from notifications.services import user_language_remember

        user_language_remember(user=request.user, language=request.POST.get("language", ""))
    return response


@require_GET
@public_page(lambda: "", timeout=300)  # the same for everyone: only the language changes it
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "aidhub/home.html")


@login_required
@require_GET
def start(request: HttpRequest) -> HttpResponse:
    """Where login lands: the coordinator's hub, the organiser's fundraiser, the volunteer's
    deliveries."""
    return redirect(roles.roles_of(request.user).start_url())


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    healthy, parts = run_checks()
    failing = [name for name, state in parts.items() if state.startswith("error")]
    body = {"status": "ok" if healthy else "failing", "failing": failing, **parts}
    return JsonResponse(body, status=200 if healthy else 503)


# Not from the page cache: every query would be a page of its own.
@never_cache
@require_GET
def site_search(request: HttpRequest) -> HttpResponse:
    if exceeded(request, "search"):
        response = render(request, "429.html", status=429)
        response["Retry-After"] = "60"
        return response
    raw = request.GET.get("q", "")
    try:
        text = search.search_query(raw)
    except ValidationError as error:
        context = {"q": raw[: search.MAX_LENGTH], "error": error.messages[0]}
        return render(request, "search.html", context, status=400)
    context = {
        "q": text,
        "version": search.version(),
        "seconds": search.SECONDS,
        "results": SimpleLazyObject(lambda: search.search(text)),
    }
    return render(request, "search.html", context)
