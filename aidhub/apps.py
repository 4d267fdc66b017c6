from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AidHubConfig(AppConfig):
    name = "aidhub"
    verbose_name = _("AidHub")
