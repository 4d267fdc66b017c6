from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import services
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

    def has_privacy_permission(self, request):
        # Erasing private data is the one write the organiser makes here; each service checks
        # the row's fundraiser again.
        return self.has_module_permission(request)

    def _apply(self, request, queryset, service) -> int:
        """Run `service` on each selected row; how many it changed. A refusal is shown."""
        done = 0
        for row in queryset.select_related("fundraiser"):
            try:
                done += service(row, by=request.user)
            except ValidationError as exc:
                self.message_user(request, " ".join(exc.messages), messages.ERROR)
        return done


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
                    "channel", "public_name", "ledger_index", "corrected_by_index",
                    "contact_kept"]  # fmt: skip
    list_filter = ["channel", "currency", "fundraiser"]
    search_fields = ["public_name", "receipt_code", "bank_reference"]
    date_hierarchy = "received_at"
    list_select_related = ["fundraiser"]
    actions = ["erase_donor_contact"]

    @admin.display(description=_("contact kept"), boolean=True)
    def contact_kept(self, donation):
        return bool(donation.donor_contact)

    @admin.action(description=_("Erase donor contact"), permissions=["privacy"])
    def erase_donor_contact(self, request, queryset):
        erase = services.donor_contact_erase
        n = self._apply(request, queryset, lambda row, by: erase(donation=row, by=by))
        message = ngettext(
            "Erased the donor's contact of %(n)s donation.",
            "Erased the donor's contact of %(n)s donations.",
            n,
        )
        self.message_user(request, message % {"n": n}, messages.SUCCESS)


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
    actions = ["delete_receipt_original"]

    @admin.action(description=_("Delete the stored original receipt PDF"), permissions=["privacy"])
    def delete_receipt_original(self, request, queryset):
        delete = services.expense_receipt_original_delete
        n = self._apply(request, queryset, lambda row, by: delete(expense=row, by=by))
        message = ngettext(
            "Deleted the original receipt PDF of %(n)s expense; the published image of its "
            "pages stays.",
            "Deleted the original receipt PDFs of %(n)s expenses; the published images of "
            "their pages stay.",
            n,
        )
        self.message_user(request, message % {"n": n}, messages.SUCCESS)


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
