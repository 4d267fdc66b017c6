"""The API's views: public reads of what the site already publishes, and the volunteers'
delivery report. Views stay thin: reads come from the apps' query modules, the one write goes
through `deliveries.services`."""

import re

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import Resolver404, resolve, reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, generics, serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from aidhub import idempotency
from aidhub.uploads import MAX_UPLOAD_BYTES, CleanFile, clean_image
from deliveries import queries as delivery_queries
from deliveries import services as delivery_services
from deliveries.models import Delivery, ProofOfDelivery
from deliveries.services import MAX_PHOTOS
from donations import queries as donation_queries
from donations.models import Fundraiser
from hubs import queries as hub_queries
from hubs.models import Hub, Place, SupplyRequest
from ledger import queries as ledger_queries
from ledger.models import LedgerEntry

from . import filters, queries
from . import serializers as s
from .errors import KeyReused, PayloadTooLarge

SLUG = re.compile(r"^[-a-zA-Z0-9_]{1,50}$")
INDEX = re.compile(r"^\d{1,18}$")
KEY = re.compile(rf"^[\x21-\x7e]{{8,{s.KEY_LENGTH}}}$")
KEY_PREFIX = "api:"
# Five photos at the upload limit, plus the form fields: anything bigger is refused unread.
MAX_REPORT_BYTES = MAX_PHOTOS * MAX_UPLOAD_BYTES + 1024 * 1024


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, in a sentence.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="When input was refused: messages per field (or `non_field_errors`).",
    )


LIST_ERRORS = {
    400: ErrorSerializer,  # a filter with a bad value
    404: ErrorSerializer,  # a cursor that was not made by us
}
DETAIL_ERRORS = {404: ErrorSerializer}


def _path(
    name: str, example: str, description: str = "The object's public id (slug)."
) -> list[OpenApiParameter]:
    """A path parameter with an example from the demo, for the docs and for the fuzzer."""
    return [
        OpenApiParameter(
            name,
            str,
            OpenApiParameter.PATH,
            description=description,
            examples=[OpenApiExample(example, value=example)],
        )
    ]


def _slug(value: str) -> str:
    """Slugs go into queries only when they could be slugs at all (no NUL bytes, no 10 KB)."""
    if not SLUG.match(value):
        raise exceptions.NotFound()
    return value


class Public:
    """Read-only, open to everyone, cursor-paginated."""

    permission_classes = [AllowAny]


# ---- hubs and places ------------------------------------------------------------------------


@extend_schema_view(get=extend_schema(responses={200: s.HubSerializer(many=True), **LIST_ERRORS}))
class HubList(Public, generics.ListAPIView):
    """Active collection hubs: address, hours, the contact they published, what they accept."""

    serializer_class = s.HubSerializer
    filterset_class = filters.HubFilter
    cursor_ordering = "slug"

    def get_queryset(self) -> QuerySet[Hub]:
        return hub_queries.public_hubs().prefetch_related("surplus_items")


@extend_schema_view(
    get=extend_schema(
        parameters=_path("slug", "sports-palace"),
        responses={200: s.HubSerializer, **DETAIL_ERRORS},
    )
)
class HubDetail(Public, generics.RetrieveAPIView):
    """One active hub."""

    serializer_class = s.HubSerializer

    def get_object(self) -> Hub:
        return hub_queries.public_hub(_slug(self.kwargs["slug"]))


@extend_schema_view(get=extend_schema(responses={200: s.PlaceSerializer(many=True), **LIST_ERRORS}))
class PlaceList(Public, generics.ListAPIView):
    """Villages, towns, evacuation centres and hospitals that receive aid."""

    serializer_class = s.PlaceSerializer
    filterset_class = filters.PlaceFilter
    cursor_ordering = "slug"

    def get_queryset(self) -> QuerySet[Place]:
        return Place.objects.select_related("region")


@extend_schema_view(
    get=extend_schema(
        parameters=_path("slug", "isfana"), responses={200: s.PlaceSerializer, **DETAIL_ERRORS}
    )
)
class PlaceDetail(Public, generics.RetrieveAPIView):
    """One place."""

    serializer_class = s.PlaceSerializer

    def get_object(self) -> Place:
        return hub_queries.public_place(_slug(self.kwargs["slug"]))


@extend_schema_view(
    get=extend_schema(responses={200: s.SupplyRequestSerializer(many=True), **LIST_ERRORS})
)
class RequestList(Public, generics.ListAPIView):
    """Open supply requests (open or partly fulfilled), oldest first by id."""

    serializer_class = s.SupplyRequestSerializer
    filterset_class = filters.RequestFilter
    cursor_ordering = "id"

    def get_queryset(self) -> QuerySet[SupplyRequest]:
        return hub_queries.open_requests(hub_queries.NeedsFilter())


# ---- money ----------------------------------------------------------------------------------


@extend_schema_view(
    get=extend_schema(responses={200: s.FundraiserSerializer(many=True), **LIST_ERRORS})
)
class FundraiserList(Public, generics.ListAPIView):
    """Fundraisers with what they raised and spent, in their own currency."""

    serializer_class = s.FundraiserSerializer
    filterset_class = filters.FundraiserFilter
    cursor_ordering = "slug"

    def get_queryset(self) -> QuerySet[Fundraiser]:
        return queries.fundraisers_with_sums()


@extend_schema_view(
    get=extend_schema(
        parameters=_path("slug", "almaty-for-batken-2022"),
        responses={200: s.FundraiserDetailSerializer, **DETAIL_ERRORS},
    )
)
class FundraiserDetail(Public, generics.RetrieveAPIView):
    """One fundraiser with its totals: raised, spent and balance in its currency, money in per
    original currency and money out per category of goods."""

    serializer_class = s.FundraiserDetailSerializer

    def get_object(self) -> Fundraiser:
        return donation_queries.public_fundraiser(_slug(self.kwargs["slug"]))

    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        fundraiser = self.get_object()
        context = self.get_serializer_context() | {"totals": donation_queries.totals(fundraiser)}
        return Response(s.FundraiserDetailSerializer(fundraiser, context=context).data)


# ---- deliveries -----------------------------------------------------------------------------


@extend_schema_view(
    get=extend_schema(responses={200: s.DeliverySerializer(many=True), **LIST_ERRORS})
)
class DeliveryList(Public, generics.ListAPIView):
    """Verified deliveries, newest first: what their ledger entries say, with photo links."""

    serializer_class = s.DeliverySerializer
    filterset_class = filters.DeliveryFilter
    cursor_ordering = "-ledger_index"

    def get_queryset(self) -> QuerySet[Delivery]:
        return queries.published_deliveries()

    def list(self, request: Request, *args, **kwargs) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        context = self.get_serializer_context() | {
            "payloads": queries.ledger_payloads(d.ledger_index for d in page)
        }
        data = s.DeliverySerializer(page, many=True, context=context).data
        return self.get_paginated_response(data)


@extend_schema_view(get=extend_schema(responses={200: s.DeliverySerializer, **DETAIL_ERRORS}))
class DeliveryDetail(Public, generics.RetrieveAPIView):
    """One verified delivery."""

    serializer_class = s.DeliverySerializer

    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        delivery = get_object_or_404(
            queries.published_deliveries(), slug=_slug(self.kwargs["slug"])
        )
        context = self.get_serializer_context() | {
            "payloads": queries.ledger_payloads([delivery.ledger_index])
        }
        return Response(s.DeliverySerializer(delivery, context=context).data)


# ---- the ledger -----------------------------------------------------------------------------


@extend_schema_view(
    get=extend_schema(
        parameters=[
            OpenApiParameter(
                "fundraiser",
                str,
                description="Fundraiser slug: only the entries about this fundraiser.",
                examples=[OpenApiExample("almaty-for-batken-2022", value="almaty-for-batken-2022")],
            )
        ],
        responses={200: s.LedgerEntrySerializer(many=True), **LIST_ERRORS},
    )
)
class LedgerEntryList(Public, generics.ListAPIView):
    """Ledger entries, newest first, filtered like the /ledger/ page. For verifying the whole
    ledger, use /api/ledger/entries (raw signed leaves; docs/verify.md)."""

    serializer_class = s.LedgerEntrySerializer
    filterset_class = filters.LedgerEntryFilter
    cursor_ordering = "-index"

    def get_queryset(self) -> QuerySet[LedgerEntry]:
        return LedgerEntry.objects.select_related("reversed_by")

    def list(self, request: Request, *args, **kwargs) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        views = ledger_queries.with_evidence([ledger_queries.EntryView(e) for e in page])
        data = s.LedgerEntrySerializer(views, many=True, context=self.get_serializer_context())
        return self.get_paginated_response(data.data)


@extend_schema_view(
    get=extend_schema(
        parameters=_path("index", "0", "The entry's index in the ledger, from 0."),
        responses={200: s.LedgerEntrySerializer, **DETAIL_ERRORS},
    )
)
class LedgerEntryDetail(Public, generics.RetrieveAPIView):
    """One ledger entry."""

    serializer_class = s.LedgerEntrySerializer

    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        raw = self.kwargs["index"]
        view = ledger_queries.entry_view(int(raw)) if INDEX.match(raw) else None
        if view is None:
            raise exceptions.NotFound()
        return Response(s.LedgerEntrySerializer(view, context=self.get_serializer_context()).data)


# ---- the volunteers' report -----------------------------------------------------------------


class DeliveryReport(APIView):
    """A volunteer reports the handover of their delivery with photos (multipart)."""

    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="deliveries_report",
        request={"multipart/form-data": s.ReportInputSerializer},
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                description="8 to 60 visible ASCII characters, new for each report (a UUID). "
                "A repeat with the same key gets the first answer and records nothing.",
            )
        ],
        responses={
            201: s.ReportSerializer,
            400: ErrorSerializer,
            403: ErrorSerializer,
            404: ErrorSerializer,
            409: ErrorSerializer,
            413: ErrorSerializer,
            415: ErrorSerializer,
        },
    )
    def post(self, request: Request, slug: str) -> Response:
        delivery = delivery_queries.delivery_for(request.user, _slug(slug))
        if delivery.volunteer_id != request.user.pk:
            raise exceptions.NotFound()  # someone else's delivery: as if it did not exist
        if _content_length(request) > MAX_REPORT_BYTES:
            raise PayloadTooLarge(
                _("A report may be at most %(mb)s MB.") % {"mb": MAX_REPORT_BYTES // 2**20}
            )
        # The same one-time token rule as every form (aidhub/idempotency.py): a repeat gets
        # the first answer, the key with another body is a 409.
        key = _idempotency_key(request.headers.get("Idempotency-Key"))
        submission = _submission(request, key) if key else None
        if submission and (replay := _replay(submission, delivery)):
            return replay
        data = _valid(s.ReportInputSerializer(data=request.data))
        if submission is None and data.get("idempotency_key"):
            submission = _submission(request, _idempotency_key(data["idempotency_key"]))
            if replay := _replay(submission, delivery):
                return replay
        photos = _clean_photos(data["photos"])

        def record() -> str:
            proof = delivery_services.delivery_report(
                delivery=delivery,
                volunteer=request.user,
                people=data["people"],
                households=data.get("households"),
                note=data.get("note", ""),
                photos=photos,
            )
            return f"{_report_path(delivery)}#{proof.pk}"

        if submission is None:
            return _answer(record(), delivery, replayed=False)
        try:
            result, replayed = submission.run(record)
        except idempotency.Conflict:
            raise KeyReused() from None
        return _answer(result, delivery, replayed=replayed)


def _report_path(delivery: Delivery) -> str:
    return reverse("api:delivery-report", args=[delivery.slug])


def _content_length(request: Request) -> int:
    raw = request.META.get("CONTENT_LENGTH") or "0"
    return int(raw) if raw.isdigit() else 0


def _idempotency_key(raw: str | None) -> str:
    if raw is None:
        return ""
    if not KEY.match(raw):
        raise exceptions.ValidationError(
            {
                "Idempotency-Key": [
                    _("Use 8 to %(n)s letters, digits or punctuation, such as a UUID.")
                    % {"n": s.KEY_LENGTH}
                ]
            }
        )
    return raw


def _valid(serializer: serializers.Serializer) -> dict:
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _clean_photos(uploads: list) -> list[CleanFile]:
    photos, errors = [], []
    for n, upload in enumerate(uploads, start=1):
        try:
            photos.append(clean_image(upload))
        except DjangoValidationError as exc:
            errors += [f"{n}: {m}" for m in exc.messages]
    if errors:
        raise exceptions.ValidationError({"photos": errors})
    return photos


def _submission(request: Request, key: str) -> idempotency.Submission:
    return idempotency.Submission(
        key=KEY_PREFIX + key,
        user_id=request.user.pk,
        body_sha256=idempotency.body_sha256(request),
    )


def _replay(submission: idempotency.Submission, delivery: Delivery) -> Response | None:
    """The first answer to this key, if this user already sent this report with it."""
    try:
        stored = submission.outcome()
    except idempotency.Conflict:
        raise KeyReused() from None
    return None if stored is None else _answer(stored, delivery, replayed=True)


def _answer(result: str, delivery: Delivery, *, replayed: bool) -> Response:
    """The report named by a stored result, as the 201 its first request got."""
    path, _hash, report = result.rpartition("#")
    proof = None
    if path == _report_path(delivery) and report.isdigit():
        proof = ProofOfDelivery.objects.filter(pk=int(report), delivery=delivery).first()
    if proof is None:  # a key recorded before bodies were hashed, used for another delivery
        raise KeyReused()
    response = Response(s.ReportSerializer(proof).data, status=status.HTTP_201_CREATED)
    if replayed:
        response["Idempotent-Replayed"] = "true"
    return response


# ---- plain Django views: docs and the JSON 404 --------------------------------------------------


def docs(request: HttpRequest) -> HttpResponse:
    """Swagger UI from our own static files, started by a script file: no inline code, so it
    runs under the site's Content-Security-Policy."""
    return render(request, "api/docs.html", {"schema_url": reverse("api:schema")})


def not_found(request: HttpRequest, rest: str = "") -> JsonResponse:
    """Any other /api/v1/ path: a JSON 404, with a hint when only the final slash is missing."""
    detail = _("Not found.")
    if not request.path.endswith("/"):
        try:
            match = resolve(request.path + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not not_found:
            detail = _("Not found. Did you mean %(path)s/ ?") % {"path": request.path}
    return JsonResponse({"detail": detail}, status=404)
