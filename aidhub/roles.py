"""What a signed-in person does here, for the header and for the page they land on after login.

The rules themselves stay in each app's queries (who coordinates which hub, who organises which
fundraiser); this module only asks them, so the header never shows a link its owner would get a
404 from.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import SimpleLazyObject

from deliveries.models import Delivery
from donations.models import Fundraiser
from donations.queries import organised_fundraisers
from groups.models import Role
from groups.queries import groups_held
from hubs.models import Hub, Membership
from hubs.queries import coordinated_hubs

MAX_LINKS = 5  # a header on a 360 px phone holds a few links, not every hub of a superuser


@dataclass
class Roles:
    hubs: list[Hub] = field(default_factory=list)
    fundraisers: list[Fundraiser] = field(default_factory=list)
    volunteer: bool = False
    admin_url: str = ""

    @property
    def coordinator(self) -> bool:
        return bool(self.hubs)

    def start_url(self) -> str:
        """The page each role starts its work on."""
        if len(self.hubs) == 1:
            return reverse("hubs:manage", args=[self.hubs[0].slug])
        if self.hubs:
            return reverse("deliveries:awaiting")
        if len(self.fundraisers) == 1:
            return reverse("donations:manage", args=[self.fundraisers[0].slug])
        if self.volunteer or not self.fundraisers:
            return reverse("deliveries:mine")
        return reverse("donations:list")


def roles_of(user: AbstractBaseUser) -> Roles:
    if not user.is_authenticated:
        return Roles()
    organised = organised_fundraisers(user)
    return Roles(
        hubs=list(coordinated_hubs(user).order_by("name")[:MAX_LINKS]),
        fundraisers=list(organised.order_by("title")[:MAX_LINKS]),
        volunteer=Membership.objects.filter(user=user, role=Membership.Role.VOLUNTEER).exists()
        or groups_held(user, (Role.VOLUNTEER,)).exists()
        or Delivery.objects.filter(volunteer=user).exists(),
        admin_url=f"/{settings.ADMIN_URL}" if user.is_staff else "",
    )


def context(request: HttpRequest) -> dict:
    """Template context processor: `roles`, computed only when a template reads it."""
    return {"roles": SimpleLazyObject(lambda: roles_of(request.user))}
