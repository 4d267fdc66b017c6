"""The coordinators' admin: each sees and changes only their own hubs' rows."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from modeltranslation.admin import TranslationAdmin

from . import services
from .forms import MembershipInviteForm
from .models import (
    Category,
    Hub,
    Item,
    Membership,
    Place,
    Region,
    StockLevel,
    StockMovement,
    SupplyRequest,
    SupplyRequestLine,
)
from .queries import coordinated_hubs, hub_people, is_coordinator


class HubScopedAdmin(admin.ModelAdmin):
    """Rows reachable through `hub_path` from the user's coordinated hubs; superusers see all.

    Rows outside a coordinator's hubs are not in the queryset, so the admin cannot show or
    change them even by a typed URL."""

    hub_path = "hub"

    def get_queryset(self, request):
        rows = super().get_queryset(request)
        if request.user.is_superuser:
            return rows
        return rows.filter(**{f"{self.hub_path}__in": coordinated_hubs(request.user)})

    def has_module_permission(self, request):
        return request.user.is_superuser or is_coordinator(request.user)

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request) and (obj is None or self._owns(request, obj))

    def has_change_permission(self, request, obj=None):
        return self.has_view_permission(request, obj)

    def has_add_permission(self, request):
        return self.has_module_permission(request)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def _owns(self, request, obj) -> bool:
        return request.user.is_superuser or self.get_queryset(request).filter(pk=obj.pk).exists()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Hub and not request.user.is_superuser:
            kwargs["queryset"] = coordinated_hubs(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class HubPeopleFilter(admin.RelatedFieldListFilter):
    """A filter by person that lists only the members of the coordinator's own hubs, never
    every account on the site (a superuser sees all)."""

    def field_choices(self, field, request, model_admin):
        ordering = self.field_admin_ordering(field, request, model_admin) or ["username"]
        return field.get_choices(
            include_blank=False,
            ordering=ordering,
            limit_choices_to={"pk__in": hub_people(request.user).values("pk")},
        )


class CatalogueAdmin(admin.ModelAdmin):
    """Places and items are shared by all hubs: coordinators read them, superusers edit."""

    def has_module_permission(self, request):
        return request.user.is_superuser or is_coordinator(request.user)

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)


@admin.register(Region)
class RegionAdmin(CatalogueAdmin):
    list_display = ["name", "slug", "country"]
    search_fields = ["name"]


# Translated names (hubs/translation.py): one plain field per language, English required; an
# empty translation shows the English name.
NAME_FIELDS = ["name_en", "name_ru", "name_ky", "name_kk", "name_uz", "name_tg"]


@admin.register(Place)
class PlaceAdmin(TranslationAdmin, CatalogueAdmin):
    list_display = [
        "name",
        "kind",
        "region",
        "district",
        "population_displaced",
        "last_delivery_at",
    ]
    list_filter = ["region", "kind"]
    search_fields = [*NAME_FIELDS, "district", "slug"]
    list_select_related = ["region"]
    list_per_page = 100

    def has_change_permission(self, request, obj=None):
        # Any coordinator may correct a place's details (population, coordinates).
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return self.has_module_permission(request)


@admin.register(Item)
class ItemAdmin(TranslationAdmin, CatalogueAdmin):
    list_display = ["name_en", "name_ru", "name_ky", "category", "unit", "slug"]
    list_filter = ["category", "unit"]
    search_fields = [*NAME_FIELDS, "slug"]


class StockLevelInline(admin.TabularInline):
    model = StockLevel
    fields = ["item", "quantity"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = _("stock now")

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).filter(quantity__gt=0).select_related("item")


class StockMovementInline(admin.TabularInline):
    model = StockMovement
    fields = ["created_at", "kind", "item", "quantity", "reason", "reference", "ledger_link"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    max_num = 0
    verbose_name_plural = _("stock movements (newest first)")

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("item")

    @admin.display(description=_("ledger"))
    def ledger_link(self, movement):
        if movement.ledger_index is None:
            return "—"
        url = reverse("ledger:entry", args=[movement.ledger_index])
        return format_html('<a href="{}">#{}</a>', url, movement.ledger_index)


class HubForm(forms.ModelForm):
    accepts = forms.MultipleChoiceField(
        label=_("accepts now"),
        choices=Category.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Hub
        fields = [
            "slug",
            "name",
            "group",
            "kind",
            "region",
            "address",
            "latitude",
            "longitude",
            "opening_hours",
            "public_contact",
            "accepts",
            "surplus_items",
            "is_active",
        ]


@admin.register(Hub)
class HubAdmin(TranslationAdmin, HubScopedAdmin):
    hub_path = "pk"
    form = HubForm
    list_display = ["name", "group", "kind", "region", "opening_hours", "is_active", "manage_link"]
    list_filter = ["kind", "is_active", "region"]
    list_select_related = ["group", "region"]
    search_fields = [*NAME_FIELDS, "address_en", "address_ru"]
    filter_horizontal = ["surplus_items"]
    inlines = [StockLevelInline, StockMovementInline]
    prepopulated_fields = {"slug": ["name"]}
    actions = ["transfer_stock"]

    @admin.action(description=_("Transfer stock from the selected hub"))
    def transfer_stock(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(
                request, _("Choose exactly one hub to transfer from."), messages.WARNING
            )
            return None
        # The transfer form lives on the hub's page, with its item lines and stock checks.
        return redirect("hubs:transfer", slug=queryset.get().slug)

    def get_queryset(self, request):
        rows = admin.ModelAdmin.get_queryset(self, request)
        return (
            rows
            if request.user.is_superuser
            else rows.filter(pk__in=coordinated_hubs(request.user))
        )

    def has_add_permission(self, request):
        return request.user.is_superuser

    def get_readonly_fields(self, request, obj=None):
        return [] if request.user.is_superuser else ["slug", "group", "kind", "region"]

    def get_prepopulated_fields(self, request, obj=None):
        return self.prepopulated_fields if request.user.is_superuser else {}

    @admin.display(description=_("stock and requests"))
    def manage_link(self, hub):
        return format_html(
            '<a href="{}">{}</a>', reverse("hubs:manage", args=[hub.slug]), _("manage")
        )


class VolunteerMembershipForm(forms.ModelForm):
    """A coordinator's membership form: volunteers only. Making someone a coordinator (or
    undoing it) takes a superuser until groups and their own roles arrive (a later issue)."""

    class Meta:
        model = Membership
        fields = ["hub", "role"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        volunteer = Membership.Role.VOLUNTEER
        self.fields["role"].choices = [(volunteer.value, volunteer.label)]
        self.fields["role"].initial = volunteer.value


@admin.register(Membership)
class MembershipAdmin(HubScopedAdmin):
    list_display = ["user", "hub", "role"]
    list_filter = ["role", "hub"]
    search_fields = ["user__username", "user__first_name", "hub__name"]
    list_select_related = ["user", "hub"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if not request.user.is_superuser:
            kwargs["form"] = VolunteerMembershipForm
        return super().get_form(request, obj, change=change, **kwargs)

    def add_view(self, request, form_url="", extra_context=None):
        """A coordinator does not add a member: they invite one, who joins by accepting. The
        answer is the same whether or not an account has the name they typed."""
        if request.user.is_superuser:
            return super().add_view(request, form_url, extra_context)
        if not self.has_add_permission(request):
            raise PermissionDenied
        hubs = coordinated_hubs(request.user)
        form = MembershipInviteForm(request.POST or None, hubs=hubs)
        if request.method == "POST" and form.is_valid():
            services.membership_invite(
                hub=form.cleaned_data["hub"], person=form.cleaned_data["person"], by=request.user
            )
            self.message_user(
                request,
                _(
                    "If an account has this username or e-mail and is not yet a volunteer of "
                    "%(hub)s, an invitation is on its way to its e-mail address. They join "
                    "once they accept it."
                )
                % {"hub": form.cleaned_data["hub"].name},
            )
            return redirect("admin:hubs_membership_changelist")
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "opts": self.model._meta,
            "title": _("Invite a volunteer"),
        }
        return render(request, "admin/hubs/membership_invite.html", context)

    def get_readonly_fields(self, request, obj=None):
        return [] if request.user.is_superuser or obj is None else ["user"]

    def has_change_permission(self, request, obj=None):
        # A coordinator's membership is granted and withdrawn by a superuser only.
        coordinator_row = obj is not None and obj.role == Membership.Role.COORDINATOR
        return super().has_change_permission(request, obj) and (
            request.user.is_superuser or not coordinator_row
        )

    def has_delete_permission(self, request, obj=None):
        return self.has_change_permission(request, obj)


class SupplyRequestLineInline(admin.TabularInline):
    model = SupplyRequestLine
    fields = ["item", "quantity", "delivered"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class CancelReasonForm(forms.Form):
    reason = forms.CharField(label=_("Why are they cancelled?"), max_length=200)


@admin.register(SupplyRequest)
class SupplyRequestAdmin(HubScopedAdmin):
    list_display = ["id", "place", "hub", "urgency", "status", "needed_by", "created_at"]
    list_filter = ["status", "urgency", "hub", "place__region"]
    search_fields = ["place__name", "note"]
    list_select_related = ["place", "hub"]
    date_hierarchy = "created_at"
    inlines = [SupplyRequestLineInline]
    fields = [
        "place",
        "hub",
        "urgency",
        "needed_by",
        "note",
        "requester_contact",
        "status",
        "cancel_reason",
        "created_by",
        "created_at",
    ]
    readonly_fields = ["place", "hub", "status", "cancel_reason", "created_by", "created_at"]
    actions = ["cancel_requests"]

    def has_add_permission(self, request):
        # Requests are filed from a hub's page, where the duplicate guard and item lines live.
        return False

    @admin.action(description=_("Cancel the selected requests"))
    def cancel_requests(self, request, queryset):
        form = CancelReasonForm(request.POST if "reason" in request.POST else None)
        if form.is_valid():
            cancelled = 0
            for supply_request in queryset:
                try:
                    cancelled += services.request_cancel(
                        request=supply_request,
                        reason=form.cleaned_data["reason"],
                        by=request.user,
                    )
                except ValidationError as exc:
                    self.message_user(request, " ".join(exc.messages), messages.ERROR)
            self.message_user(
                request,
                ngettext("%(n)s request cancelled.", "%(n)s requests cancelled.", cancelled)
                % {"n": cancelled},
            )
            return None
        return render(
            request,
            "admin/hubs/cancel_requests.html",
            {
                **self.admin_site.each_context(request),
                "form": form,
                "requests": queryset,
                "opts": self.model._meta,
                "action": "cancel_requests",
            },
        )


@admin.register(StockMovement)
class StockMovementAdmin(HubScopedAdmin):
    list_display = ["created_at", "hub", "kind", "item", "quantity", "reason", "ledger_index"]
    list_filter = ["kind", "hub", "item__category"]
    search_fields = ["item__name", "reason", "reference"]
    list_select_related = ["hub", "item"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False  # stock moves only through the services, with their ledger entries

    def has_change_permission(self, request, obj=None):
        return False
