from collections.abc import Callable

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from aidhub import idempotency
from donations.queries import creditable_fundraisers
from hubs.forms import line_formset
from hubs.models import Item
from hubs.queries import coordinated_hubs
from ledger.models import Evidence

from . import queries, services
from .forms import (
    FailForm,
    HandoverConfirmForm,
    PlanForm,
    PurchasePlanForm,
    RejectForm,
    ReportForm,
)
from .models import Delivery, ProofPhoto

# ---- volunteers -----------------------------------------------------------------------------


@login_required
@require_GET
def my_deliveries(request: HttpRequest) -> HttpResponse:
    mine, free = queries.my_deliveries(request.user)
    return render(request, "deliveries/my_deliveries.html", {"mine": mine, "free": free})


@login_required
@require_GET
def detail(request: HttpRequest, slug: str) -> HttpResponse:
    delivery = queries.delivery_for(request.user, slug)
    return render(
        request,
        "deliveries/detail.html",
        {
            "delivery": delivery,
            "is_mine": delivery.volunteer_id == request.user.pk,
            "fail_form": FailForm(),
            "proof": queries.pending_proof(delivery),
            "rejected": delivery.proofs.filter(review="rejected").first(),
            "handover_offered": queries.handover_code_offered(delivery),
        },
    )


def _step(
    request: HttpRequest, slug: str, step: Callable[[Delivery], object], done: str
) -> HttpResponse:
    delivery = queries.delivery_for(request.user, slug)

    def action() -> str:
        step(delivery)
        messages.success(request, done)
        return delivery.get_absolute_url()

    try:
        return idempotency.respond(request, action)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(delivery)


@login_required
@require_POST
@idempotency.replay_first
def claim(request: HttpRequest, slug: str) -> HttpResponse:
    return _step(
        request,
        slug,
        lambda d: services.delivery_claim(delivery=d, volunteer=request.user),
        _("It is yours. Dispatch it when the car leaves."),
    )


@login_required
@require_POST
@idempotency.replay_first
def dispatch(request: HttpRequest, slug: str) -> HttpResponse:
    return _step(
        request,
        slug,
        lambda d: services.delivery_dispatch(delivery=d, volunteer=request.user),
        _("On the way. Safe travels."),
    )


@login_required
@require_http_methods(["GET", "POST"])
@idempotency.replay_first
def report(request: HttpRequest, slug: str) -> HttpResponse:
    delivery = queries.delivery_for(request.user, slug)
    if delivery.volunteer_id != request.user.pk:
        raise Http404
    form = ReportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data

        def action() -> str:
            services.delivery_report(
                delivery=delivery,
                volunteer=request.user,
                people=data["people"],
                households=data["households"],
                note=data["note"],
                photos=data["photos"],
            )
            messages.success(request, _("Reported. A coordinator will check the photos."))
            return delivery.get_absolute_url()

        try:
            return idempotency.respond(request, action)
        except ValidationError as exc:
            form.add_error(None, exc)
    return render(
        request,
        "deliveries/report.html",
        {"delivery": delivery, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
@idempotency.replay_first
def fail(request: HttpRequest, slug: str) -> HttpResponse:
    delivery = queries.delivery_for(request.user, slug)
    form = FailForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say what happened."))
        return redirect(delivery)
    data = form.cleaned_data

    def action() -> str:
        services.delivery_fail(
            delivery=delivery, by=request.user, reason=data["reason"], returned=data["returned"]
        )
        messages.success(request, _("Recorded."))
        return delivery.get_absolute_url()

    try:
        return idempotency.respond(request, action)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(delivery)


@login_required
@require_http_methods(["GET", "POST"])
def handover(request: HttpRequest, slug: str) -> HttpResponse:
    """The volunteer's phone shows a code and a QR code for the local contact."""
    delivery = queries.delivery_for(request.user, slug)
    try:
        code = services.handover_code_issue(delivery=delivery, volunteer=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(delivery)
    link = request.build_absolute_uri(reverse("deliveries:confirm", args=[delivery.slug]))
    qr = segno.make(f"{link}?code={code.code}", error="m").svg_inline(scale=5, dark="#000")
    return render(
        request,
        "deliveries/handover.html",
        {"delivery": delivery, "handover": code, "qr": qr, "link": link},
    )


@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, slug: str) -> HttpResponse:
    """The local contact's page, on their own phone, without an account.

    Its one-time token (signed: the recipient has no account, aidhub/idempotency.py) is
    recorded only once the code was right, outside the confirmation's transaction: a wrong
    guess must stay counted. Two copies sent at the same moment are decided by the handover's
    conditional update; the loser answers as a repeat once the winner's token is in (it is
    recorded a moment later)."""
    delivery = get_object_or_404(
        Delivery.objects.select_related("place", "hub", "expense"), slug=slug
    )
    form = HandoverConfirmForm(request.POST or None, initial={"code": request.GET.get("code", "")})
    confirmed = False
    if request.method == "POST":
        try:
            token = idempotency.submission(request)
            if token and token.outcome():
                return _handover_replayed(request, delivery)
        except idempotency.Conflict:
            return idempotency.conflict_page(request)
        except ValidationError as exc:
            form.add_error(None, exc)
            token = None
        if form.is_valid():
            try:
                services.handover_confirm(
                    delivery=delivery,
                    code=form.cleaned_data["code"],
                    role=form.cleaned_data["role"],
                )
            except ValidationError as exc:
                if token and _recorded(token):  # a copy sent at the same moment confirmed it
                    return _handover_replayed(request, delivery)
                form.add_error("code", exc)
            else:
                if token:
                    token.run(lambda: reverse("deliveries:confirm", args=[delivery.slug]))
                confirmed = True
    return render(
        request,
        "deliveries/confirm.html",
        {"delivery": delivery, "form": form, "confirmed": confirmed},
    )


def _recorded(token: idempotency.Submission) -> bool:
    try:
        return bool(token.outcome())
    except idempotency.Conflict:
        return False


def _handover_replayed(request: HttpRequest, delivery: Delivery) -> HttpResponse:
    messages.info(request, _("This was already recorded; it was not recorded twice."))
    return render(
        request,
        "deliveries/confirm.html",
        {"delivery": delivery, "form": HandoverConfirmForm(), "confirmed": True},
    )


@login_required
@require_GET
def photo(request: HttpRequest, slug: str, sha256: str) -> FileResponse:
    """A proof photo before approval: only its volunteer and the hub's coordinators see it."""
    delivery = queries.delivery_for(request.user, slug)
    if not delivery.proofs.filter(photos__evidence_sha256=sha256).exists():
        raise Http404
    evidence = get_object_or_404(Evidence, sha256=sha256)
    thumb = request.GET.get("thumb") and evidence.thumbnail
    stored = evidence.thumbnail if thumb else evidence.file
    response = FileResponse(
        stored.open("rb"), content_type="image/webp" if thumb else evidence.content_type
    )
    response["Cache-Control"] = "private, max-age=3600"
    return response


# ---- coordinators ---------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@idempotency.replay_first
def plan(request: HttpRequest, hub_slug: str) -> HttpResponse:
    hub = get_object_or_404(coordinated_hubs(request.user), slug=hub_slug)
    form = PlanForm(request.POST or None)
    form.fields["fundraisers"].queryset = creditable_fundraisers(hub)
    lines = line_formset(request.POST or None)
    if request.method == "POST" and form.is_valid() and lines.is_valid():

        def record() -> str:
            delivery = services.delivery_plan(
                hub=hub, lines=lines.lines(), by=request.user, **form.cleaned_data
            )
            messages.success(request, _("Planned. Volunteers of the hub can claim it now."))
            return delivery.get_absolute_url()

        try:
            return idempotency.respond(request, record)
        except ValidationError as exc:
            form.add_error(None, exc)
    return render(
        request,
        "hubs/form.html",
        {"hub": hub, "form": form, "lines": lines, "title": _("Plan a delivery")},
    )


@login_required
@require_http_methods(["GET", "POST"])
@idempotency.replay_first
def plan_purchase(request: HttpRequest, pk: int) -> HttpResponse:
    """Send a purchase's goods straight to a place: the lines start as what is left of it."""
    expense = queries.purchase_to_deliver(request.user, pk)
    group = expense.fundraiser.group
    left = services.purchase_goods_left([expense.pk]).get(expense.pk, {})
    items = Item.objects.in_bulk(list(left))
    initial = [{"item": items[pk], "quantity": q} for pk, q in sorted(left.items())]
    form = PurchasePlanForm(request.POST or None, group=group)
    lines = line_formset(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid() and lines.is_valid():

        def record() -> str:
            delivery = services.delivery_plan_from_expense(
                expense=expense, lines=lines.lines(), by=request.user, **form.cleaned_data
            )
            messages.success(request, _("Planned. Members of the group can take it now."))
            return delivery.get_absolute_url()

        try:
            return idempotency.respond(request, record)
        except ValidationError as exc:
            form.add_error(None, exc)
    return render(
        request,
        "deliveries/plan_purchase.html",
        {
            "expense": expense,
            "form": form,
            "lines": lines,
            "bought": expense.lines.exists(),
            "nothing_left": not left,
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_GET
def awaiting(request: HttpRequest) -> HttpResponse:
    deliveries = queries.awaiting_verification(request.user)
    return render(request, "deliveries/awaiting.html", {"deliveries": deliveries})


@login_required
@require_http_methods(["GET", "POST"])
@idempotency.replay_first
def verify(request: HttpRequest, slug: str) -> HttpResponse:
    delivery = queries.delivery_to_verify(request.user, slug)
    reject_form = RejectForm(request.POST if "reject" in request.POST else None)
    if request.method == "POST":

        def approve() -> str:
            index = services.delivery_verify(delivery=delivery, coordinator=request.user)
            messages.success(request, _("Verified: ledger entry %(index)s.") % {"index": index})
            return reverse("deliveries:awaiting")

        def blur() -> str:
            from .tasks import proof_photo_blur

            photo = get_object_or_404(
                ProofPhoto, pk=request.POST.get("blur", ""), proof__delivery=delivery
            )
            proof_photo_blur.delay_on_commit(photo.pk)
            messages.info(request, _("Blurring faces. Reload the page in a moment."))
            return reverse("deliveries:verify", args=[delivery.slug])

        def reject() -> str:
            services.delivery_reject(
                delivery=delivery,
                coordinator=request.user,
                reason=reject_form.cleaned_data["reason"],
            )
            messages.success(request, _("Sent back to the volunteer."))
            return reverse("deliveries:awaiting")

        try:
            if "approve" in request.POST:
                return idempotency.respond(request, approve)
            if "blur" in request.POST:
                return idempotency.respond(request, blur)
            if reject_form.is_valid():
                return idempotency.respond(request, reject)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    return render(
        request,
        "deliveries/verify.html",
        {
            "delivery": delivery,
            "proof": queries.pending_proof(delivery),
            "reject_form": reject_form,
        },
    )
