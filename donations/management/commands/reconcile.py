from django.core.management.base import BaseCommand, CommandError

from donations.models import Fundraiser
from donations.reconcile import reconcile


class Command(BaseCommand):
    help = "Check that raised minus spent equals the balance, from the ledger and the records."

    def add_arguments(self, parser):
        parser.add_argument(
            "fundraiser", nargs="?", help="a fundraiser's public id (all if omitted)"
        )

    def handle(self, *args, fundraiser: str | None = None, **options) -> None:
        fundraisers = Fundraiser.objects.order_by("slug")
        if fundraiser:
            fundraisers = fundraisers.filter(slug=fundraiser)
            if not fundraisers:
                raise CommandError(f"No fundraiser “{fundraiser}”.")
        failed = 0
        for one in fundraisers:
            report = reconcile(one)
            status = self.style.SUCCESS("OK") if report.ok else self.style.ERROR("DIFFERS")
            self.stdout.write(
                f"{status} {one.slug}: raised {report.ledger.raised_converted}, spent "
                f"{report.ledger.spent_converted}, balance {report.ledger.balance} {one.currency}"
            )
            for problem in report.problems:
                self.stdout.write(f"  - {problem}")
            failed += not report.ok
        if failed:
            raise CommandError(f"{failed} fundraiser(s) do not reconcile.")
