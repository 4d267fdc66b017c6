from django.contrib import admin

from .models import Donation, ExchangeRate, Expense, ExpenseLine, Fundraiser, GiftInKind
from .queries import is_organiser


class OrganiserScopedAdmin(admin.ModelAdmin):
    """Organisers see their own fundraisers' rows; money rows are written by the services only
    (with their ledger entries), so the admin shows them read-only."""

    fundraiser_path = "fundraiser__organiser"

    def get_queryset(self, request):
        rows = super().get_queryset(request)
        return (
            rows
            if request.user.is_superuser
            else rows.filter(**{self.fundraiser_path: request.user})
        )

    def has_module_permission(self, request):
        # Also asked on the admin's sign-in page, of the signed-out visitor.
        return request.user.is_superuser or is_organiser(request.user)

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Fundraiser)
class FundraiserAdmin(OrganiserScopedAdmin):
    fundraiser_path = "organiser"
    list_display = ["title", "organiser", "goal_amount", "currency", "status", "starts_on"]
    list_filter = ["status", "currency"]
    search_fields = ["title", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    filter_horizontal = ["places", "hubs"]

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return self.has_module_permission(request) and (
            obj is None or request.user.is_superuser or obj.organiser_id == request.user.pk
        )

    def get_readonly_fields(self, request, obj=None):
        # The currency and goal underpin every converted amount once money has come in.
        return [] if obj is None else ["slug", "currency", "organiser"]

    def get_prepopulated_fields(self, request, obj=None):
        # The slug is filled from the title only while it can still be typed: once read-only,
        # the form has no slug field for the admin to fill.
        return self.prepopulated_fields if obj is None else {}


@admin.register(Donation)
class DonationAdmin(OrganiserScopedAdmin):
    list_display = ["received_at", "fundraiser", "amount", "currency", "converted_amount",
                    "channel", "public_name", "ledger_index", "corrected_by_index"]  # fmt: skip
    list_filter = ["channel", "currency", "fundraiser"]
    search_fields = ["public_name", "receipt_code", "bank_reference"]
    date_hierarchy = "received_at"
    list_select_related = ["fundraiser"]


class ExpenseLineInline(admin.TabularInline):
    model = ExpenseLine
    extra = 0
    can_delete = False


@admin.register(Expense)
class ExpenseAdmin(OrganiserScopedAdmin):
    list_display = ["paid_at", "fundraiser", "vendor", "amount", "currency", "converted_amount",
                    "hub", "ledger_index", "corrected_by_index"]  # fmt: skip
    list_filter = ["currency", "fundraiser", "hub"]
    search_fields = ["vendor"]
    inlines = [ExpenseLineInline]
    list_select_related = ["fundraiser", "hub"]


@admin.register(GiftInKind)
class GiftInKindAdmin(admin.ModelAdmin):
    list_display = ["created_at", "hub", "public_name", "ledger_index"]
    list_filter = ["hub"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ExchangeRate)
class ExchangeRateAdmin(admin.ModelAdmin):
    list_display = ["date", "base", "quote", "rate", "source"]
    list_filter = ["source", "base", "quote"]
    date_hierarchy = "date"
