from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import services
from .models import Notification, Subscription


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ["__str__", "channel", "language", "confirmed_at", "created_at"]
    list_filter = ["channel", "scope", "language"]
    search_fields = ["ref"]
    readonly_fields = ["token"]
    exclude = ["secret"]  # a webhook's HMAC key is shown once, to its subscriber, nowhere else


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """Failures are visible here, with the reason, and can be tried again."""

    list_display = ["created_at", "event", "kind", "channel", "status", "attempts", "last_error"]
    list_filter = ["status", "channel", "kind"]
    search_fields = ["event"]
    readonly_fields = [f.name for f in Notification._meta.fields]
    actions = ["retry"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Try the selected notifications again"))
    def retry(self, request, queryset):
        ids = list(queryset.filter(status=Notification.Status.FAILED).values_list("pk", flat=True))
        Notification.objects.filter(pk__in=ids).update(
            status=Notification.Status.PENDING, attempts=0, next_attempt_at=None
        )
        services.enqueue(ids)
        self.message_user(
            request,
            ngettext(
                "%(n)s notification queued again.", "%(n)s notifications queued again.", len(ids)
            )
            % {"n": len(ids)},
        )
