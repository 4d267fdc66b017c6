from django.core.management.base import BaseCommand, CommandError

from donations.models import Fundraiser
from donations.reconcile import reconcile
from groups.models import Group


class Command(BaseCommand):
    help = (
        "Check that raised + received - passed on - spent equals the balance, from the ledger "
        "and the records, for each fundraiser and each group."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "fundraiser", nargs="?", help="a fundraiser's public id (all if omitted)"
        )
        parser.add_argument("--group", help="only the fundraisers of this group (its public id)")

    def handle(self, *args, fundraiser: str | None = None, group: str | None = None,
               **options) -> None:  # fmt: skip
        fundraisers = Fundraiser.objects.select_related("group").order_by("group__slug", "slug")
        if group:
            if not Group.objects.filter(slug=group).exists():
                raise CommandError(f"No group “{group}”.")
            fundraisers = fundraisers.filter(group__slug=group)
        if fundraiser:
            fundraisers = fundraisers.filter(slug=fundraiser)
            if not fundraisers:
                raise CommandError(f"No fundraiser “{fundraiser}”.")
        failed = 0
        for one in fundraisers:
            report = reconcile(one)
            status = self.style.SUCCESS("OK") if report.ok else self.style.ERROR("DIFFERS")
            ledger = report.ledger
            self.stdout.write(
                f"{status} {one.slug} (group {one.group.slug}): raised "
                f"{ledger.raised_converted}, received {ledger.received_converted}, passed on "
                f"{ledger.sent_converted}, spent "
                f"{ledger.spent_converted}, balance {ledger.balance} {one.currency}"
            )
            for problem in report.problems:
                self.stdout.write(f"  - {problem}")
            failed += not report.ok
        if failed:
            raise CommandError(f"{failed} fundraiser(s) do not reconcile.")
