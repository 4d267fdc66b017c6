"""Sign-in hardening: two-factor sign-in (TOTP, django-otp) for coordinators and organisers,
and a clear answer when a rate limit is hit. Lockout after failed logins is django-axes'."""

import time
from collections.abc import Callable

import segno
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.contrib.auth.views import redirect_to_login
from django.core.mail import send_mail
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.crypto import constant_time_compare
from django.utils.http import base36_to_int, int_to_base36, url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_ratelimit import ALL
from django_ratelimit.core import is_ratelimited

from . import audit

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
    """Coordinators, a group's organisers and treasurers, and staff hold other people's data
    or money: they sign in twice."""
    if not user.is_authenticated:
        return False
    if user.is_superuser or user.is_staff:
        return True
    from donations.queries import is_organiser
    from groups.queries import MONEY_ROLES, groups_held
    from hubs.queries import is_coordinator

    return is_coordinator(user) or is_organiser(user) or groups_held(user, MONEY_ROLES).exists()


class RejectNulMiddleware:
    """No AidHub address or parameter contains a NUL character, and PostgreSQL cannot store or
    compare text holding one: a lookup by such a code or token would fail as a server error.
    A path or query string with one is malformed, so it is refused here, before any view."""

    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        field = self._field_with_nul(request)
        if field is None:
            return self.get_response(request)
        message = _("An address never contains a NUL character.")
        if request.path.startswith("/api/"):
            # The API's one error format (api/errors.py), naming the parameter.
            name = field or "non_field_errors"
            detail = f"{field}: {message}" if field else message
            return JsonResponse({"detail": detail, "errors": {name: [message]}}, status=400)
        return render(request, "400.html", {"message": message}, status=400)

    @staticmethod
    def _field_with_nul(request: HttpRequest) -> str | None:
        """ "" for the path, the parameter's name for the query string, None when clean."""
        if "\x00" in request.path:
            return ""
        for key, values in request.GET.lists():
            if "\x00" in key or any("\x00" in value for value in values):
                return key.replace("\x00", "")
        return None


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


class TwoFactorSetupTokenGenerator(PasswordResetTokenGenerator):
    """The second factor of the first enrolment: a link sent to the account's e-mail address
    or issued by a superuser. It names the account's state as it was when it was made, so it
    stops working once it has been opened (each opening is noted in the audit trail and makes
    a new secret), once a device is confirmed, once the account signs in again, and after
    TWO_FACTOR_SETUP_HOURS in any case. Deleting every device does not revive it: the openings
    stay in the trail."""

    key_salt = "aidhub.security.TwoFactorSetupTokenGenerator"

    def _make_hash_value(self, user, timestamp: int) -> str:
        devices = TOTPDevice.objects.filter(user=user).order_by("pk")
        state = ",".join(
            f"{pk}:{confirmed}" for pk, confirmed in devices.values_list("pk", "confirmed")
        )
        confirmed = any(devices.values_list("confirmed", flat=True))
        opened = _latest_setup_opening(user)
        # Full precision: two sign-ins within a second are still two.
        login = user.last_login.isoformat() if user.last_login else ""
        return f"{user.pk}{user.password}{login}{timestamp}{confirmed}{state}{opened}"

    def check_token(self, user, token: str) -> bool:
        # As Django's, with this link's own lifetime instead of PASSWORD_RESET_TIMEOUT.
        made_b36, _sep, _hash = (token or "").partition("-")
        try:
            made = base36_to_int(made_b36)
        except ValueError:
            return False
        genuine = any(
            constant_time_compare(self._make_token_with_timestamp(user, made, secret), token)
            for secret in [self.secret, *self.secret_fallbacks]
        )
        age = self._num_seconds(self._now()) - made
        return genuine and 0 <= age <= settings.TWO_FACTOR_SETUP_HOURS * 3600


setup_tokens = TwoFactorSetupTokenGenerator()
SETUP_OPENED = "two_factor_setup_opened"
SETUP_SESSION_KEY = "aidhub_two_factor_setup_device"
# A link opened before signing in is checked then (signing in changes last_login, which the
# link names); the session keeps only "this account may set up", for this long.
SETUP_GRANT_SESSION_KEY = "aidhub_two_factor_setup_grant"
SETUP_GRANT_SECONDS = 30 * 60
# "E-mail me a setup link": per account, so a stolen password cannot flood the owner's inbox.
SETUP_MAIL_RATE = "3/h"


def two_factor_setup_link(user) -> str:
    """An absolute one-time link that lets `user`, signed in with their password, enrol. It
    names the account, so it can be checked before signing in (see two_factor_setup)."""
    token = f"{int_to_base36(user.pk)}-{setup_tokens.make_token(user)}"
    return settings.SITE_URL + reverse("two_factor_setup", args=[token])


def _setup_link_account(token: str) -> tuple[object | None, str]:
    """The account a setup link names, and the part setup_tokens checks."""
    uid_b36, _sep, inner = token.partition("-")
    try:
        uid = base36_to_int(uid_b36)
    except ValueError:
        return None, inner
    if not 0 < uid < 2**31:
        return None, inner
    return get_user_model().objects.filter(pk=uid, is_active=True).first(), inner


def _latest_setup_opening(user) -> int | None:
    from .models import AuditEvent

    return (
        AuditEvent.objects.filter(actor=user, action=SETUP_OPENED)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )


@transaction.atomic
def two_factor_setup_open_signed_out(*, user) -> int:
    """A link opened before signing in is spent at once (the opening goes in the audit trail,
    as two_factor_setup_begin's does), so a second browser cannot open it too. Returns the
    opening's pk: the session's grant holds only while it is the account's latest."""
    audit.record(actor=user, action=SETUP_OPENED, target=user, signed_out=True)
    return _latest_setup_opening(user)


@transaction.atomic
def two_factor_setup_begin(*, user) -> TOTPDevice:
    """A new secret for each enrolment attempt: secrets shown before and never confirmed go.
    The opening is noted in the audit trail, which spends every setup link made before it."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    audit.record(actor=user, action=SETUP_OPENED, target=user)
    return TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)


@transaction.atomic
def two_factor_setup_confirm(*, device: TOTPDevice) -> bool:
    """Confirm the device once (two tabs racing confirm it once); other attempts go."""
    if not TOTPDevice.objects.filter(pk=device.pk, confirmed=False).update(confirmed=True):
        return False
    TOTPDevice.objects.filter(user=device.user, confirmed=False).delete()
    device.confirmed = True
    return True


def _setup_device(request: HttpRequest) -> TOTPDevice | None:
    """The unconfirmed device this session opened a setup link for, if any; a link opened
    before signing in (a grant for this account) opens it now, unless another opening of a
    link for the account came after the one this session made."""
    grant = request.session.pop(SETUP_GRANT_SESSION_KEY, None)
    if (
        isinstance(grant, dict)
        and grant.get("user") == request.user.pk
        and 0 <= time.time() - grant.get("at", 0) <= SETUP_GRANT_SECONDS
        and grant.get("opened") is not None
        and grant.get("opened") == _latest_setup_opening(request.user)
        and not user_has_device(request.user, confirmed=True)
    ):
        request.session[SETUP_SESSION_KEY] = two_factor_setup_begin(user=request.user).pk
    pk = request.session.get(SETUP_SESSION_KEY)
    return (
        TOTPDevice.objects.filter(pk=pk, user=request.user, confirmed=False).first() if pk else None
    )


def _send_setup_link(request: HttpRequest) -> str:
    """E-mail a setup link to the account's own address; the message to show."""
    user = request.user
    if not user.email:
        return _("Your account has no e-mail address. Ask a site administrator for a setup link.")
    sent = _("A setup link is on its way to your e-mail address. Open it on this device.")
    if is_ratelimited(
        request,
        group="aidhub.two_factor_link_mail",
        key="user",
        rate=SETUP_MAIL_RATE,
        method=ALL,
        increment=True,
    ):
        return sent  # the same answer: the owner's inbox already holds links
    subject = _("Set up two-step sign-in on AidHub")
    body = _(
        "Open this link, signed in as %(username)s, to set up your authenticator app. "
        "It works once, for %(hours)s hours.\n%(link)s\n\n"
        "If you did not ask for it, someone knows your password: change it."
    ) % {
        "username": user.get_username(),
        "hours": settings.TWO_FACTOR_SETUP_HOURS,
        "link": two_factor_setup_link(user),
    }
    try:
        send_mail(subject, body, None, [user.email])
    except OSError:
        return _("The e-mail could not be sent just now. Try again in a few minutes.")
    return sent


@require_GET
def two_factor_setup(request: HttpRequest, token: str) -> HttpResponse:
    """Open a setup link: a new secret for this session, shown on the two-step page. Opened
    before signing in, the link is checked now and the session remembers only the account it
    is for; the sign-in page is sent to a clean address, so the token never reaches `?next=`,
    the server's logs or a Referer."""
    account, inner = _setup_link_account(token)
    user = request.user
    if user.is_authenticated and (user.is_verified() or user_has_device(user, confirmed=True)):
        return redirect("two_factor")
    named = account is not None and (not user.is_authenticated or account.pk == user.pk)
    if not (named and setup_tokens.check_token(account, inner)):
        context = {"invalid_link": True, "next": "/"}
        return render(request, "registration/two_factor.html", context, status=400)
    if not user.is_authenticated:
        opened = two_factor_setup_open_signed_out(user=account)
        grant = {"user": account.pk, "at": int(time.time()), "opened": opened}
        request.session[SETUP_GRANT_SESSION_KEY] = grant
        return redirect_to_login(reverse("two_factor"))
    device = two_factor_setup_begin(user=user)
    request.session[SETUP_SESSION_KEY] = device.pk
    # The token leaves the address bar (and any Referer) at once, as Django's password reset.
    return redirect("two_factor")


@login_required
@require_http_methods(["GET", "POST"])
def two_factor(request: HttpRequest) -> HttpResponse:
    """Enter the authenticator's current code; the first time, set the authenticator up with
    the secret a setup link showed, or ask for such a link."""
    user = request.user
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or _setup_device(request)
    context = {"next": _next(request), "error": "", "notice": ""}
    if device is None:
        # The password alone never shows a secret: anyone holding it could enrol their phone.
        if request.method == "POST" and "send_link" in request.POST:
            context["notice"] = _send_setup_link(request)
        context["needs_link"] = True
        return render(request, "registration/two_factor.html", context)
    if request.method == "POST":
        token = "".join(request.POST.get("token", "").split())
        accepted = device.verify_is_allowed()[0] and device.verify_token(token)
        if accepted and (device.confirmed or two_factor_setup_confirm(device=device)):
            request.session.pop(SETUP_SESSION_KEY, None)
            otp_login(request, device)
            return redirect(_next(request))
        context["error"] = _("That code is not right, or came too late. Try the newest code.")
    context["confirmed"] = device.confirmed
    if not device.confirmed:
        context["qr"] = segno.make(device.config_url, error="m").svg_inline(scale=4)
        context["secret"] = device.config_url.split("secret=")[1].split("&")[0]
    status = 400 if context["error"] else 200
    return render(request, "registration/two_factor.html", context, status=status)


def ratelimited(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "429.html", status=429)
