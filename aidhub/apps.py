from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AidHubConfig(AppConfig):
    name = "aidhub"
    verbose_name = _("AidHub")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from . import checks  # noqa: F401 - registers the system checks
        from .security import shorten_staff_session

        user_logged_in.connect(shorten_staff_session, dispatch_uid="aidhub.shorten_staff_session")
