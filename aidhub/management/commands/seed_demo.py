from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from aidhub import demo
from ledger import exportfiles
from ledger.keys import signer
from ledger.models import ReceiptCode


class Command(BaseCommand):
    help = "Create the demo scenario (idempotent) and print the demo logins."

    def add_arguments(self, parser):
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Seed even with AIDHUB_PRODUCTION on (the demo logins have a known password).",
        )

    def handle(self, *args, allow_production: bool = False, **options) -> None:
        if settings.PRODUCTION and not allow_production:
            raise CommandError(
                "Refusing to seed demo users with a known password in production "
                "(pass --allow-production for a public demo server)."
            )
        users = demo.seed()
        # The export files now, not by the worker or in a request: `make run` serves them at once.
        exportfiles.update()
        self.stdout.write(self.style.SUCCESS("Demo data is ready. Logins:"))
        for user in users:
            self.stdout.write(
                f"  {user.role:<22} {user.username:<16} password: {demo.DEMO_PASSWORD}"
            )
        code = ReceiptCode.objects.order_by("created_at").values_list("code", flat=True).first()
        self.stdout.write(f"A donor's receipt code: {code}  (open /ledger/receipt/{code}/)")
        self.stdout.write(
            "Check the ledger: python ledger/verify.py http://127.0.0.1:8000 "
            f"--key {signer().verifier_key}"
        )
