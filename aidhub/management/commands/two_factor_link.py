"""Print a one-time two-step setup link: how the first superuser enrols, from the server."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from aidhub.security import two_factor_setup_link


class Command(BaseCommand):
    help = "Print a one-time link that lets USERNAME set up two-step sign-in."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")

    def handle(self, *args, username: str, **options) -> None:
        User = get_user_model()
        try:
            user = User.objects.get_by_natural_key(username)
        except User.DoesNotExist as exc:
            raise CommandError(f"No user named {username!r}.") from exc
        self.stdout.write(two_factor_setup_link(user))
        self.stderr.write(
            f"It works once, within {settings.TWO_FACTOR_SETUP_HOURS} hours, for {username} "
            "with their password. Open it before signing in (signing in again spends it)."
        )
