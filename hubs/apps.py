from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HubsConfig(AppConfig):
    name = "hubs"
    verbose_name = _("Hubs and stock")

    def ready(self) -> None:
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from groups.models import Group
        from ledger import presentation

        from .freshness import needs_changed
        from .models import Hub, Item, Place, Region, StockLevel, SupplyRequest, SupplyRequestLine
        from .translation import translated_names

        # The services forget the cached public pages after their writes; these receivers do
        # it for what is saved in the admin (or anywhere else, one row at a time).
        for model in (Hub, Item, Place):
            for signal in (post_save, post_delete):
                signal.connect(presentation.names_changed, sender=model, weak=False)
        for model in (Hub, Item, Place, Region, StockLevel, SupplyRequest, SupplyRequestLine):
            for signal in (post_save, post_delete):
                signal.connect(needs_changed, sender=model, weak=False)
        m2m_changed.connect(needs_changed, sender=Hub.surplus_items.through, weak=False)
        # A hub's page names its group.
        for signal in (post_save, post_delete):
            signal.connect(needs_changed, sender=Group, weak=False)

        # Ledger pages show the names the payloads sign in the reader's language.
        presentation.names_register("item", lambda language: translated_names(Item, language))
        presentation.names_register("hub", lambda language: translated_names(Hub, language))
        presentation.names_register("place", lambda language: translated_names(Place, language))
