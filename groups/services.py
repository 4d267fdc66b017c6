"""Every write to groups and their members: checked here, audited, in one transaction.

Organisers manage their group's treasurers, coordinators and volunteers. Adding or removing an
organiser (or marking one unreachable) is a superuser's act for now: the issue wants a second
organiser's agreement for it, which comes with the two-person approval (docs/groups.md).
"""

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from aidhub import audit

from . import queries
from .models import Group, Member, Role


def _check_manager(group: Group, by: AbstractBaseUser | None, *, organiser_row: bool) -> None:
    """Refuse unless `by` may make this change: an active organiser of the group, and a
    superuser when the change touches an organiser (by=None: the system itself, e.g. the demo
    or a migration)."""
    if by is None:
        return
    if organiser_row and not by.is_superuser:
        raise ValidationError(
            _(
                "Only a site administrator can add, remove or change an organiser for now; "
                "a second organiser's agreement will be asked for instead."
            ),
            code="organiser_change",
        )
    if not queries.may_manage_members(by, group):
        raise ValidationError(
            _("Only an organiser of %(group)s can do this.") % {"group": group.name},
            code="not_organiser",
        )


def _lock(group: Group) -> None:
    # Two organisers removing each other at once: the second waits and sees the first's change.
    Group.objects.select_for_update().filter(pk=group.pk).first()


def _check_not_last_organiser(member: Member) -> None:
    """Refuse to take the role from the group's last active organiser."""
    if member.role != Role.ORGANISER or member.unreachable:
        return
    others = queries.active_organisers(member.group).exclude(pk=member.pk)
    if not others.exists():
        raise ValidationError(
            _("%(user)s is the last active organiser of %(group)s: add another organiser first.")
            % {"user": member.user.get_username(), "group": member.group.name},
            code="last_organiser",
        )


@transaction.atomic
def group_create(
    *, name: str, slug: str, country: str, first_organiser: AbstractBaseUser,
    by: AbstractBaseUser | None, description: str = "",
) -> Group:  # fmt: skip
    """A new group with its first organiser. Only superusers create groups."""
    if by is not None and not by.is_superuser:
        raise ValidationError(_("Only a site administrator can create a group."), code="denied")
    if Group.objects.filter(slug=slug).exists():
        raise ValidationError(_("A group already has this public id."), code="slug_taken")
    group = Group.objects.create(name=name, slug=slug, country=country, description=description)
    Member.objects.create(group=group, user=first_organiser, role=Role.ORGANISER, added_by=by)
    audit.record(actor=by, action="group created", target=group, organiser=first_organiser.pk)
    return group


@transaction.atomic
def member_add(
    *, group: Group, user: AbstractBaseUser, role: str, by: AbstractBaseUser | None
) -> Member:
    """Give `user` `role` in `group`. Refused when they already hold it."""
    _check_manager(group, by, organiser_row=role == Role.ORGANISER)
    try:
        with transaction.atomic():
            member = Member.objects.create(group=group, user=user, role=role, added_by=by)
    except IntegrityError:
        raise ValidationError(
            _("%(user)s is already %(role)s of %(group)s.")
            % {"user": user.get_username(), "role": Role(role).label, "group": group.name},
            code="already_member",
        ) from None
    audit.record(actor=by, action="member added", target=member, group=group.slug, role=role)
    return member


@transaction.atomic
def member_change_role(*, member: Member, role: str, by: AbstractBaseUser | None) -> Member:
    if role == member.role:
        return member
    touches_organiser = Role.ORGANISER in (member.role, role)
    _check_manager(member.group, by, organiser_row=touches_organiser)
    _lock(member.group)
    _check_not_last_organiser(member)
    if Member.objects.filter(group=member.group, user=member.user, role=role).exists():
        raise ValidationError(
            _("%(user)s is already %(role)s of %(group)s.")
            % {"user": member.user.get_username(), "role": Role(role).label,
               "group": member.group.name},
            code="already_member",
        )  # fmt: skip
    before = member.role
    member.role = role
    member.save(update_fields=["role"])
    audit.record(actor=by, action="member role changed", target=member, before=before, after=role)
    return member


@transaction.atomic
def member_set_unreachable(
    *, member: Member, unreachable: bool, by: AbstractBaseUser | None
) -> Member:
    """Mark a member unreachable (they hold no role until unmarked) or reachable again. The
    group's last active organiser may be marked too: that is what the mark is for."""
    _check_manager(member.group, by, organiser_row=member.role == Role.ORGANISER)
    if member.unreachable != unreachable:
        member.unreachable = unreachable
        member.save(update_fields=["unreachable"])
        action = "member marked unreachable" if unreachable else "member reachable again"
        audit.record(actor=by, action=action, target=member, group=member.group.slug)
    return member


@transaction.atomic
def member_remove(*, member: Member, by: AbstractBaseUser | None) -> None:
    _check_manager(member.group, by, organiser_row=member.role == Role.ORGANISER)
    _lock(member.group)
    _check_not_last_organiser(member)
    audit.record(
        actor=by, action="member removed", target=member, group=member.group.slug,
        user=member.user_id, role=member.role,
    )  # fmt: skip
    member.delete()
