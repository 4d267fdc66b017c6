"""What the API shows. Every field is listed by name: a new column on a model never appears
here by itself, so private columns (contacts, bank references, who created what) stay private."""

from collections.abc import Mapping
from datetime import UTC
from decimal import Decimal

from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from deliveries.models import Delivery, ProofOfDelivery
from deliveries.services import MAX_PHOTOS
from donations.models import Fundraiser
from donations.queries import Totals
from hubs.models import Category, Hub, Place, Region, SupplyRequest, SupplyRequestLine
from hubs.models import format_quantity as quantity_text
from ledger.money import format_amount
from ledger.queries import EntryView
from ledger.schemas import UNITS

# aidhub.IdempotentSubmission.key holds 64 characters; API keys get a 4-character prefix.
KEY_LENGTH = 60


def _absolute(serializer: serializers.Serializer, path: str) -> str:
    request = serializer.context.get("request")
    return request.build_absolute_uri(path) if request else path


def _api_list(serializer: serializers.Serializer, name: str, query: str) -> str:
    return _absolute(serializer, f"{reverse(name)}?{query}")


class UtcDateTimeField(serializers.DateTimeField):
    """Times in UTC with a Z, as the ledger writes them, whatever the site's time zone."""

    def __init__(self, **kwargs) -> None:
        super().__init__(default_timezone=UTC, **kwargs)  # DRF writes +00:00 as Z


class RegionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["slug", "name", "country"]


class HubRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Hub
        fields = ["slug", "name"]


class PlaceRefSerializer(serializers.ModelSerializer):
    region = RegionSerializer()

    class Meta:
        model = Place
        fields = ["slug", "name", "region"]


class HubSerializer(serializers.ModelSerializer):
    region = RegionSerializer()
    accepts = serializers.ListField(
        child=serializers.ChoiceField(choices=Category.choices),
        help_text="Item categories the hub takes now.",
    )
    surplus_items = serializers.SlugRelatedField(
        many=True, read_only=True, slug_field="slug", help_text="Items not to bring for now."
    )
    page = serializers.SerializerMethodField(help_text="The hub's page on the site.")
    ledger = serializers.SerializerMethodField(help_text="The hub's ledger entries in the API.")

    class Meta:
        model = Hub
        fields = [
            "slug", "name", "kind", "region", "address", "latitude", "longitude",
            "opening_hours", "public_contact", "accepts", "surplus_items", "page", "ledger",
        ]  # fmt: skip

    def get_page(self, hub: Hub) -> str:
        return _absolute(self, hub.get_absolute_url())

    def get_ledger(self, hub: Hub) -> str:
        return _api_list(self, "api:ledger-entries", f"hub={hub.slug}")


class PlaceSerializer(serializers.ModelSerializer):
    region = RegionSerializer()
    last_delivery_at = UtcDateTimeField(allow_null=True)
    page = serializers.SerializerMethodField()
    ledger = serializers.SerializerMethodField()

    class Meta:
        model = Place
        fields = [
            "slug", "name", "kind", "region", "district", "latitude", "longitude",
            "population_displaced", "last_delivery_at", "page", "ledger",
        ]  # fmt: skip

    def get_page(self, place: Place) -> str:
        return _absolute(self, place.get_absolute_url())

    def get_ledger(self, place: Place) -> str:
        return _api_list(self, "api:ledger-entries", f"place={place.slug}")


class RequestLineSerializer(serializers.ModelSerializer):
    item = serializers.CharField(source="item.slug")
    name = serializers.CharField(source="item.name")
    category = serializers.ChoiceField(source="item.category", choices=Category.choices)
    unit = serializers.ChoiceField(source="item.unit", choices=[(u, u) for u in UNITS])
    quantity = serializers.SerializerMethodField()
    delivered = serializers.SerializerMethodField()
    outstanding = serializers.SerializerMethodField()

    class Meta:
        model = SupplyRequestLine
        fields = ["item", "name", "category", "unit", "quantity", "delivered", "outstanding"]

    def get_quantity(self, line: SupplyRequestLine) -> str:
        return quantity_text(line.quantity)

    def get_delivered(self, line: SupplyRequestLine) -> str:
        return quantity_text(line.delivered)

    def get_outstanding(self, line: SupplyRequestLine) -> str:
        return quantity_text(line.outstanding)


class SupplyRequestSerializer(serializers.ModelSerializer):
    place = PlaceRefSerializer()
    hub = HubRefSerializer()
    urgency = serializers.ChoiceField(
        choices=SupplyRequest.Urgency.choices, help_text="1 critical, 2 high, 3 normal."
    )
    created_at = UtcDateTimeField()
    lines = RequestLineSerializer(many=True)

    class Meta:
        model = SupplyRequest
        fields = [
            "id", "place", "hub", "urgency", "status", "needed_by", "note", "created_at", "lines",
        ]  # fmt: skip


def _money(amount: Decimal, currency: str) -> str:
    return format_amount(amount, currency)


class FundraiserSerializer(serializers.ModelSerializer):
    """A fundraiser in a list: its sums come from the same rows `totals` reads."""

    region = RegionSerializer(allow_null=True)
    currency = serializers.CharField(help_text="ISO 4217 code of the fundraiser's currency.")
    goal = serializers.SerializerMethodField()
    raised = serializers.SerializerMethodField()
    spent = serializers.SerializerMethodField()
    balance = serializers.SerializerMethodField()
    page = serializers.SerializerMethodField()
    ledger = serializers.SerializerMethodField()

    class Meta:
        model = Fundraiser
        fields = [
            "slug", "title", "status", "currency", "goal", "raised", "spent", "balance",
            "region", "starts_on", "ends_on", "page", "ledger",
        ]  # fmt: skip

    def get_goal(self, fundraiser: Fundraiser) -> str:
        return _money(fundraiser.goal_amount, fundraiser.currency)

    def get_raised(self, fundraiser: Fundraiser) -> str:
        return _money(fundraiser.raised_total, fundraiser.currency)

    def get_spent(self, fundraiser: Fundraiser) -> str:
        return _money(fundraiser.spent_total, fundraiser.currency)

    def get_balance(self, fundraiser: Fundraiser) -> str:
        balance = (
            fundraiser.raised_total + fundraiser.received_total
            - fundraiser.sent_total - fundraiser.spent_total
        )  # fmt: skip
        return _money(balance, fundraiser.currency)

    def get_page(self, fundraiser: Fundraiser) -> str:
        return _absolute(self, fundraiser.get_absolute_url())

    def get_ledger(self, fundraiser: Fundraiser) -> str:
        return _api_list(self, "api:ledger-entries", f"fundraiser={fundraiser.slug}")


class TotalsSerializer(serializers.Serializer):
    currency = serializers.CharField()
    goal = serializers.CharField()
    raised = serializers.CharField(help_text="Money in, converted to the fundraiser's currency.")
    spent = serializers.CharField(help_text="Money out, converted to the fundraiser's currency.")
    balance = serializers.CharField()
    percent = serializers.IntegerField(help_text="Raised as a percentage of the goal.")
    donations = serializers.IntegerField(help_text="Number of donations (corrections excluded).")
    raised_by_currency = serializers.DictField(
        child=serializers.CharField(), help_text="Money in per original currency, unconverted."
    )
    spent_by_category = serializers.DictField(
        child=serializers.CharField(),
        help_text="Money out per item category; a receipt for several is split evenly.",
    )

    def to_representation(self, totals: Totals) -> dict:
        c = totals.currency
        return {
            "currency": c,
            "goal": _money(totals.goal, c),
            "raised": _money(totals.raised, c),
            "spent": _money(totals.spent, c),
            "balance": _money(totals.balance, c),
            "percent": totals.percent,
            "donations": totals.donations,
            "raised_by_currency": {k: _money(v, k) for k, v in totals.by_currency.items()},
            "spent_by_category": {
                k: _money(v, c) for k, v in sorted(totals.spent_by_category.items())
            },
        }


class FundraiserDetailSerializer(FundraiserSerializer):
    places = serializers.SlugRelatedField(many=True, read_only=True, slug_field="slug")
    hubs = serializers.SlugRelatedField(many=True, read_only=True, slug_field="slug")
    totals = serializers.SerializerMethodField()

    class Meta(FundraiserSerializer.Meta):
        fields = [*FundraiserSerializer.Meta.fields, "story", "how_to_donate", "places", "hubs",
                  "totals"]  # fmt: skip

    @extend_schema_field(TotalsSerializer)
    def get_totals(self, fundraiser: Fundraiser) -> dict:
        return TotalsSerializer(self.context["totals"]).data

    def get_raised(self, fundraiser: Fundraiser) -> str:
        return _money(self.context["totals"].raised, fundraiser.currency)

    def get_spent(self, fundraiser: Fundraiser) -> str:
        return _money(self.context["totals"].spent, fundraiser.currency)

    def get_balance(self, fundraiser: Fundraiser) -> str:
        return _money(self.context["totals"].balance, fundraiser.currency)


class DeliveredLineSerializer(serializers.Serializer):
    item = serializers.CharField()
    name = serializers.CharField()
    quantity = serializers.CharField()
    unit = serializers.ChoiceField(choices=[(u, u) for u in UNITS])
    category = serializers.ChoiceField(choices=Category.choices)


class DeliverySerializer(serializers.Serializer):
    """A verified delivery, told by its ledger entry and nothing else."""

    slug = serializers.SlugField()
    hub = HubRefSerializer(
        allow_null=True, help_text="The hub it left from; null when straight from a purchase."
    )
    expense = serializers.IntegerField(
        allow_null=True,
        help_text="Ledger index of the expense entry whose goods it carried straight to the "
        "place; null when it left from a hub.",
    )
    place = PlaceRefSerializer()
    items = DeliveredLineSerializer(many=True)
    people = serializers.IntegerField()
    households = serializers.IntegerField(allow_null=True)
    delivered_at = serializers.CharField(help_text="UTC, as written in the ledger entry.")
    confirmed_by_recipient = serializers.BooleanField(
        help_text="A local contact confirmed the handover with a one-time code."
    )
    fundraisers = serializers.ListField(child=serializers.CharField())
    ledger_index = serializers.IntegerField()
    ledger_entry = serializers.URLField()
    evidence = serializers.ListField(
        child=serializers.URLField(), help_text="The published photos, content-addressed."
    )

    def to_representation(self, delivery: Delivery) -> dict:
        payload = self.context["payloads"][delivery.ledger_index]
        return {
            "slug": delivery.slug,
            "hub": HubRefSerializer(delivery.hub).data if delivery.hub_id else None,
            "expense": payload.get("expense"),
            "place": PlaceRefSerializer(delivery.place).data,
            "items": [
                {k: line[k] for k in ("item", "name", "quantity", "unit", "category")}
                for line in payload["items"]
            ],
            "people": payload["people"],
            "households": payload.get("households"),
            "delivered_at": payload["delivered_at"],
            "confirmed_by_recipient": payload["confirmed_by_recipient"],
            "fundraisers": [f["id"] for f in payload.get("fundraisers", [])],
            "ledger_index": delivery.ledger_index,
            "ledger_entry": _absolute(self, reverse("ledger:entry", args=[delivery.ledger_index])),
            "evidence": [
                _absolute(self, reverse("ledger:evidence", args=[sha]))
                for sha in payload.get("evidence", [])
            ],
        }


class LedgerEntrySerializer(serializers.Serializer):
    """One entry: its signed content (index, kind, time, payload) and its RFC 9162 leaf hash."""

    index = serializers.IntegerField()
    kind = serializers.CharField()
    time = serializers.CharField(help_text="UTC, as signed.")
    payload = serializers.JSONField(help_text="The entry's public payload; see docs/verify.md.")
    leaf_hash = serializers.CharField(help_text="SHA-256(0x00 || leaf), hex.")
    reversed_by = serializers.IntegerField(
        allow_null=True, help_text="The correction entry that reverses this one, if any."
    )
    evidence = serializers.ListField(child=serializers.URLField())
    page = serializers.URLField()

    def to_representation(self, view: EntryView) -> dict:
        reversed_by = view.reversed_by
        return {
            "index": view.index,
            "kind": view.kind,
            "time": view.data["time"],
            "payload": view.payload,
            "leaf_hash": view.leaf_hash_hex,
            "reversed_by": reversed_by.index if reversed_by else None,
            "evidence": [
                _absolute(self, reverse("ledger:evidence", args=[e.sha256])) for e in view.evidence
            ],
            "page": _absolute(self, reverse("ledger:entry", args=[view.index])),
        }


# ---- the volunteers' report -----------------------------------------------------------------


class ReportInputSerializer(serializers.Serializer):
    people = serializers.IntegerField(min_value=1, max_value=1_000_000)
    households = serializers.IntegerField(
        min_value=1, max_value=1_000_000, required=False, allow_null=True
    )
    note = serializers.CharField(
        max_length=500,
        required=False,
        allow_blank=True,
        default="",
        help_text="No names or phone numbers of the people who received.",
    )
    photos = serializers.ListField(
        child=serializers.FileField(),
        min_length=1,
        max_length=MAX_PHOTOS,
        help_text=f"JPEG, PNG or WebP; 1 to {MAX_PHOTOS}. Repeat the field for each photo.",
    )
    idempotency_key = serializers.CharField(
        min_length=8,
        max_length=KEY_LENGTH,
        required=False,
        help_text="Only when the Idempotency-Key header cannot be sent; the header wins.",
    )
    # A form posted from a page may carry Django's CSRF token as a field; it is not data.
    KNOWN_EXTRA = frozenset({"csrfmiddlewaretoken"})

    def to_internal_value(self, data) -> dict:
        unknown = {
            str(name): [_("This field is not part of a report.")]
            for name in (data if isinstance(data, Mapping) else {})
            if name not in self.fields and name not in self.KNOWN_EXTRA
        }
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({**exc.detail, **unknown}) from None
        if unknown:
            raise serializers.ValidationError(unknown)
        return value


class ReportSerializer(serializers.Serializer):
    """What a report recorded. Built from the stored report alone, so a repeat with the same
    Idempotency-Key gets exactly the same body."""

    delivery = serializers.SlugField()
    report = serializers.IntegerField(help_text="The report's id.")
    people = serializers.IntegerField()
    households = serializers.IntegerField(allow_null=True)
    note = serializers.CharField(allow_blank=True)
    delivered_at = UtcDateTimeField()
    photos = serializers.IntegerField(help_text="How many distinct photos were stored.")

    def to_representation(self, proof: ProofOfDelivery) -> dict:
        return {
            "delivery": proof.delivery.slug,
            "report": proof.pk,
            "people": proof.people,
            "households": proof.households,
            "note": proof.note,
            "delivered_at": UtcDateTimeField().to_representation(proof.delivered_at),
            "photos": proof.photos.count(),
        }
