from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from hubs.admin import HubPeopleFilter, HubScopedAdmin

from . import services
from .models import Delivery, DeliveryLine, ProofOfDelivery


class DeliveryLineInline(admin.TabularInline):
    model = DeliveryLine
    extra = 0
    can_delete = False
    readonly_fields = ["item", "quantity"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Delivery)
class DeliveryAdmin(HubScopedAdmin):
    list_display = ["slug", "hub", "place", "volunteer", "status", "photos", "created_at"]
    list_filter = ["status", "hub", "place__region", ("volunteer", HubPeopleFilter)]
    search_fields = ["slug", "place__name", "volunteer__username"]
    list_select_related = ["hub", "place", "volunteer"]
    readonly_fields = [
        "slug",
        "hub",
        "place",
        "expense",
        "volunteer",
        "status",
        "claim_expires_at",
        "dispatched_at",
        "delivered_at",
        "verified_at",
        "verified_by",
        "reason",
        "ledger_index",
        "created_by",
    ]
    fields = [*readonly_fields, "vehicle_note"]
    inlines = [DeliveryLineInline]
    actions = ["approve"]

    def has_add_permission(self, request):
        return False  # planned from a hub's page, with stock checks and requests

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("proofs__photos")

    @admin.display(description=_("proof photos"))
    def photos(self, delivery):
        pending = [p for p in delivery.proofs.all() if p.review == "pending"]
        if not pending:
            return "—"
        return format_html_join(
            " ",
            '<img src="{}?thumb=1" width="48" height="48" alt="">',
            (
                (reverse("deliveries:photo", args=[delivery.slug, photo.evidence_sha256]),)
                for photo in pending[0].photos.all()
            ),
        )

    @admin.action(description=_("Approve and publish the selected deliveries"))
    def approve(self, request, queryset):
        for delivery in queryset.filter(status=Delivery.Status.DELIVERED):
            try:
                services.delivery_verify(delivery=delivery, coordinator=request.user)
            except ValidationError as exc:
                self.message_user(
                    request, f"{delivery.slug}: {' '.join(exc.messages)}", messages.ERROR
                )
            else:
                self.message_user(request, format_html(_("{slug} verified."), slug=delivery.slug))


@admin.register(ProofOfDelivery)
class ProofAdmin(HubScopedAdmin):
    hub_path = "delivery__hub"
    list_display = ["delivery", "people", "households", "review", "delivered_at"]
    list_filter = ["review"]
    readonly_fields = [
        "delivery",
        "people",
        "households",
        "note",
        "delivered_at",
        "review",
        "reject_reason",
        "created_by",
    ]

    def has_add_permission(self, request):
        return False
