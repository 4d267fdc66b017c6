from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from . import audit
from .models import AuditEvent
from .security import two_factor_setup_link

User = get_user_model()


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Superusers only, read-only: the trail must not be edited by the people it records."""

    list_display = ["created_at", "actor", "action", "target"]
    list_filter = ["action"]
    search_fields = ["target", "actor__username"]
    date_hierarchy = "created_at"

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


admin.site.unregister(User)


@admin.register(User)
class AidHubUserAdmin(UserAdmin):
    actions = ["issue_two_factor_setup_link"]

    def has_issue_two_factor_setup_link_permission(self, request) -> bool:
        return request.user.is_superuser

    @admin.action(
        description=_("Issue a two-step sign-in setup link"),
        permissions=["issue_two_factor_setup_link"],
    )
    def issue_two_factor_setup_link(self, request, queryset):
        """For someone without the e-mail route: the link is shown here once and kept nowhere;
        pass it on by a channel other than the one their password travelled by."""
        if queryset.count() != 1:
            self.message_user(request, _("Choose exactly one person."), messages.ERROR)
            return None
        user = queryset.get()
        audit.record(actor=request.user, action="two_factor_link_issued", target=user)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "person": user,
            "link": two_factor_setup_link(user),
            "hours": settings.TWO_FACTOR_SETUP_HOURS,
        }
        # Admin pages are sent with Cache-Control: no-store: the link stays out of caches.
        return render(request, "admin/aidhub/two_factor_link.html", context)
