from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DonationsConfig(AppConfig):
    name = "donations"
    verbose_name = _("Fundraisers and donations")

    def ready(self) -> None:
        from ledger import presentation

        from .translation import translated_titles

        # Ledger pages show the fundraiser titles the payloads sign in the reader's language.
        presentation.names_register("fundraiser", translated_titles)
