from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GroupsConfig(AppConfig):
    name = "groups"
    verbose_name = _("Groups and their members")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from ledger import presentation

        from .models import Group

        # A fundraiser's cached page names its group: a renamed group is drawn again at once.
        for signal in (post_save, post_delete):
            signal.connect(presentation.names_changed, sender=Group, weak=False)
