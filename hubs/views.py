from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from aidhub import idempotency
from ledger import queries as ledger_queries
from ledger.presentation import names_version

from . import queries, services
from .forms import (
    AdjustForm,
    CancelForm,
    NeedsFilterForm,
    ReceiveForm,
    RequestForm,
    TransferForm,
    line_formset,
)
from .freshness import NEEDS_SECONDS, needs_cached, needs_version
from .models import Hub, StockMovement, SupplyRequest

GAP_DAYS_DEFAULT = 7


# ---- public ---------------------------------------------------------------------------------


@require_GET
def hub_list(request: HttpRequest) -> HttpResponse:
    # The public pages below keep their content in the cache ({% fragment %} in their
    # templates) under needs_version(); what only the content reads is lazy, so a page whose
    # content is in the cache costs no query for it.
    context = {
        "version": needs_version(),
        "seconds": NEEDS_SECONDS,
        "hubs": SimpleLazyObject(lambda: list(queries.public_hubs())),
        "map_tiles": settings.MAP_TILE_URL,
        "map_attribution": settings.MAP_TILE_ATTRIBUTION,
    }
    return render(request, "hubs/hub_list.html", context)


@require_GET
def hub_detail(request: HttpRequest, slug: str) -> HttpResponse:
    # Its surplus items are read by the cached part alone (public_hub would prefetch them).
    hub = needs_cached("hub", slug, lambda: queries.public_hubs().filter(slug=slug).first())
    if hub is None:
        raise Http404
    return render(
        request,
        "hubs/hub_detail.html",
        {
            "version": needs_version(),
            "seconds": NEEDS_SECONDS,
            "hub": hub,
            "requests": SimpleLazyObject(
                lambda: queries.with_on_the_way(
                    queries.open_requests(queries.NeedsFilter()).filter(hub=hub)[:20]
                )
            ),
            "can_manage": queries.is_coordinator(request.user, hub),
        },
    )


@require_GET
def needs(request: HttpRequest) -> HttpResponse:
    form = NeedsFilterForm(request.GET or None)
    needs_filter = queries.NeedsFilter(**form.cleaned_data) if form.is_valid() else None
    requests = SimpleLazyObject(
        lambda: queries.with_on_the_way(
            queries.open_requests(needs_filter or queries.NeedsFilter())[:200]
        )
    )
    regions = SimpleLazyObject(lambda: list(queries.regions_with_places()))
    return render(
        request,
        "hubs/needs.html",
        {
            "version": needs_version(),
            "seconds": NEEDS_SECONDS,
            "form": form,
            "requests": requests,
            "regions": regions,
        },
    )


@require_GET
def place_detail(request: HttpRequest, slug: str) -> HttpResponse:
    place = needs_cached("place", slug, lambda: queries.public_place_or_none(slug))
    if place is None:
        raise Http404
    deliveries = SimpleLazyObject(
        lambda: ledger_queries.entries_page(
            ledger_queries.Filters(place=place.slug, kind="delivery"), before=None, size=20
        )
    )
    return render(
        request,
        "hubs/place_detail.html",
        {
            # Its deliveries come from the ledger, so the ledger's version counts too.
            "version": f"{needs_version()}|{ledger_queries.version()}|{names_version()}",
            "seconds": NEEDS_SECONDS,
            "place": place,
            "requests": SimpleLazyObject(
                lambda: queries.with_on_the_way(queries.place_requests(place))
            ),
            "deliveries": deliveries,
        },
    )


@require_GET
def gaps(request: HttpRequest) -> HttpResponse:
    raw = request.GET.get("days", "")
    days = int(raw) if raw.isdigit() and 0 < int(raw) <= 365 else GAP_DAYS_DEFAULT
    context = {
        "version": needs_version(),
        "seconds": NEEDS_SECONDS,
        "gaps": SimpleLazyObject(lambda: queries.gaps(days)),
        "days": days,
    }
    return render(request, "hubs/gaps.html", context)


# ---- coordinators ---------------------------------------------------------------------------


def _coordinated_hub(request: HttpRequest, slug: str) -> Hub:
    """The hub if this user coordinates it; 404 for everyone else (nothing to learn here)."""
    return get_object_or_404(queries.coordinated_hubs(request.user), slug=slug)


def _coordinated_request(request: HttpRequest, pk: int) -> SupplyRequest:
    hubs = queries.coordinated_hubs(request.user)
    return get_object_or_404(SupplyRequest.objects.filter(hub__in=hubs), pk=pk)


@login_required
@require_GET
def manage(request: HttpRequest, slug: str) -> HttpResponse:
    hub = _coordinated_hub(request, slug)
    return render(
        request,
        "hubs/manage.html",
        {
            "hub": hub,
            "stock": queries.hub_stock(hub),
            "movements": StockMovement.objects.filter(hub=hub).select_related("item")[:30],
            "requests": queries.with_on_the_way(
                queries.open_requests(queries.NeedsFilter()).filter(hub=hub)
            ),
        },
    )


def _form_page(request, hub, title, form, lines, extra=None) -> HttpResponse:
    """One phone-friendly page for every coordinator form: a form and maybe item lines."""
    context = {"hub": hub, "form": form, "lines": lines, "title": title, **(extra or {})}
    return render(request, "hubs/form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
@idempotency.replay_first
def receive(request: HttpRequest, slug: str) -> HttpResponse:
    hub = _coordinated_hub(request, slug)
    form = ReceiveForm(request.POST or None)
    lines = line_formset(request.POST or None)
    if request.method == "POST" and form.is_valid() and lines.is_valid():

        def record() -> str:
            index = services.hub_receive_goods(
                hub=hub,
                lines=lines.lines(),
                by=request.user,
                public_name=form.cleaned_data["public_name"],
            )
            messages.success(request, _("Recorded as ledger entry %(index)s.") % {"index": index})
            return reverse("hubs:manage", args=[hub.slug])

        try:
            return idempotency.respond(request, record)
        except ValidationError as exc:
            form.add_error(None, exc)
    return _form_page(request, hub, _("Goods received"), form, lines)


@login_required
@require_http_methods(["GET", "POST"])
@idempotency.replay_first
def transfer(request: HttpRequest, slug: str) -> HttpResponse:
    hub = _coordinated_hub(request, slug)
    form = TransferForm(request.POST or None)
    form.fields["to_hub"].queryset = form.fields["to_hub"].queryset.exclude(pk=hub.pk)
    lines = line_formset(request.POST or None)
    if request.method == "POST" and form.is_valid() and lines.is_valid():

        def record() -> str:
            index = services.stock_transfer(
                from_hub=hub, to_hub=form.cleaned_data["to_hub"], lines=lines.lines(),
                by=request.user,
            )  # fmt: skip
            messages.success(request, _("Transfer recorded as ledger entry %(index)s.") % {
                "index": index})  # fmt: skip
            return reverse("hubs:manage", args=[hub.slug])

        try:
            return idempotency.respond(request, record)
        except ValidationError as exc:
            form.add_error(None, exc)
    return _form_page(request, hub, _("Transfer to another hub"), form, lines)


@login_required
@require_http_methods(["GET", "POST"])
@idempotency.replay_first
def adjust(request: HttpRequest, slug: str) -> HttpResponse:
    hub = _coordinated_hub(request, slug)
    form = AdjustForm(request.POST or None)
    if request.method == "POST" and form.is_valid():

        def record() -> str:
            services.stock_adjust(hub=hub, by=request.user, **form.cleaned_data)
            messages.success(request, _("Stock adjusted."))
            return reverse("hubs:manage", args=[hub.slug])

        try:
            return idempotency.respond(request, record)
        except ValidationError as exc:
            form.add_error(None, exc)
    return _form_page(request, hub, _("Adjust stock after a count"), form, None)


@login_required
@require_http_methods(["GET", "POST"])
@idempotency.replay_first
def request_new(request: HttpRequest, slug: str) -> HttpResponse:
    hub = _coordinated_hub(request, slug)
    form = RequestForm(request.POST or None)
    lines = line_formset(request.POST or None)
    duplicate = None
    if request.method == "POST" and form.is_valid() and lines.is_valid():

        def record() -> str:
            services.request_create(
                hub=hub, lines=lines.lines(), by=request.user, **form.cleaned_data
            )
            messages.success(request, _("The request is filed and shown on the needs board."))
            return reverse("hubs:manage", args=[hub.slug])

        try:
            return idempotency.respond(request, record)
        except services.DuplicateRequest as exc:
            duplicate = exc.existing
            form.add_error(None, exc)
        except ValidationError as exc:
            form.add_error(None, exc)
    return _form_page(request, hub, _("New supply request"), form, lines, {"duplicate": duplicate})


@login_required
@require_http_methods(["GET", "POST"])
@idempotency.replay_first
def request_edit(request: HttpRequest, pk: int) -> HttpResponse:
    supply_request = _coordinated_request(request, pk)
    if not supply_request.is_open:
        raise Http404(_("This request is closed."))
    form = RequestForm(request.POST or None, instance=supply_request)
    initial = [
        {"item": line.item, "quantity": line.quantity} for line in supply_request.lines.all()
    ]
    lines = line_formset(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid() and lines.is_valid():
        data = form.cleaned_data

        def record() -> str:
            services.request_update(
                request=supply_request, lines=lines.lines(), by=request.user,
                urgency=data["urgency"], needed_by=data["needed_by"], note=data["note"],
                requester_contact=data["requester_contact"],
            )  # fmt: skip
            messages.success(request, _("The request is updated."))
            return reverse("hubs:manage", args=[supply_request.hub.slug])

        try:
            return idempotency.respond(request, record)
        except ValidationError as exc:
            form.add_error(None, exc)
    form.fields["place"].disabled = True
    return _form_page(
        request, supply_request.hub, _("Update request %(id)s") % {"id": pk}, form, lines
    )


@login_required
@require_http_methods(["GET", "POST"])
@idempotency.replay_first
def request_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    supply_request = _coordinated_request(request, pk)
    form = CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():

        def record() -> str:
            if services.request_cancel(
                request=supply_request, reason=form.cleaned_data["reason"], by=request.user
            ):
                messages.success(request, _("The request is cancelled."))
            else:
                messages.error(request, _("The request was already closed."))
            return reverse("hubs:manage", args=[supply_request.hub.slug])

        try:
            return idempotency.respond(request, record)
        except ValidationError as exc:
            form.add_error(None, exc)
    return _form_page(
        request, supply_request.hub, _("Cancel request %(id)s") % {"id": pk}, form, None
    )


# ---- invitations ----------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """A coordinator's invitation, opened by the invited account: joining takes a POST, so
    opening the link (or a mail scanner fetching it) changes nothing."""
    try:
        hub = services.membership_invitation_read(token=token, user=request.user)
        if request.method == "POST":
            # Read again inside the accept: the link may have been spent meanwhile.
            services.membership_accept(token=token, user=request.user)
    except ValidationError as exc:
        context = {"error": " ".join(exc.messages)}
        return render(request, "hubs/invitation.html", context, status=400)
    if request.method == "POST":
        messages.success(request, _("You are a volunteer of %(hub)s.") % {"hub": hub.name})
        return redirect("hubs:hub", slug=hub.slug)
    return render(request, "hubs/invitation.html", {"hub": hub})
