import functools
import io
from collections.abc import Callable

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from aidhub import idempotency
from aidhub.pagecache import public_page
from hubs.forms import line_formset
from hubs.queries import coordinated_hubs
from ledger import presentation
from ledger import queries as ledger_queries

from . import queries, services, statements
from .forms import (
    WAITS_FOR_SECOND,
    CorrectionForm,
    DecisionForm,
    DonationForm,
    ExpenseForm,
    PaymentMethodForm,
    PaymentMethodRemoveForm,
    StatementConfirmForm,
    StatementForm,
    TransferAnswerForm,
    TransferForm,
)
from .models import (
    Donation,
    Expense,
    ExpenseProposal,
    Fundraiser,
    FundraiserHandover,
    MoneyTransfer,
    PaymentMethod,
    PaymentMethodProposal,
)
from .reconcile import reconcile


@require_GET
def fundraiser_list(request: HttpRequest) -> HttpResponse:
    return render(request, "donations/fundraiser_list.html",
                  {"fundraisers": queries.public_fundraisers()})  # fmt: skip


@require_GET
@public_page(queries.fundraiser_page_version)
def fundraiser_detail(request: HttpRequest, slug: str) -> HttpResponse:
    fundraiser = queries.public_fundraiser(slug)
    scope = ledger_queries.Filters(fundraiser=fundraiser.slug)
    delivered = ledger_queries.Filters(fundraiser=fundraiser.slug, kind="delivery")
    return render(
        request,
        "donations/fundraiser_detail.html",
        {
            "fundraiser": fundraiser,
            # What every visitor sees alike is kept as {% fragment %}s under the ledger's
            # version (every donation, expense and correction is an entry), the names' (a save
            # of the fundraiser forgets it) and, for the ways to pay, their own (a recipient's
            # name changes without a ledger entry); what only the fragments read is lazy.
            "version": f"{ledger_queries.version()}|{presentation.names_version()}",
            "payment_version": queries.payment_methods_version(fundraiser.slug),
            "totals": SimpleLazyObject(lambda: queries.totals(fundraiser)),
            "entries": SimpleLazyObject(
                lambda: ledger_queries.entries_page(scope, before=None, size=10)
            ),
            "deliveries": SimpleLazyObject(
                lambda: ledger_queries.entries_page(delivered, before=None, size=10)
            ),
            "is_organiser": _may_organise(request, fundraiser),
            "payment_methods": SimpleLazyObject(
                lambda: list(queries.shown_payment_methods(fundraiser))
            ),
            # A callable, read only where ways to pay are shown (a lazy None is not None).
            "payment_details_entry": functools.cache(
                lambda: queries.payment_details_entry(fundraiser)
            ),
            "telegram_bot": settings.TELEGRAM_BOT_NAME.lstrip("@"),
            "share_url": request.build_absolute_uri(fundraiser.get_absolute_url()),
            "preview_url": request.build_absolute_uri(
                f"{fundraiser.get_absolute_url()}preview.png"
            ),
        },
    )


@require_GET
def fundraiser_preview(request: HttpRequest, slug: str) -> HttpResponse:
    """The picture a messenger shows beside a shared link: title and progress."""
    fundraiser = queries.public_fundraiser(slug)
    key = f"aidhub:preview:{fundraiser.pk}"
    png = cache.get(key)
    if png is None:
        png = _preview_png(fundraiser, queries.totals(fundraiser))
        cache.set(key, png, 300)
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "public, max-age=300"
    return response


def _preview_png(fundraiser: Fundraiser, totals: queries.Totals) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (1200, 630), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 1200, 90), fill=(176, 42, 55))
    draw.text((40, 30), "AidHub", fill=(255, 255, 255), font_size=36)
    draw.text((40, 150), fundraiser.title[:60], fill=(20, 20, 20), font_size=48)
    draw.rectangle((40, 330, 1160, 390), outline=(120, 120, 120), width=3)
    draw.rectangle((43, 333, 43 + int(1114 * totals.bar_percent / 100), 387), fill=(25, 135, 84))
    text = f"{totals.raised:,.0f} / {totals.goal:,.0f} {totals.currency}  ({totals.percent}%)"
    draw.text((40, 420), text, fill=(20, 20, 20), font_size=40)
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def _may_organise(request: HttpRequest, fundraiser: Fundraiser) -> bool:
    return queries.may_organise(request.user, fundraiser)


def _organised(request: HttpRequest, slug: str) -> Fundraiser:
    try:
        return queries.organised_fundraiser(request.user, slug)
    except Fundraiser.DoesNotExist:
        raise Http404 from None


@login_required
@require_GET
def manage(request: HttpRequest, slug: str) -> HttpResponse:
    fundraiser = _organised(request, slug)
    return render(
        request,
        "donations/manage.html",
        {
            "fundraiser": fundraiser,
            "totals": queries.totals(fundraiser),
            "donations": queries.recent_donations(fundraiser),
            "expenses": queries.recent_expenses(fundraiser),
            "payment_methods": fundraiser.payment_methods.order_by("order", "id"),
            "payment_details_entry": queries.payment_details_entry(fundraiser),
            "pending_expenses": queries.pending_expenses(fundraiser),
            "pending_payments": [
                (change, _payment_change_rows(change))
                for change in queries.pending_payment_changes(fundraiser)
            ],
            "outgoing_transfers": queries.outgoing_transfers(fundraiser),
            "incoming_transfers": queries.incoming_transfers(fundraiser),
        },
    )


def _payment_change_rows(change: PaymentMethodProposal) -> list[tuple[str, str, str, bool]]:
    """(field, before, after, changed) for each field of a proposed change to a way to pay, as
    the second person compares them."""
    kinds = dict(PaymentMethod.Kind.choices)
    rows = []
    for name in services.PAYMENT_FIELDS:
        before, after = change.before.get(name, ""), change.after.get(name, "")
        if name == "kind":
            before, after = kinds.get(before, before), kinds.get(after, after)
        elif name == "active":
            before, after = (_yes_no(v) if v != "" else "" for v in (before, after))
        label = str(PaymentMethod._meta.get_field(name).verbose_name)
        rows.append((label, str(before if before is not None else ""),
                     str(after if after is not None else ""), before != after))  # fmt: skip
    rows.append((_("QR code"), *_qr_change(change)))
    return rows


def _qr_change(change: PaymentMethodProposal) -> tuple[str, str, bool]:
    had = bool(change.before.get("qr_sha256"))
    before = "" if change.action == PaymentMethodProposal.Action.ADD else _yes_no(had)
    if change.action == PaymentMethodProposal.Action.REMOVE:
        return before, "", had
    if change.qr_type:
        return before, _("a new QR code"), True
    if change.qr_remove or not had:
        return before, _yes_no(False), had
    return before, _yes_no(True), False


def _yes_no(value: object) -> str:
    return _("yes") if value else _("no")


@login_required
@require_GET
def expense_receipt(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """The receipt of an expense that waits for approval: the group's money people see it
    before they approve; nobody else, and it is never cached."""
    try:
        proposal = queries.pending_receipt(request.user, slug, pk)
    except Fundraiser.DoesNotExist:
        raise Http404 from None
    response = HttpResponse(bytes(proposal.receipt), content_type=proposal.receipt_type)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


DECIDED = {
    ("expense", "approve"): gettext_lazy(
        "Approved. The expense and its receipt are in the ledger."
    ),
    ("expense", "reject"): gettext_lazy(
        "Rejected. Nothing was published and the receipt was deleted."
    ),
    ("payment", "approve"): gettext_lazy("Approved. The ways to pay on the page changed."),
    ("payment", "reject"): gettext_lazy("Rejected. The ways to pay stay as they were."),
    ("transfer", "approve"): gettext_lazy(
        "Approved. The money is set aside until the receiving group accepts it."
    ),
    ("transfer", "reject"): gettext_lazy("Rejected. Nothing was sent."),
    ("transfer", "accept"): gettext_lazy(
        "Accepted. The transfer is in the ledger and in both fundraisers' books."
    ),
    ("transfer", "decline"): gettext_lazy("Declined. Nothing entered your books."),
}
GOODS_DECIDED = {
    "approve": gettext_lazy("Accepted: the goods are in the hub's stock."),
    "reject": gettext_lazy("Declined: nothing entered the hub's stock."),
}


def _decision(
    request: HttpRequest, form: forms.Form, *, back: str, invalid: str,
    act: Callable[[str, str], object], done: Callable[[str], str],
) -> HttpResponse:  # fmt: skip
    """What every Approve / Reject (Accept / Decline) button does: a choice or `invalid` is
    said, `act(decision, reason)` runs once under the form's one-time token, `done(decision)`
    is said on success and the service's refusal on failure, back on the page it came from."""
    if not form.is_valid():
        messages.error(request, invalid)
        return redirect(back)
    decision, reason = form.cleaned_data["decision"], form.cleaned_data["reason"]

    def record() -> str:
        act(decision, reason)
        messages.success(request, done(decision))
        return back

    try:
        return idempotency.respond(request, record)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(back)


@login_required
@require_POST
@idempotency.replay_first
def decide(request: HttpRequest, slug: str, kind: str, pk: int) -> HttpResponse:
    """A second organiser or treasurer approves what another proposed, or either rejects it."""
    fundraiser = _organised(request, slug)
    model = {"expense": ExpenseProposal, "payment": PaymentMethodProposal}[kind]
    proposal = get_object_or_404(model, pk=pk, fundraiser=fundraiser)
    approve = {"expense": services.expense_approve, "payment": services.payment_proposal_approve}
    reject = {"expense": services.expense_reject, "payment": services.payment_proposal_reject}

    def act(decision: str, reason: str) -> None:
        if decision == "approve":
            approve[kind](proposal=proposal, by=request.user)
        else:
            reject[kind](proposal=proposal, by=request.user, reason=reason)

    return _decision(
        request, DecisionForm(request.POST), back=reverse("donations:manage", args=[slug]),
        invalid=_("Choose Approve or Reject."), act=act, done=lambda d: DECIDED[kind, d],
    )  # fmt: skip


@login_required
@require_http_methods(["GET", "POST"])
@idempotency.replay_first
def transfer_new(request: HttpRequest, slug: str) -> HttpResponse:
    """Propose passing money to another group's fundraiser."""
    fundraiser = _organised(request, slug)
    form = TransferForm(request.POST or None, fundraiser=fundraiser,
                        targets=queries.transfer_targets(fundraiser))  # fmt: skip
    if request.method == "POST" and form.is_valid():

        def record() -> str:
            services.transfer_propose(fundraiser=fundraiser, by=request.user, **form.cleaned_data)
            messages.success(
                request,
                _("Proposed. A second organiser or treasurer of your group approves it, then "
                  "the receiving group accepts it: nothing moves until both have."),
            )  # fmt: skip
            return reverse("donations:manage", args=[fundraiser.slug])

        try:
            return idempotency.respond(request, record)
        except ValidationError as exc:
            form.add_error(None, exc)
    return _form_page(request, fundraiser, _("Send money to another group"), form)


@login_required
@require_POST
@idempotency.replay_first
def transfer_decide(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """The sending group's second money person approves a transfer, or either rejects it."""
    fundraiser = _organised(request, slug)
    transfer = get_object_or_404(MoneyTransfer, pk=pk, fundraiser=fundraiser)

    def act(decision: str, reason: str) -> None:
        if decision == "approve":
            services.transfer_approve(transfer=transfer, by=request.user)
        else:
            services.transfer_reject(transfer=transfer, by=request.user, reason=reason)

    return _decision(
        request, DecisionForm(request.POST), back=reverse("donations:manage", args=[slug]),
        invalid=_("Choose Approve or Reject."), act=act, done=lambda d: DECIDED["transfer", d],
    )  # fmt: skip


@login_required
@require_POST
@idempotency.replay_first
def transfer_answer(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """The receiving group's money people accept money another group sends, or decline it."""
    fundraiser = _organised(request, slug)
    transfer = get_object_or_404(MoneyTransfer, pk=pk, to_fundraiser=fundraiser)

    def act(decision: str, reason: str) -> None:
        if decision == "accept":
            services.transfer_accept(transfer=transfer, by=request.user)
        else:
            services.transfer_decline(transfer=transfer, by=request.user, reason=reason)

    return _decision(
        request, TransferAnswerForm(request.POST),
        back=reverse("donations:manage", args=[slug]), invalid=_("Choose Accept or Decline."),
        act=act, done=lambda d: DECIDED["transfer", d],
    )  # fmt: skip


@login_required
@require_http_methods(["GET", "POST"])
@idempotency.replay_first
def payment_method_new(request: HttpRequest, slug: str) -> HttpResponse:
    fundraiser = _organised(request, slug)
    form = PaymentMethodForm(request.POST or None, request.FILES or None,
                             initial={"currency": fundraiser.currency, "active": True})  # fmt: skip
    if request.method == "POST" and form.is_valid():

        def record() -> str:
            services.payment_method_add(fundraiser=fundraiser, by=request.user, **form.cleaned_data)
            messages.success(request, WAITS_FOR_SECOND)
            return reverse("donations:manage", args=[fundraiser.slug])

        try:
            return idempotency.respond(request, record)
        except ValidationError as exc:
            form.add_error(None, exc)
    return _form_page(request, fundraiser, _("Add a way to pay"), form)


def _payment_method(fundraiser: Fundraiser, pk: int) -> PaymentMethod:
    return get_object_or_404(PaymentMethod, pk=pk, fundraiser=fundraiser)


@login_required
@require_http_methods(["GET", "POST"])
@idempotency.replay_first
def payment_method_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    fundraiser = _organised(request, slug)
    method = _payment_method(fundraiser, pk)
    form = PaymentMethodForm(request.POST or None, request.FILES or None, method=method)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        if data.get("order") is None:
            data.pop("order")

        def record() -> str:
            proposed = services.payment_method_change(method=method, by=request.user, **data)
            messages.success(request, WAITS_FOR_SECOND if proposed else _("Nothing was changed."))
            return reverse("donations:manage", args=[fundraiser.slug])

        try:
            return idempotency.respond(request, record)
        except ValidationError as exc:
            form.add_error(None, exc)
    return _form_page(request, fundraiser, _("Change a way to pay"), form)


@login_required
@require_http_methods(["GET", "POST"])
@idempotency.replay_first
def payment_method_remove(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    fundraiser = _organised(request, slug)
    method = _payment_method(fundraiser, pk)
    form = PaymentMethodRemoveForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():

        def record() -> str:
            services.payment_method_remove(method=method, by=request.user)
            messages.success(request, WAITS_FOR_SECOND)
            return reverse("donations:manage", args=[fundraiser.slug])

        try:
            return idempotency.respond(request, record)
        except ValidationError as exc:
            form.add_error(None, exc)
    title = _("Remove “%(method)s”") % {"method": method.label}
    return _form_page(request, fundraiser, title, form, extra={"removing": method})


@login_required
@require_http_methods(["GET", "POST"])
@idempotency.replay_first
def donation_new(request: HttpRequest, slug: str) -> HttpResponse:
    fundraiser = _organised(request, slug)
    form = DonationForm(request.POST or None, request.FILES or None,
                        initial={"currency": fundraiser.currency})  # fmt: skip
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data

        def record() -> str:
            donation = services.donation_record(fundraiser=fundraiser, by=request.user, **data)
            messages.success(request, _("Recorded. The donor's receipt code is %(code)s.")
                             % {"code": donation.receipt_code})  # fmt: skip
            return reverse("donations:manage", args=[fundraiser.slug])

        try:
            return idempotency.respond(request, record)
        except ValidationError as exc:
            form.add_error(None, exc)
    return _form_page(request, fundraiser, _("Record a donation"), form)


@login_required
@require_http_methods(["GET", "POST"])
@idempotency.replay_first
def expense_new(request: HttpRequest, slug: str) -> HttpResponse:
    fundraiser = _organised(request, slug)
    form = ExpenseForm(request.POST or None, request.FILES or None, fundraiser=fundraiser,
                       initial={"currency": fundraiser.currency})  # fmt: skip
    lines = line_formset(request.POST or None)
    lines_ok = request.method == "POST" and (
        lines.is_valid() or (not lines.has_changed() and not any(lines.errors))
    )
    if request.method == "POST" and form.is_valid() and lines_ok:

        def record() -> str:
            services.expense_propose(
                fundraiser=fundraiser, by=request.user,
                lines=lines.lines() if lines.is_valid() else [], **form.cleaned_data,
            )  # fmt: skip
            messages.success(
                request,
                _("Proposed. The expense waits for a second person, another organiser or "
                  "treasurer of the group, to see the receipt and approve it: nothing is public "
                  "until then."),
            )  # fmt: skip
            return reverse("donations:manage", args=[fundraiser.slug])

        try:
            return idempotency.respond(request, record)
        except ValidationError as exc:
            form.add_error(None, exc)
    return _form_page(request, fundraiser, _("Record an expense"), form, lines)


@login_required
@require_http_methods(["GET", "POST"])
@idempotency.replay_first
def correct(request: HttpRequest, slug: str, kind: str, pk: int) -> HttpResponse:
    fundraiser = _organised(request, slug)
    model = {"donation": Donation, "expense": Expense}[kind]
    row = get_object_or_404(model, pk=pk, fundraiser=fundraiser)
    if row.is_corrected:
        raise Http404(_("This was already corrected."))
    form = CorrectionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():

        def record() -> str:
            index = services.correction_record(row=row, by=request.user, **form.cleaned_data)
            messages.success(
                request,
                _("Reversed by ledger entry %(index)s. Now record the right version, if any.")
                % {"index": index},
            )  # fmt: skip
            target = "donations:donation_new" if kind == "donation" else "donations:expense_new"
            return reverse(target, args=[fundraiser.slug])

        try:
            return idempotency.respond(request, record)
        except ValidationError as exc:
            form.add_error(None, exc)
    title = _("Correct ledger entry %(index)s") % {"index": row.ledger_index}
    return _form_page(request, fundraiser, title, form, extra={"row": row})


@login_required
@require_http_methods(["GET", "POST"])
@idempotency.replay_first
def statement(request: HttpRequest, slug: str) -> HttpResponse:
    fundraiser = _organised(request, slug)
    session_key = f"statement:{fundraiser.pk}"
    form = StatementForm(request.POST or None, request.FILES or None)
    rows = request.session.get(session_key)
    if request.method == "POST" and "confirm" in request.POST:
        confirmed = StatementConfirmForm(request.POST)
        previewed = confirmed.cleaned_data["rows_sha256"] if confirmed.is_valid() else ""

        def record() -> str:
            created = statements.statement_import(
                fundraiser, rows or [], previewed_sha256=previewed, by=request.user
            )
            del request.session[session_key]
            messages.success(
                request,
                ngettext("%(n)s new donation recorded.", "%(n)s new donations recorded.", created)
                % {"n": created},
            )
            return reverse("donations:manage", args=[fundraiser.slug])

        try:
            return idempotency.respond(request, record)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    elif request.method == "POST" and form.is_valid():
        try:
            text = form.cleaned_data["statement"].read(2_000_000).decode("utf-8-sig")
            preview = statements.statement_preview(fundraiser, text)
        except UnicodeDecodeError:
            form.add_error("statement", _("Save the statement as UTF-8 CSV and try again."))
        except ValidationError as exc:
            form.add_error("statement", exc)
        else:
            request.session[session_key] = rows = statements.as_session(preview)
    confirm = StatementConfirmForm(
        initial={"rows_sha256": statements.statement_sha256(rows) if rows else ""}, auto_id=False
    )
    context = {"fundraiser": fundraiser, "form": form, "rows": rows, "confirm": confirm}
    return render(request, "donations/statement.html", context)


@login_required
@require_GET
def reconcile_view(request: HttpRequest, slug: str) -> HttpResponse:
    fundraiser = get_object_or_404(Fundraiser, slug=slug)
    coordinates = fundraiser.hubs.filter(pk__in=coordinated_hubs(request.user)).exists()
    if not (_may_organise(request, fundraiser) or coordinates):
        raise Http404
    return render(request, "donations/reconcile.html", {"report": reconcile(fundraiser)})


def _form_page(request, fundraiser, title, form, lines=None, extra=None) -> HttpResponse:
    context = {"fundraiser": fundraiser, "title": title, "form": form, "lines": lines}
    return render(request, "donations/form.html", context | (extra or {}))


# ---- goods for another group's hub ---------------------------------------------------------


@login_required
@require_GET
def goods_incoming(request: HttpRequest) -> HttpResponse:
    """Goods another group bought for the hubs the user coordinates, waiting for them to accept
    (into the hub's stock) or decline."""
    offers = queries.goods_on_the_way(request.user)
    return render(request, "donations/goods_incoming.html", {"offers": offers})


@login_required
@require_POST
@idempotency.replay_first
def goods_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """A coordinator of the hub accepts the goods (Approve) or declines them with a reason."""
    offer = get_object_or_404(queries.goods_on_the_way(request.user), pk=pk)

    def act(decision: str, reason: str) -> None:
        if decision == "approve":
            services.goods_accept(offer=offer, by=request.user)
        else:
            services.goods_decline(offer=offer, by=request.user, reason=reason)

    return _decision(
        request, DecisionForm(request.POST), back=reverse("donations:goods_incoming"),
        invalid=_("Choose Accept or Decline."), act=act, done=GOODS_DECIDED.get,
    )  # fmt: skip


# ---- a fundraiser handed over --------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@idempotency.replay_first
def handover_answer(request: HttpRequest, pk: int) -> HttpResponse:
    """The person a fundraiser is handed to accepts it (choosing whether the public entry names
    them) or declines it. Nobody else sees this page."""
    handover = get_object_or_404(
        FundraiserHandover.objects.select_related("fundraiser__group"),
        pk=pk, to_user=request.user,
    )  # fmt: skip
    if request.method == "POST":
        decision = request.POST.get("decision")
        if decision not in ("accept", "decline"):
            messages.error(request, _("Choose Accept or Decline."))
            return redirect(request.path)

        def record() -> str:
            services.handover_answer(
                handover=handover, by=request.user, accept=decision == "accept",
                named_publicly=request.POST.get("named_publicly") == "on",
            )  # fmt: skip
            if decision == "accept":
                messages.success(request, _("You are now this fundraiser's organiser."))
                return reverse("donations:manage", args=[handover.fundraiser.slug])
            messages.success(request, _("Declined: nothing was changed."))
            return request.path

        try:
            return idempotency.respond(request, record)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect(request.path)
    return render(request, "donations/handover.html", {"handover": handover})
