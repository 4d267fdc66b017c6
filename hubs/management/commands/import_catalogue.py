from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from hubs.imports import ITEM_COLUMNS, PLACE_COLUMNS, items_import, places_import


class Command(BaseCommand):
    help = (
        "Import places or items from a CSV file (UTF-8, with a header row). All or nothing: "
        f"any bad row stops the import. Places: {', '.join(PLACE_COLUMNS)}. "
        f"Items: {', '.join(ITEM_COLUMNS)}."
    )

    def add_arguments(self, parser):
        parser.add_argument("what", choices=["places", "items"])
        parser.add_argument("csv_file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="check the file only")

    def handle(self, *args, what: str, csv_file: Path, dry_run: bool, **options) -> None:
        importer = places_import if what == "places" else items_import
        try:
            with csv_file.open(encoding="utf-8-sig", newline="") as handle:
                result = importer(handle, dry_run=dry_run)
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read {csv_file}: {exc}") from None
        except ValidationError as exc:
            raise CommandError(f"{csv_file}: {' '.join(exc.messages)}") from None
        if result.errors:
            raise CommandError("Nothing was imported:\n  " + "\n  ".join(result.errors))
        if dry_run:
            self.stdout.write(self.style.SUCCESS("The file is valid; nothing was written."))
        else:
            self.stdout.write(
                self.style.SUCCESS(f"{result.created} {what} created, {result.updated} updated.")
            )
