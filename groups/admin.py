"""Groups in the admin. Superusers create groups with their first organiser and see every
account; a group's active organisers see only their own groups and manage their members
(invite, change a role, mark unreachable, remove), never seeing an account outside them."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.admin.options import ActionLocation
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group as AuthGroup
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from modeltranslation.admin import TranslationAdmin

from . import queries, services
from .models import Group, Member, OrganiserChange, Role

# AidHub gives no rights through Django's own permission groups: its roles are these groups'.
# Two "Groups" side by side in the admin would only confuse.
admin.site.unregister(AuthGroup)


class GroupAddForm(forms.ModelForm):
    """The add form, which only superusers open: they may see every account."""

    first_organiser = forms.ModelChoiceField(
        label=_("First organiser"),
        queryset=get_user_model().objects.filter(is_active=True).order_by("username"),
        help_text=_("An existing account. The organisers then invite the rest of the group."),
    )

    class Meta:
        model = Group
        exclude = []  # noqa: DJ006 - GroupAdmin picks the fields, one per language included


@admin.register(Group)
class GroupAdmin(TranslationAdmin):
    list_display = ["name", "slug", "country", "is_active", "created_at"]
    list_filter = ["country", "is_active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request):
        rows = super().get_queryset(request)
        if request.user.is_superuser:
            return rows
        return rows.filter(pk__in=queries.managed_groups(request.user))

    def has_module_permission(self, request):
        return request.user.is_superuser or queries.managed_groups(request.user).exists()

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request) and (
            obj is None or queries.may_manage_members(request.user, obj)
        )

    has_change_permission = has_view_permission

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = GroupAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        # Its public id and country are set by a superuser; its organisers word the rest.
        return [] if request.user.is_superuser else ["slug", "country", "is_active"]

    def get_prepopulated_fields(self, request, obj=None):
        return self.prepopulated_fields if request.user.is_superuser else {}

    def save_model(self, request, obj, form, change):
        if change:
            services.group_change(group=obj, by=request.user, changed=form.changed_data)
            return
        created = services.group_create(
            name=obj.name, slug=obj.slug, country=obj.country, description=obj.description,
            first_organiser=form.cleaned_data["first_organiser"], by=request.user,
        )  # fmt: skip
        # The translations typed in the form (name_ru, …) go on the row the service made.
        obj.pk, obj.created_at = created.pk, created.created_at
        obj.save()


class GroupChoiceFilter(admin.RelatedFieldListFilter):
    """A filter by group that lists only the groups the user manages."""

    def field_choices(self, field, request, model_admin):
        groups = queries.managed_groups(request.user)
        return field.get_choices(include_blank=False, limit_choices_to={"pk__in": groups})


class MemberInviteForm(forms.Form):
    person = forms.CharField(
        label=_("Username or e-mail"),
        max_length=254,
        help_text=_(
            "Exactly as the person gave it to you. They get an e-mail and join once they accept."
        ),
    )
    group = forms.ModelChoiceField(label=_("Group"), queryset=Group.objects.none())
    role = forms.ChoiceField(
        label=_("Role"), choices=[(role.value, role.label) for role in services.INVITABLE_ROLES]
    )

    def __init__(self, *args, groups, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = groups


class MemberForm(forms.ModelForm):
    """Checks the change with the service's rules, so a refusal is shown on the form and
    nothing is written."""

    by = None  # the signed-in user, set by MemberAdmin.get_form

    class Meta:
        model = Member
        fields = ["group", "user", "role", "unreachable"]

    def clean(self):
        data = super().clean()
        if self.instance.pk and "role" in data:
            try:
                services.member_change_check(member=self.instance, role=data["role"], by=self.by)
            except ValidationError as exc:
                self.add_error("role", exc)
        return data


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    form = MemberForm
    list_display = ["user", "group", "role", "unreachable", "added_at"]
    list_select_related = ["user", "group"]
    search_fields = ["user__username", "user__first_name", "group__name"]
    actions = ["mark_unreachable", "mark_reachable", "remove_members"]

    def get_list_filter(self, request):
        return ["role", "unreachable", ("group", GroupChoiceFilter)]

    def get_queryset(self, request):
        rows = super().get_queryset(request)
        if request.user.is_superuser:
            return rows
        return rows.filter(group__in=queries.managed_groups(request.user))

    def has_module_permission(self, request):
        return request.user.is_superuser or queries.managed_groups(request.user).exists()

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request) and (
            obj is None or queries.may_manage_members(request.user, obj.group)
        )

    def has_change_permission(self, request, obj=None):
        # An organiser's row is changed through an OrganiserChange a second organiser approves
        # (or by a superuser); any organiser marks it unreachable with the list's action.
        organiser_row = obj is not None and obj.role == Role.ORGANISER
        return self.has_view_permission(request, obj) and (
            request.user.is_superuser or not organiser_row
        )

    def has_add_permission(self, request):
        return self.has_module_permission(request)

    def has_delete_permission(self, request, obj=None):
        return self.has_change_permission(request, obj)

    def get_actions(self, request, action_location=ActionLocation.CHANGE_LIST):
        actions = super().get_actions(request, action_location=action_location)
        actions.pop("delete_selected", None)  # removal goes through the service, row by row
        return actions

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"by": request.user})

    def get_readonly_fields(self, request, obj=None):
        return ["group", "user", "added_by", "added_at"] if obj else []

    def get_fields(self, request, obj=None):
        return ["group", "user", "role", "unreachable", *(["added_by", "added_at"] if obj else [])]

    def add_view(self, request, form_url="", extra_context=None):
        """A superuser adds an existing account to a group; an organiser invites one, who joins
        by accepting. The answer is the same whether or not an account has the name typed."""
        if request.user.is_superuser:
            return super().add_view(request, form_url, extra_context)
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = MemberInviteForm(request.POST or None, groups=queries.managed_groups(request.user))
        if request.method == "POST" and form.is_valid():
            try:
                services.member_invite(
                    group=form.cleaned_data["group"], person=form.cleaned_data["person"],
                    role=form.cleaned_data["role"], by=request.user,
                )  # fmt: skip
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                self.message_user(
                    request,
                    _(
                        "If an account has this username or e-mail and is not yet %(role)s of "
                        "%(group)s, an invitation is on its way to its e-mail address. They "
                        "join once they accept it."
                    )
                    % {
                        "role": Role(form.cleaned_data["role"]).label,
                        "group": form.cleaned_data["group"].name,
                    },
                )
                return redirect("admin:groups_member_changelist")
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "opts": self.model._meta,
            "title": _("Invite a member"),
        }
        return render(request, "admin/groups/member_invite.html", context)

    def save_model(self, request, obj, form, change):
        if not change:
            created = services.member_add(
                group=obj.group, user=obj.user, role=obj.role, by=request.user
            )
            if obj.unreachable:
                services.member_set_unreachable(member=created, unreachable=True, by=request.user)
            obj.pk = created.pk
            return
        stored = Member.objects.get(pk=obj.pk)
        services.member_change_role(member=stored, role=obj.role, by=request.user)
        services.member_set_unreachable(member=stored, unreachable=obj.unreachable, by=request.user)

    def delete_view(self, request, object_id, extra_context=None):
        member = self.get_object(request, object_id)
        allowed = member is not None and self.has_delete_permission(request, member)
        if allowed and request.method == "POST":
            try:
                services.member_remove_check(member=member, by=request.user)
            except ValidationError as exc:
                self.message_user(request, " ".join(exc.messages), messages.ERROR)
                return redirect("admin:groups_member_change", member.pk)
        return super().delete_view(request, object_id, extra_context)

    def delete_model(self, request, obj):
        services.member_remove(member=obj, by=request.user)

    def _each(self, request, queryset, change) -> int:
        done = 0
        for member in queryset.select_related("group", "user"):
            try:
                change(member)
            except ValidationError as exc:
                self.message_user(request, " ".join(exc.messages), messages.ERROR)
            else:
                done += 1
        return done

    @admin.action(description=_("Mark the selected members unreachable"))
    def mark_unreachable(self, request, queryset):
        n = self._each(
            request, queryset,
            lambda m: services.member_set_unreachable(member=m, unreachable=True, by=request.user),
        )  # fmt: skip
        message = ngettext(
            "%(n)s member marked unreachable.", "%(n)s members marked unreachable.", n
        )
        self.message_user(request, message % {"n": n}, messages.SUCCESS)

    @admin.action(description=_("Mark the selected members reachable again"))
    def mark_reachable(self, request, queryset):
        n = self._each(
            request, queryset,
            lambda m: services.member_set_unreachable(member=m, unreachable=False, by=request.user),
        )  # fmt: skip
        message = ngettext(
            "%(n)s member marked reachable again.", "%(n)s members marked reachable again.", n
        )
        self.message_user(request, message % {"n": n}, messages.SUCCESS)

    @admin.action(description=_("Remove the selected members from their group"))
    def remove_members(self, request, queryset):
        n = self._each(
            request, queryset, lambda m: services.member_remove(member=m, by=request.user)
        )
        message = ngettext("%(n)s member removed.", "%(n)s members removed.", n)
        self.message_user(request, message % {"n": n}, messages.SUCCESS)


class OrganiserChangeForm(forms.ModelForm):
    """A proposal: the group and the account are chosen among the proposer's own groups and
    their members, never the site's accounts; the service's checks are shown on the form."""

    by = None  # the signed-in user, set by OrganiserChangeAdmin.get_form

    class Meta:
        model = OrganiserChange
        fields = ["group", "user", "change", "new_role"]

    new_role = forms.ChoiceField(
        label=_("Role instead"),
        required=False,
        choices=[("", "—"), *[(role.value, role.label) for role in services.DEMOTION_ROLES]],
        help_text=_("Only when giving an organiser another role."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        groups = queries.groups_held(self.by, (Role.ORGANISER,))
        self.fields["group"].queryset = groups
        people = Member.objects.filter(group__in=groups).values("user_id")
        self.fields["user"].queryset = get_user_model().objects.filter(pk__in=people)

    def clean(self):
        data = super().clean()
        if {"group", "user", "change"} <= data.keys():
            try:
                services.organiser_change_check(
                    group=data["group"], user=data["user"], change=data["change"],
                    new_role=data.get("new_role", ""),
                )  # fmt: skip
            except ValidationError as exc:
                self.add_error(None, exc)
        return data


class OrganiserDecisionForm(ActionForm):
    reason = forms.CharField(
        label=_("Why reject it?"), max_length=300, required=False,
        help_text=_("Needed to reject; seen by the group's organisers."),
    )  # fmt: skip


@admin.register(OrganiserChange)
class OrganiserChangeAdmin(admin.ModelAdmin):
    """Changes to a group's organisers: one organiser proposes (Add), a second approves or
    either rejects (actions), through groups.services like every other member change."""

    form = OrganiserChangeForm
    action_form = OrganiserDecisionForm
    actions = ["approve", "reject"]
    list_display = ["proposed_at", "group", "change", "user", "new_role", "status",
                    "proposed_by", "decided_by"]  # fmt: skip
    list_select_related = ["group", "user", "proposed_by", "decided_by"]
    list_filter = ["status", "change", ("group", GroupChoiceFilter)]

    def get_queryset(self, request):
        rows = super().get_queryset(request)
        if request.user.is_superuser:
            return rows
        return rows.filter(group__in=queries.managed_groups(request.user))

    def has_module_permission(self, request):
        return request.user.is_superuser or queries.managed_groups(request.user).exists()

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request) and (
            obj is None or queries.may_manage_members(request.user, obj.group)
        )

    def has_add_permission(self, request):
        # Proposed by an organiser who is a member; a superuser changes Members directly.
        return queries.groups_held(request.user, (Role.ORGANISER,)).exists()

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_decide_permission(self, request):
        return self.has_add_permission(request)

    def get_actions(self, request, action_location=ActionLocation.CHANGE_LIST):
        actions = super().get_actions(request, action_location=action_location)
        actions.pop("delete_selected", None)
        return actions

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"by": request.user})

    def save_model(self, request, obj, form, change):
        try:
            made = services.organiser_propose(
                group=obj.group, user=obj.user, change=obj.change, by=request.user,
                new_role=obj.new_role or "",
            )  # fmt: skip
        except ValidationError as exc:
            # Refused since the form was checked (another organiser acted meanwhile).
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
            return
        obj.pk = made.pk
        if made.is_pending:
            self.message_user(
                request, _("Proposed: it is made when a second organiser approves it.")
            )

    def _decide_all(self, request, queryset, decide) -> None:
        done = 0
        for proposal in queryset.select_related("group", "user"):
            try:
                decide(proposal)
            except ValidationError as exc:
                self.message_user(request, f"{proposal}: {' '.join(exc.messages)}", messages.ERROR)
            else:
                done += 1
        if done:
            message = ngettext("%(n)s decided.", "%(n)s decided.", done) % {"n": done}
            self.message_user(request, message, messages.SUCCESS)

    @admin.action(description=_("Approve (as the second organiser)"), permissions=["decide"])
    def approve(self, request, queryset):
        self._decide_all(
            request, queryset, lambda p: services.organiser_approve(proposal=p, by=request.user)
        )

    @admin.action(description=_("Reject (say why below)"), permissions=["decide"])
    def reject(self, request, queryset):
        reason = request.POST.get("reason", "")
        self._decide_all(
            request, queryset,
            lambda p: services.organiser_reject(proposal=p, by=request.user, reason=reason),
        )  # fmt: skip
