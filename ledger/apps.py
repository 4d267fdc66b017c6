from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LedgerConfig(AppConfig):
    name = "ledger"
    verbose_name = _("Public ledger")

    def ready(self) -> None:
        from django.core.signals import request_finished, request_started
        from django.db import connections
        from django.db.models.signals import post_migrate

        from . import (
            checks,  # noqa: F401 - registers the system checks
            presentation,
        )
        from .triggers import ensure_triggers

        def _ensure(sender, using="default", **kwargs):
            ensure_triggers(connections[using])

        post_migrate.connect(_ensure, sender=self, dispatch_uid="ledger_ensure_triggers")
        # Translated names are looked up once per request (ledger.presentation.local_name).
        request_started.connect(presentation.names_request_started, dispatch_uid="ledger_names")
        request_finished.connect(presentation.names_request_finished, dispatch_uid="ledger_names")
