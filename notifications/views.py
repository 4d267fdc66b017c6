import contextlib
import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.crypto import constant_time_compare
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from aidhub import idempotency

from . import services
from .forms import MySubscribeForm, PublicSubscribeForm
from .models import Channel, Scope, Subscription


# A public subscription uses nothing of the visitor's session: anyone could post it directly, and
# it starts only once the address confirms it. The public pages that offer the form set no
# cookie, so they can be served whole from the cache (aidhub.pagecache); their form's one-time
# token is made by the visitor's browser (static/js/one-time-token.js), none without JavaScript.
@csrf_exempt
@require_POST
def subscribe(request: HttpRequest) -> HttpResponse:
    """A repeat with the same token shows the first answer again, except a webhook's secret:
    it is shown once, to the first answer only, and the repeat says so. Whoever lost it stops
    that subscription with the link in any message it receives and subscribes again."""
    form = PublicSubscribeForm(request.POST)
    try:
        token = idempotency.submission(request)
    except ValidationError as exc:  # a signed-in visitor's token that is not one
        form.add_error(None, exc)
    if not form.is_valid():
        return _form_again(request, form)
    data = form.cleaned_data
    created: list[Subscription] = []

    def follow() -> str:
        created.append(
            services.subscription_create(
                channel=data["channel"],
                scope=data["scope"],
                ref=data["ref"] or "",
                # A Telegram chat is learnt from /start, never taken from the form.
                address="" if data["channel"] == Channel.TELEGRAM else data["address"],
                language=get_language() or "en",
            )
        )
        return str(created[0].pk)  # what a repeat shows again: this subscription

    try:
        result, replayed = token.run(follow) if token else (follow(), False)
    except idempotency.Conflict:
        return idempotency.conflict_page(request)
    except ValidationError as exc:
        form.add_error("address", exc)
        return _form_again(request, form)
    subscription = created[0] if created else Subscription.objects.filter(pk=result).first()
    if subscription is None:  # a repeat of a subscription stopped since
        return render(request, "notifications/unsubscribed.html")
    # A webhook's secret is shown here, on the answer that created the subscription, and never
    # again: not to a repeat, not to whoever subscribes the same URL (each gets a secret).
    show_secret = subscription.channel == Channel.WEBHOOK and not replayed
    return render(
        request,
        "notifications/subscribed.html",
        {
            "subscription": subscription,
            "secret": subscription.secret if show_secret else "",
            "replayed": replayed,
            "bot": settings.TELEGRAM_BOT_NAME,
        },
    )


def _form_again(request: HttpRequest, form: PublicSubscribeForm) -> HttpResponse:
    """The form with its errors, saying what it follows and linking back to it."""
    # Only what the form accepted: a refused ref (a NUL byte, say) is never looked up.
    cleaned = getattr(form, "cleaned_data", {})
    scope, ref = cleaned.get("scope", ""), cleaned.get("ref", "")
    subject = back = ""
    if scope == Scope.FUNDRAISER and ref:
        subject = services.subject_names([Subscription(scope=scope, ref=ref)]).get((scope, ref))
        back = reverse("donations:fundraiser", args=[ref]) if subject != ref else ""
    elif scope == Scope.LEDGER:
        back = reverse("ledger:verify")
    context = {"form": form, "subject": subject if back else "", "back": back}
    return render(request, "notifications/subscribed.html", context, status=400)


@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    subscription = get_object_or_404(Subscription, token=token)
    if request.method == "POST":
        services.subscription_confirm(token=token)
        subscription.refresh_from_db()
    subject = services.subject_names([subscription]).get((subscription.scope, subscription.ref))
    return render(
        request, "notifications/confirm.html", {"subscription": subscription, "subject": subject}
    )


@csrf_exempt  # the token in the URL is the authority; mail clients post one-click unsubscribes
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "POST":
        services.subscription_cancel(token=token)
        return render(request, "notifications/unsubscribed.html")
    if not Subscription.objects.filter(token=token).exists():
        return render(request, "notifications/unsubscribed.html")
    return render(request, "notifications/unsubscribe.html", {"token": token})


@csrf_exempt  # Telegram posts updates here; the secret in the path authenticates it
@require_POST
def telegram_update(request: HttpRequest, secret: str) -> JsonResponse:
    expected = settings.TELEGRAM_WEBHOOK_SECRET
    if not expected or not constant_time_compare(secret, expected):
        raise Http404
    try:
        message = json.loads(request.body).get("message") or {}
        text, chat = message.get("text", ""), str(message.get("chat", {}).get("id", ""))
    except (ValueError, AttributeError):
        return JsonResponse({"ok": True})  # nothing we understand: acknowledged, ignored
    if text.startswith("/start ") and chat:
        with contextlib.suppress(ValidationError):
            services.telegram_start(token=text.split(" ", 1)[1].strip(), chat_id=chat)
    return JsonResponse({"ok": True})


@login_required
@require_http_methods(["GET", "POST"])
@idempotency.replay_first
def mine(request: HttpRequest) -> HttpResponse:
    form = MySubscribeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        address = request.user.email if data["channel"] == Channel.EMAIL else ""

        def follow() -> str:
            if data["channel"] == Channel.EMAIL and not address:
                raise ValidationError(_("Your account has no e-mail address."))
            services.subscription_create(
                user=request.user, address=address, language=get_language() or "en", **data
            )
            services.user_language_remember(user=request.user, language=get_language() or "")
            messages.success(request, _("Subscribed."))
            return reverse("notifications:mine")

        try:
            # A Telegram subscription is new each time (it has no address until /start): the
            # token keeps a double tap from making two.
            return idempotency.respond(request, follow)
        except ValidationError as exc:
            form.add_error(None, exc)
    subscriptions = list(Subscription.objects.filter(user=request.user).order_by("scope", "ref"))
    names = services.subject_names(subscriptions)
    for subscription in subscriptions:
        subscription.subject = names.get((subscription.scope, subscription.ref), "")
    return render(
        request,
        "notifications/mine.html",
        {"form": form, "subscriptions": subscriptions, "bot": settings.TELEGRAM_BOT_NAME},
    )
