from django.core.management.base import BaseCommand

from ledger import exportfiles


class Command(BaseCommand):
    help = (
        "Write the whole-ledger export files up to the latest checkpoint (what the "
        "exports_update task does); a build that was killed resumes where it was."
    )

    def handle(self, *args, **options) -> None:
        snapshot = exportfiles.update()
        size = snapshot.size if snapshot else 0
        self.stdout.write(f"Ledger exports hold {size} entries.")
