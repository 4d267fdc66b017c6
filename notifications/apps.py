from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        user_logged_in.connect(_remember_language, dispatch_uid="notifications-user-language")


def _remember_language(sender, request, user, **kwargs) -> None:
    """The language the sign-in page was in is the one the person reads (LocaleMiddleware has
    chosen it from their cookie or browser)."""
    from django.utils.translation import get_language

    from . import services

    services.user_language_remember(user=user, language=get_language() or "")
