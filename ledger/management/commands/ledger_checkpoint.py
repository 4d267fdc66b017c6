from django.core.management.base import BaseCommand

from ledger import services
from ledger.models import Checkpoint


class Command(BaseCommand):
    help = "Sign a checkpoint of the public ledger now (when it has grown) and print it."

    def handle(self, *args, **options) -> None:
        checkpoint = services.checkpoint_sign()
        if checkpoint is None:
            latest = Checkpoint.objects.order_by("-size").first()
            self.stdout.write("The ledger has not grown since the last checkpoint.")
            if latest is None:
                return
            checkpoint = latest
        self.stdout.write(checkpoint.note, ending="")
