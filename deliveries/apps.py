from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeliveriesConfig(AppConfig):
    name = "deliveries"
    verbose_name = _("Deliveries")

    def ready(self) -> None:
        # The needs and gaps pages (in hubs, below this app) learn what is on its way from here.
        from django.db.models.signals import post_delete, post_save

        from hubs.freshness import needs_changed
        from hubs.queries import on_the_way_source
        from ledger.queries import follow_ups_register

        from .models import Delivery, DeliveryLine
        from .queries import on_the_way, purchase_deliveries

        on_the_way_source(on_the_way)
        # A purchase's entry page links to the deliveries that carried its goods.
        follow_ups_register("expense", purchase_deliveries)
        # An edit in the admin changes what the needs pages say is on its way (the services
        # forget those pages themselves).
        for model in (Delivery, DeliveryLine):
            for signal in (post_save, post_delete):
                signal.connect(needs_changed, sender=model, weak=False)
