from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeliveriesConfig(AppConfig):
    name = "deliveries"
    verbose_name = _("Deliveries")

    def ready(self) -> None:
        # The needs and gaps pages (in hubs, below this app) learn what is on its way from here.
        from hubs.queries import on_the_way_source

        from .queries import on_the_way

        on_the_way_source(on_the_way)
