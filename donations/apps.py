from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DonationsConfig(AppConfig):
    name = "donations"
    verbose_name = _("Fundraisers and donations")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from aidhub import search
        from ledger import presentation

        from .models import Fundraiser, PaymentMethod
        from .queries import payment_methods_changed
        from .translation import translated_titles

        # A title edited in the admin: ledger rows drawn with the old one are drawn again.
        for signal in (post_save, post_delete):
            signal.connect(presentation.names_changed, sender=Fundraiser, weak=False)
            signal.connect(search.fundraisers_changed, sender=Fundraiser, weak=False)
            # The ways to pay on the fundraiser's page are kept until one is saved or deleted.
            signal.connect(payment_methods_changed, sender=PaymentMethod, weak=False)
        # Ledger pages show the fundraiser titles the payloads sign in the reader's language.
        presentation.names_register("fundraiser", translated_titles)
