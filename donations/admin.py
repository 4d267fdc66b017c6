from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from modeltranslation.admin import TranslationAdmin

from aidhub.uploads import clean_image
from groups.models import Member
from groups.queries import MONEY_ROLES, groups_where
from hubs.models import Hub

from . import services
from .forms import PAYMENT_METHOD_NOTICE, PAYMENT_METHOD_QR_HELP, WAITS_FOR_SECOND
from .models import (
    Donation,
    ExchangeRate,
    Expense,
    ExpenseLine,
    ExpenseProposal,
    Fundraiser,
    FundraiserHandover,
    GiftInKind,
    PaymentMethod,
    PaymentMethodProposal,
    Proposal,
)
from .queries import is_organiser, may_organise, organised_fundraisers


class OrganiserScopedAdmin(admin.ModelAdmin):
    """Organisers see their own fundraisers' rows; money rows are written by the services only
    (with their ledger entries), so the admin shows them read-only."""

    fundraiser_path = "fundraiser"

    def get_queryset(self, request):
        rows = super().get_queryset(request)
        return (
            rows
            if request.user.is_superuser
            else rows.filter(**{f"{self.fundraiser_path}__in": organised_fundraisers(request.user)})
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


# Title, story and how to donate are translated (donations/translation.py): one plain field per
# language, English required; an empty translation shows the English text.
TITLE_FIELDS = ["title_en", "title_ru", "title_ky", "title_kk", "title_uz", "title_tg"]


@admin.register(Fundraiser)
class FundraiserAdmin(TranslationAdmin, OrganiserScopedAdmin):
    fundraiser_path = "pk"
    list_display = ["title", "group", "goal_amount", "currency", "status", "starts_on"]
    list_filter = ["status", "currency"]
    list_select_related = ["group"]
    search_fields = [*TITLE_FIELDS, "slug"]
    prepopulated_fields = {"slug": ["title"]}
    filter_horizontal = ["places", "hubs"]

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return self.has_module_permission(request) and (
            obj is None or may_organise(request.user, obj)
        )

    def get_readonly_fields(self, request, obj=None):
        # The currency and goal underpin every converted amount once money has come in.
        # The group is chosen by a superuser; an organiser's fundraiser stays in their group.
        fixed = [] if obj is None else ["slug", "currency", "organiser"]
        return fixed if request.user.is_superuser else [*fixed, "group"]

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        # An organiser links only their group's hubs (and keeps the links a superuser made):
        # a hub of another group takes goods only with its consent (a later step).
        if db_field.name == "hubs" and not request.user.is_superuser:
            allowed = Q(group__in=groups_where(request.user, MONEY_ROLES))
            if obj_id := request.resolver_match.kwargs.get("object_id"):
                allowed |= Q(fundraiser__pk=obj_id)
            kwargs["queryset"] = Hub.objects.filter(allowed).distinct()
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_prepopulated_fields(self, request, obj=None):
        # The slug is filled from the title only while it can still be typed: once read-only,
        # the form has no slug field for the admin to fill.
        return self.prepopulated_fields if obj is None else {}


PAYMENT_METHOD_COLUMNS = ["fundraiser", *services.PAYMENT_FIELDS]


class PaymentMethodAdminForm(forms.ModelForm):
    qr = forms.FileField(
        label=_("QR code (optional)"), required=False, help_text=PAYMENT_METHOD_QR_HELP
    )
    qr_remove = forms.BooleanField(label=_("Remove the QR code"), required=False)

    class Meta:
        model = PaymentMethod
        fields = PAYMENT_METHOD_COLUMNS

    def clean_qr(self):
        upload = self.cleaned_data.get("qr")
        return clean_image(upload) if upload else None

    def clean(self):
        data = super().clean()
        fields = {name: data[name] for name in PAYMENT_METHOD_COLUMNS if name in data}
        if "fundraiser" not in fields and self.instance.fundraiser_id:  # read-only once saved
            fields["fundraiser"] = self.instance.fundraiser
        if len(fields) == len(PAYMENT_METHOD_COLUMNS):  # each field valid so far
            method = PaymentMethod(pk=self.instance.pk, **fields)
            services.payment_method_check(method)  # normalises the details it checks
            qr, kept = data.get("qr"), self.instance.qr_sha256
            details_changed = (method.kind, method.details) != (
                self.instance.kind,
                self.instance.details,
            )
            keep = kept if kept and details_changed and not data.get("qr_remove") else ""
            services.payment_qr_check(
                kind=method.kind, details=method.details, qr=qr, kept_sha256=keep
            )
        return data


@admin.register(PaymentMethod)
class PaymentMethodAdmin(OrganiserScopedAdmin):
    """Ways to pay, written through the services so every change is a ledger entry."""

    form = PaymentMethodAdminForm
    fieldsets = [
        (None, {"description": PAYMENT_METHOD_NOTICE,
                "fields": [*PAYMENT_METHOD_COLUMNS, "qr", "qr_remove"]}),
    ]  # fmt: skip
    list_display = ["fundraiser", "label", "kind", "details", "currency", "order", "active"]
    list_filter = ["kind", "currency", "active"]
    list_select_related = ["fundraiser"]

    def has_add_permission(self, request):
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None):
        return self.has_module_permission(request) and (
            obj is None or may_organise(request.user, obj.fundraiser)
        )

    has_delete_permission = has_change_permission

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["fundraiser"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "fundraiser" and not request.user.is_superuser:
            kwargs["queryset"] = organised_fundraisers(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        # A proposal, as on the site: the list changes once a second money person approves it.
        data = dict(form.cleaned_data)
        qr, qr_remove = data.pop("qr", None), data.pop("qr_remove", False)
        fundraiser = data.pop("fundraiser", None) or obj.fundraiser
        if change:
            request.payment_proposed = services.payment_method_change(
                method=obj, by=request.user, qr=qr, qr_remove=qr_remove, **data
            )
            obj.refresh_from_db()
        else:
            services.payment_method_add(fundraiser=fundraiser, by=request.user, qr=qr, **data)

    def log_addition(self, request, obj, message):
        if obj.pk is not None:  # an addition is only proposed: no row yet
            super().log_addition(request, obj, message)

    def _proposed(self, request):
        if getattr(request, "payment_proposed", True) is None:  # a change that changes nothing
            self.message_user(request, _("Nothing was changed."), messages.INFO)
            return redirect("admin:donations_paymentmethod_changelist")
        self.message_user(request, WAITS_FOR_SECOND, messages.SUCCESS)
        return redirect("admin:donations_paymentmethodproposal_changelist")

    def response_add(self, request, obj, post_url_continue=None):
        return self._proposed(request)

    def response_change(self, request, obj):
        return self._proposed(request)

    def response_delete(self, request, obj_display, obj_id):
        return self._proposed(request)

    def delete_model(self, request, obj):
        services.payment_method_remove(method=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for method in queryset.select_related("fundraiser"):
            services.payment_method_remove(method=method, by=request.user)


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


class DecisionActionForm(ActionForm):
    reason = forms.CharField(
        label=_("Why reject it?"), max_length=300, required=False,
        help_text=_("Needed to reject; seen by the group's organisers and treasurers only."),
    )  # fmt: skip


class ProposalAdmin(OrganiserScopedAdmin):
    """What waits for a second organiser or treasurer: read-only, with Approve and Reject
    actions that go through the same services as the site's buttons."""

    action_form = DecisionActionForm
    actions = ["approve", "reject"]
    list_select_related = ["fundraiser", "proposed_by"]
    list_filter = ["fundraiser"]
    decide: Callable
    refuse: Callable

    def get_queryset(self, request):
        return super().get_queryset(request).filter(status=Proposal.Status.PENDING)

    def has_decide_permission(self, request):
        return self.has_module_permission(request)

    def _decide_all(self, request, queryset, decide) -> None:
        done = 0
        for proposal in queryset.select_related("fundraiser__group"):
            try:
                decide(proposal)
            except ValidationError as exc:
                self.message_user(request, f"{proposal}: {' '.join(exc.messages)}", messages.ERROR)
            else:
                done += 1
        if done:
            message = ngettext("%(n)s decided.", "%(n)s decided.", done) % {"n": done}
            self.message_user(request, message, messages.SUCCESS)

    @admin.action(description=_("Approve (as the second person)"), permissions=["decide"])
    def approve(self, request, queryset):
        approve = type(self).decide
        self._decide_all(request, queryset, lambda p: approve(proposal=p, by=request.user))

    @admin.action(description=_("Reject (say why below)"), permissions=["decide"])
    def reject(self, request, queryset):
        reason, refuse = request.POST.get("reason", ""), type(self).refuse
        self._decide_all(
            request, queryset, lambda p: refuse(proposal=p, by=request.user, reason=reason)
        )


@admin.register(ExpenseProposal)
class ExpenseProposalAdmin(ProposalAdmin):
    decide = staticmethod(services.expense_approve)
    refuse = staticmethod(services.expense_reject)
    list_display = ["proposed_at", "fundraiser", "vendor", "amount", "currency", "hub",
                    "proposed_by", "receipt_link"]  # fmt: skip
    fields = ["fundraiser", "vendor", "amount", "currency", "paid_at", "manual_rate", "hub",
              "lines", "proposed_by", "proposed_at", "receipt_link"]  # fmt: skip
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).defer("receipt", "receipt_original")

    @admin.display(description=_("receipt"))
    def receipt_link(self, proposal):
        url = reverse("donations:pending_receipt", args=[proposal.fundraiser.slug, proposal.pk])
        return format_html('<a href="{}">{}</a>', url, _("See the receipt"))


@admin.register(PaymentMethodProposal)
class PaymentMethodProposalAdmin(ProposalAdmin):
    decide = staticmethod(services.payment_proposal_approve)
    refuse = staticmethod(services.payment_proposal_reject)
    list_display = ["proposed_at", "fundraiser", "action", "before", "after", "qr_remove",
                    "proposed_by"]  # fmt: skip
    fields = ["fundraiser", "action", "method", "before", "after", "qr_remove", "proposed_by",
              "proposed_at"]  # fmt: skip
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).defer("qr")


class HandoverForm(forms.ModelForm):
    """Propose a hand-over: the fundraiser among those the user acts for, the new holder among
    its group's members (never the site's accounts)."""

    by = None  # the signed-in user, set by FundraiserHandoverAdmin.get_form

    class Meta:
        model = FundraiserHandover
        fields = ["fundraiser", "to_user"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        fundraisers = organised_fundraisers(self.by)
        self.fields["fundraiser"].queryset = fundraisers
        people = Member.objects.filter(group__fundraisers__in=fundraisers).values("user_id")
        self.fields["to_user"].queryset = get_user_model().objects.filter(pk__in=people)

    def clean(self):
        # Proposed here, so that a refusal is shown on the form (the admin's add view runs
        # in one transaction with the save, which then only records the row's id).
        data = super().clean()
        if not self.errors:
            try:
                self.made = services.handover_propose(
                    fundraiser=data["fundraiser"], to_user=data["to_user"], by=self.by
                )
            except ValidationError as exc:
                self.add_error(None, exc)
        return data


@admin.register(FundraiserHandover)
class FundraiserHandoverAdmin(ProposalAdmin):
    """Hand-overs of fundraisers whose organiser is gone: proposed here, agreed or rejected with
    the actions; the new holder accepts on the site (donations:handover_answer)."""

    form = HandoverForm
    decide = staticmethod(lambda proposal, by: services.handover_approve(handover=proposal, by=by))
    refuse = staticmethod(
        lambda proposal, by, reason: services.handover_reject(handover=proposal, by=by,
                                                              reason=reason)
    )  # fmt: skip
    list_display = ["proposed_at", "fundraiser", "to_user", "proposed_by", "status", "answer"]

    def get_queryset(self, request):
        # Every state is listed: an approved one still waits for the new holder's answer.
        return super(ProposalAdmin, self).get_queryset(request)

    def has_add_permission(self, request):
        return self.has_module_permission(request)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"by": request.user})

    def save_model(self, request, obj, form, change):
        obj.pk, obj.proposed_at = form.made.pk, form.made.proposed_at

    def get_fields(self, request, obj=None):
        return ["fundraiser", "to_user"] if obj is None else [
            "fundraiser", "to_user", "proposed_by", "proposed_role", "status", "decided_by",
            "decided_role", "reason", "answer", "ledger_index",
        ]  # fmt: skip

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.get_fields(request, obj)


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
