"""Who holds which role in which group: the one home of the group rules.

Hubs, donations, deliveries, the admin and the header ask these functions; none spells a rule
out again. An unreachable member holds no role, and neither does an inactive account or a
member of an inactive group. A superuser holds every role everywhere.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from .models import Group, Member, Role

# Who may spend and approve the group's money.
MONEY_ROLES = (Role.ORGANISER, Role.TREASURER)
# Who coordinates every hub of the group.
COORDINATING_ROLES = (Role.ORGANISER, Role.COORDINATOR)
# Who may serve (claim and carry deliveries for) any hub of the group: every member.
SERVING_ROLES = tuple(Role)
# Who may send the goods of the group's purchases straight to a place: who spends the money
# and who coordinates. A coordinator (or organiser), never the carrier, verifies it.
DELIVERY_PLANNING_ROLES = (Role.ORGANISER, Role.TREASURER, Role.COORDINATOR)


def active_members() -> QuerySet[Member]:
    """Rows that hold their role now."""
    return Member.objects.filter(unreachable=False, user__is_active=True, group__is_active=True)


def roles_in(user: AbstractBaseUser, group: Group) -> set[str]:
    """The roles `user` holds in `group` now (every role for a superuser)."""
    if not user.is_authenticated:
        return set()
    if user.is_superuser:
        return set(Role.values)
    rows = active_members().filter(user=user, group=group)
    return set(rows.values_list("role", flat=True))


def holds(user: AbstractBaseUser, group: Group | int, roles: tuple[str, ...]) -> bool:
    """Whether `user` holds one of `roles` in `group` (a group or its id)."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    group_id = group.pk if isinstance(group, Group) else group
    return active_members().filter(user=user, group_id=group_id, role__in=roles).exists()


def groups_where(user: AbstractBaseUser, roles: tuple[str, ...] = SERVING_ROLES) -> QuerySet[Group]:
    """The groups where `user` holds one of `roles` now (every group for a superuser)."""
    if user.is_authenticated and user.is_superuser:
        return Group.objects.all()
    return groups_held(user, roles)


def groups_held(user: AbstractBaseUser, roles: tuple[str, ...] = SERVING_ROLES) -> QuerySet[Group]:
    """The groups where `user` holds one of `roles` as a member; a superuser only where they
    are one (for the work a person takes on, such as carrying deliveries)."""
    if not user.is_authenticated:
        return Group.objects.none()
    ids = active_members().filter(user=user, role__in=roles).values("group_id")
    return Group.objects.filter(pk__in=ids)


def money_people(group: Group) -> QuerySet:
    """The accounts that may spend and approve the group's money: its active organisers and
    treasurers."""
    ids = active_members().filter(group=group, role__in=MONEY_ROLES).values("user_id")
    return get_user_model().objects.filter(pk__in=ids)


def money_role(user: AbstractBaseUser, group: Group | int) -> str | None:
    """The money role (organiser first, else treasurer) `user` holds as an active member of
    `group`, or None. Being a superuser is not a role here: the two people who propose and
    approve a payment are members of the group, and the ledger names the approver's role."""
    if not user.is_authenticated:
        return None
    group_id = group.pk if isinstance(group, Group) else group
    held = set(
        active_members()
        .filter(user=user, group_id=group_id, role__in=MONEY_ROLES)
        .values_list("role", flat=True)
    )
    return next((role.value for role in MONEY_ROLES if role in held), None)


def active_organisers(group: Group) -> QuerySet[Member]:
    return active_members().filter(group=group, role=Role.ORGANISER)


def may_manage_members(user: AbstractBaseUser, group: Group) -> bool:
    """A superuser, or an active organiser of the group."""
    return holds(user, group, (Role.ORGANISER,))


def managed_groups(user: AbstractBaseUser) -> QuerySet[Group]:
    """The groups whose members `user` manages."""
    return groups_where(user, (Role.ORGANISER,))


# Who is shown the names of the group's members (volunteers are not).
LISTING_ROLES = (Role.ORGANISER, Role.TREASURER, Role.COORDINATOR)


def group_people_ids(user: AbstractBaseUser) -> QuerySet:
    """The ids of the accounts in the groups where `user` may see who is a member."""
    groups = groups_where(user, LISTING_ROLES)
    return Member.objects.filter(group__in=groups).values("user_id")


def group_people(user: AbstractBaseUser) -> QuerySet:
    """The accounts `user` may see listed: the members of their groups (every account for a
    superuser). Nobody else is shown a list of the site's users."""
    accounts = get_user_model().objects.all()
    if user.is_authenticated and user.is_superuser:
        return accounts
    return accounts.filter(pk__in=group_people_ids(user))


# ---- public ---------------------------------------------------------------------------------


def public_group(slug: str) -> tuple[Group, list, list]:
    """(the active group, its active hubs, its fundraisers); 404 for any other slug. Hubs and
    fundraisers are read through their foreign keys to the group (their apps sit above this
    one and are not imported)."""
    group = get_object_or_404(Group.objects.filter(is_active=True), slug=slug)
    hubs = list(group.hubs.filter(is_active=True).select_related("region").order_by("name"))
    fundraisers = list(group.fundraisers.order_by("status", "-starts_on"))
    return group, hubs, fundraisers
