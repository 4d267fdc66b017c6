"""Sign-in hardening: two-factor sign-in (TOTP, django-otp) for coordinators and organisers,
and a clear answer when a rate limit is hit. Lockout after failed logins is django-axes'."""

from collections.abc import Callable

import segno
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

EXEMPT_PREFIXES = (
    "/accounts/",
    "/static/",
    "/media/",
    "/i18n/",
    "/healthz",
    "/sw.js",
    "/manifest.webmanifest",
)


def needs_two_factor(user) -> bool:
    """Coordinators, organisers and staff hold other people's data: they sign in twice."""
    if not user.is_authenticated:
        return False
    if user.is_superuser or user.is_staff:
        return True
    from donations.queries import is_organiser
    from hubs.queries import is_coordinator

    return is_coordinator(user) or is_organiser(user)


class RejectNulMiddleware:
    """No AidHub address or parameter contains a NUL character, and PostgreSQL cannot store or
    compare text holding one: a lookup by such a code or token would fail as a server error.
    A path or query string with one is malformed, so it is refused here, before any view."""

    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path or any(
            "\x00" in key or any("\x00" in value for value in values)
            for key, values in request.GET.lists()
        ):
            raise BadRequest("NUL character in the address")
        return self.get_response(request)


def shorten_staff_session(sender, request: HttpRequest | None, user, **kwargs) -> None:
    """user_logged_in: the people who sign in twice also sign in more often: a session left
    open on a hub's shared laptop should not hold other people's data for a week."""
    if request is not None and hasattr(request, "session") and needs_two_factor(user):
        request.session.set_expiry(settings.STAFF_SESSION_HOURS * 3600)


class PermissionsPolicyMiddleware:
    """Sends PERMISSIONS_POLICY (settings) on every response: no page uses a powerful feature."""

    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response
        policy = settings.PERMISSIONS_POLICY
        self.header = ", ".join(f"{name}=({' '.join(allow)})" for name, allow in policy.items())

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", self.header)
        return response


class RequireTwoFactorMiddleware:
    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            settings.AIDHUB_REQUIRE_2FA
            and user is not None
            and user.is_authenticated
            and not user.is_verified()
            and not request.path.startswith(EXEMPT_PREFIXES)
            and needs_two_factor(user)
        ):
            return redirect(f"{reverse('two_factor')}?next={request.get_full_path()}")
        return self.get_response(request)


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/"
    safe = url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure())
    return target if safe else "/"


@login_required
@require_http_methods(["GET", "POST"])
def two_factor(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app (first time) or enter its current code."""
    user = request.user
    confirmed = user_has_device(user, confirmed=True)
    device = (
        TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if confirmed
        else TOTPDevice.objects.filter(user=user, confirmed=False).first()
        or TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
    )
    error = ""
    if request.method == "POST":
        token = "".join(request.POST.get("token", "").split())
        if device.verify_is_allowed()[0] and device.verify_token(token):
            if not device.confirmed:
                device.confirmed = True
                device.save(update_fields=["confirmed"])
            otp_login(request, device)
            return redirect(_next(request))
        error = _("That code is not right, or came too late. Try the newest code.")
    context = {"confirmed": device.confirmed, "error": error, "next": _next(request)}
    if not device.confirmed:
        context["qr"] = segno.make(device.config_url, error="m").svg_inline(scale=4)
        context["secret"] = device.config_url.split("secret=")[1].split("&")[0]
    return render(request, "registration/two_factor.html", context, status=400 if error else 200)


def ratelimited(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "429.html", status=429)
