from django.contrib import admin, messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from hubs.admin import HubPeopleFilter, HubScopedAdmin

from .models import Delivery, DeliveryLine, ProofOfDelivery
from .queries import coordinated


class DeliveryLineInline(admin.TabularInline):
    model = DeliveryLine
    extra = 0
    can_delete = False
    readonly_fields = ["item", "quantity"]

    def has_add_permission(self, request, obj=None):
        return False


class DeliveryScopedAdmin(HubScopedAdmin):
    """Deliveries of the hubs the user coordinates, and those straight from the purchases of
    the groups where they are an organiser or coordinator (deliveries.queries.coordinated).
    The admin is for hub coordinators; a group without hubs verifies on the site's pages."""

    delivery_path = ""

    def get_queryset(self, request):
        rows = super(HubScopedAdmin, self).get_queryset(request)
        if request.user.is_superuser:
            return rows
        prefix = f"{self.delivery_path}__" if self.delivery_path else ""
        ids = Delivery.objects.filter(coordinated(request.user)).values("pk")
        return rows.filter(**{f"{prefix}pk__in": ids})


@admin.register(Delivery)
class DeliveryAdmin(DeliveryScopedAdmin):
    list_display = ["slug", "source", "place", "volunteer", "status", "photos", "created_at"]
    list_filter = ["status", "hub", "place__region", ("volunteer", HubPeopleFilter)]
    search_fields = ["slug", "place__name", "volunteer__username"]
    list_select_related = ["hub", "expense", "place", "volunteer"]
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
    actions = ["review"]

    def has_add_permission(self, request):
        return False  # planned from a hub's page, with stock checks and requests

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("proofs__photos")

    @admin.display(description=pgettext_lazy("where a delivery comes from", "from"))
    def source(self, delivery):
        return delivery.from_label

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

    @admin.action(description=_("Check the proof of the selected delivery"))
    def review(self, request, queryset):
        # No approving in bulk: each proof is published from its own page, after its photos
        # were looked at (and blurred), never from a list of thumbnails.
        waiting = queryset.filter(status=Delivery.Status.DELIVERED)
        if waiting.count() != 1:
            self.message_user(
                request,
                _("Choose exactly one delivery awaiting verification: each proof is checked "
                  "on its own page."),
                messages.WARNING,
            )  # fmt: skip
            return None
        return redirect("deliveries:verify", slug=waiting.get().slug)


@admin.register(ProofOfDelivery)
class ProofAdmin(DeliveryScopedAdmin):
    delivery_path = "delivery"
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
