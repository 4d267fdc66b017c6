from django.conf import settings
from django.core.management.base import BaseCommand

from ledger.note import generate_private_key_text, parse_private_key_text, verifier_key


class Command(BaseCommand):
    help = "Print a new checkpoint signing key (keep it secret) and its public verifier key."

    def add_arguments(self, parser):
        parser.add_argument("--name", default=settings.LEDGER_KEY_NAME, help="the key name")

    def handle(self, *args, name: str, **options) -> None:
        private = generate_private_key_text(name)
        _name, key = parse_private_key_text(private)
        self.stderr.write("Set LEDGER_SIGNING_KEY to the first line; publish the second.")
        self.stdout.write(private)
        self.stdout.write(verifier_key(name, key))
