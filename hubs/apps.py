from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HubsConfig(AppConfig):
    name = "hubs"
    verbose_name = _("Hubs and stock")

    def ready(self) -> None:
        from ledger import presentation

        from .models import Hub, Item, Place
        from .translation import translated_names

        # Ledger pages show the names the payloads sign in the reader's language.
        presentation.names_register("item", lambda language: translated_names(Item, language))
        presentation.names_register("hub", lambda language: translated_names(Hub, language))
        presentation.names_register("place", lambda language: translated_names(Place, language))
