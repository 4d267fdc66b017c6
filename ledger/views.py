from pathlib import Path

from django.conf import settings
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import render
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_safe

from aidhub.pagecache import public_page

from . import exportfiles, exports, keys, presentation, queries, services
from .forms import LedgerFilterForm
from .models import ReceiptCode


class BadParameter(ValueError):
    pass


def _int(request: HttpRequest, name: str, *, required: bool = True) -> int | None:
    raw = request.GET.get(name)
    if raw is None or raw == "":
        if required:
            raise BadParameter(f"missing parameter {name}")
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise BadParameter(f"{name} must be a non-negative whole number")
    return int(raw)


def _api_error(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


# ---- the HTTP contract used by verifiers and mirrors ----------------------------------------


@require_GET
def api_checkpoint(request: HttpRequest) -> HttpResponse:
    checkpoint = queries.latest_checkpoint()
    if checkpoint is None:
        return _api_error("no checkpoint has been signed yet", status=404)
    response = HttpResponse(checkpoint.note, content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response


@require_GET
def api_key(request: HttpRequest) -> HttpResponse:
    return HttpResponse(keys.signer().verifier_key + "\n", content_type="text/plain; charset=utf-8")


@require_GET
def api_entries(request: HttpRequest) -> HttpResponse:
    try:
        start = _int(request, "start")
        end = _int(request, "end", required=False)
        leaves, _size = queries.entries_leaves(start, end)
    except (BadParameter, queries.RangeError) as exc:
        return _api_error(str(exc))
    body = b"".join(leaf + b"\n" for leaf in leaves)
    return HttpResponse(body, content_type="application/jsonl; charset=utf-8")


@require_GET
def api_inclusion(request: HttpRequest) -> JsonResponse:
    try:
        index, size = _int(request, "index"), _int(request, "size")
        proof = queries.inclusion_proof(index, size)
    except (BadParameter, queries.RangeError) as exc:
        return _api_error(str(exc))
    return JsonResponse({"index": index, "size": size, "hashes": [queries.b64(h) for h in proof]})


@require_GET
def api_consistency(request: HttpRequest) -> JsonResponse:
    try:
        old, new = _int(request, "old"), _int(request, "new")
        proof = queries.consistency_proof(old, new)
    except (BadParameter, queries.RangeError) as exc:
        return _api_error(str(exc))
    return JsonResponse({"old": old, "new": new, "hashes": [queries.b64(h) for h in proof]})


# ---- pages ----------------------------------------------------------------------------------


@require_GET
@public_page(queries.version)
def entry_list(request: HttpRequest) -> HttpResponse:
    form = LedgerFilterForm(request.GET or None)
    filters = form.filters() if form.is_valid() else queries.Filters()
    before = request.GET.get("before", "")
    before_index = int(before) if before.isdigit() and len(before) < 19 else None
    size = settings.LEDGER_PAGE_SIZE
    entries = SimpleLazyObject(
        lambda: queries.entries_page(filters, before=before_index, size=size)
    )
    params = request.GET.copy()
    params.pop("before", None)

    def older() -> str | None:
        if len(entries) < size:
            return None
        params["before"] = entries[-1].index
        return "?" + params.urlencode()

    active = [
        (
            scope,
            ref,
            presentation.local_name(scope, ref, queries.ref_label(scope, ref)),
            _without(request, scope),
        )
        for scope, ref in filters.refs().items()
    ]
    return render(
        request,
        "ledger/entry_list.html",
        {
            # The list is kept as a {% fragment %} under the ledger's version (what a new entry
            # changes) and the names' (see entry_rows); what only it reads is lazy.
            "version": f"{queries.version()}|{presentation.names_version()}",
            "form": form,
            "entries": entries,
            "totals": SimpleLazyObject(lambda: queries.totals(filters)),
            "older": SimpleLazyObject(older),
            "is_first_page": before_index is None,
            "active_refs": active,
            "export_query": _export_query(filters),
            "checkpoint": SimpleLazyObject(queries.latest_checkpoint),
        },
    )


def _without(request: HttpRequest, name: str) -> str:
    params = request.GET.copy()
    params.pop(name, None)
    params.pop("before", None)
    return "?" + params.urlencode() if params else "?"


def _export_query(filters: queries.Filters) -> str:
    return f"?fundraiser={filters.fundraiser}" if filters.fundraiser else ""


@require_GET
def entry_detail(request: HttpRequest, index: int, receipt: str = "") -> HttpResponse:
    # The page is kept as a {% fragment %} under the ledger's version (a new checkpoint, a
    # reversal) and the names'; what only it reads is lazy, the entry too when the ledger's
    # version says it exists. What the version does not see (a thumbnail made a moment later)
    # shows within the fragment's minute, as on the ledger list.
    size, _signed = queries.version()
    view = SimpleLazyObject(lambda: queries.entry_view(index)) if index < size else None
    if view is None and (view := queries.entry_view(index)) is None:
        raise Http404(_("There is no entry %(index)s.") % {"index": index})
    checkpoint = SimpleLazyObject(queries.latest_checkpoint)

    def has_proof() -> bool:
        return bool(checkpoint) and index < checkpoint.size

    def proof() -> list[str] | None:
        if not has_proof():
            return None
        return [queries.b64(h) for h in queries.inclusion_proof(index, checkpoint.size)]

    def fundraiser_totals() -> list[dict]:
        if receipt and view.payload.get("fundraiser"):
            return queries.totals(queries.Filters(fundraiser=view.payload["fundraiser"]["id"]))
        return []

    return render(
        request,
        "ledger/entry_detail.html",
        {
            "version": f"{queries.version()}|{presentation.names_version()}",
            "index": index,
            "view": view,
            "checkpoint": checkpoint,
            "root_b64": SimpleLazyObject(
                lambda: queries.b64(bytes(checkpoint.root_hash)) if checkpoint else ""
            ),
            "has_proof": SimpleLazyObject(has_proof),
            "proof": SimpleLazyObject(proof),
            "receipt": receipt,
            "since": SimpleLazyObject(lambda: queries.fundraiser_since(view) if receipt else []),
            "follow_ups": SimpleLazyObject(lambda: queries.follow_ups(view)),
            "fundraiser_totals": SimpleLazyObject(fundraiser_totals),
            "host": request.build_absolute_uri("/").rstrip("/"),
        },
    )


@require_GET
def receipt(request: HttpRequest, code: str) -> HttpResponse:
    found = ReceiptCode.objects.filter(code=services.receipt_code_normal(code))
    found = found.select_related("entry").first()
    if found is None:
        raise Http404(_("No donation has this receipt code."))
    return entry_detail(request, found.entry.index, receipt=found.code)


@require_GET
def receipt_lookup(request: HttpRequest) -> HttpResponse:
    code = services.receipt_code_normal(request.GET.get("code", ""))
    if code:
        if ReceiptCode.objects.filter(code=code).exists():
            return HttpResponseRedirect(reverse("ledger:receipt", args=[code]))
        return render(request, "ledger/receipt_lookup.html", {"code": code, "not_found": True})
    return render(request, "ledger/receipt_lookup.html", {"code": ""})


@require_GET
def evidence(request: HttpRequest, sha256: str, thumbnail: bool = False) -> FileResponse:
    found = queries.published_evidence(sha256)
    if found is None or (thumbnail and not found.thumbnail):
        raise Http404(_("No published file has this hash."))
    stored = found.thumbnail if thumbnail else found.file
    response = FileResponse(
        stored.open("rb"), content_type="image/webp" if thumbnail else found.content_type
    )
    # Content-addressed: the bytes behind this URL can never change.
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@require_safe
def export(request: HttpRequest, fmt: str) -> HttpResponse:
    """The whole ledger from its files; one fundraiser's entries generated on demand."""
    if fmt not in exports.FORMATS:
        raise Http404(_("There is no export in this format."))
    fundraiser = request.GET.get("fundraiser", "")
    if not fundraiser:
        return exportfiles.response(request, fmt)
    if not exports.valid_fundraiser(fundraiser):
        return HttpResponse(
            _("The fundraiser must be given by its public id, such as batken-2022."),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    return exports.fundraiser_response(request, fmt, fundraiser)


VERIFIER_PATH = Path(__file__).with_name("verify.py")


@require_GET
def verify_instructions(request: HttpRequest) -> HttpResponse:
    checkpoint = queries.latest_checkpoint()
    return render(
        request,
        "ledger/verify.html",
        {
            "host": request.build_absolute_uri("/").rstrip("/"),
            "verifier_key": keys.signer().verifier_key,
            "checkpoint": checkpoint,
        },
    )


@require_GET
def verifier_script(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(VERIFIER_PATH.read_bytes(), content_type="text/x-python; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="verify.py"'
    return response
