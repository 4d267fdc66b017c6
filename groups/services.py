"""Every write to groups and their members: checked here, audited, in one transaction.

Organisers manage their group's treasurers, coordinators and volunteers. Adding or removing an
organiser (or marking one unreachable) is a superuser's act for now: the issue wants a second
organiser's agreement for it, which comes with the two-person approval (docs/groups.md).
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from aidhub import audit, invitations

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


# What a group's organisers may word themselves; the rest is set by a superuser.
ORGANISER_FIELDS = {"name", "description"}


@transaction.atomic
def group_change(*, group: Group, by: AbstractBaseUser, changed: list[str]) -> Group:
    """Save `group` as edited (its `changed` fields; translations count as their field)."""
    if not queries.may_manage_members(by, group):
        raise ValidationError(
            _("Only an organiser of %(group)s can do this.") % {"group": group.name},
            code="not_organiser",
        )
    fields = {name.rsplit("_", 1)[0] if name[-3:-2] == "_" else name for name in changed}
    if not by.is_superuser and fields - ORGANISER_FIELDS:
        raise ValidationError(
            _("Only a site administrator can change a group's public id, country or state."),
            code="denied",
        )
    group.save()
    audit.record(actor=by, action="group changed", target=group, fields=",".join(sorted(changed)))
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


def member_change_check(*, member: Member, role: str, by: AbstractBaseUser | None) -> None:
    """Refuse (ValidationError) a role change `by` may not make, or that would leave the group
    without an active organiser or give the account a role it already holds."""
    if role == member.role:
        return
    _check_manager(member.group, by, organiser_row=Role.ORGANISER in (member.role, role))
    _check_not_last_organiser(member)
    if Member.objects.filter(group=member.group, user=member.user, role=role).exists():
        raise ValidationError(
            _("%(user)s is already %(role)s of %(group)s.")
            % {"user": member.user.get_username(), "role": Role(role).label,
               "group": member.group.name},
            code="already_member",
        )  # fmt: skip


def member_remove_check(*, member: Member, by: AbstractBaseUser | None) -> None:
    _check_manager(member.group, by, organiser_row=member.role == Role.ORGANISER)
    _check_not_last_organiser(member)


@transaction.atomic
def member_change_role(*, member: Member, role: str, by: AbstractBaseUser | None) -> Member:
    if role == member.role:
        return member
    _lock(member.group)
    member_change_check(member=member, role=role, by=by)
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
    _lock(member.group)
    member_remove_check(member=member, by=by)
    audit.record(
        actor=by, action="member removed", target=member, group=member.group.slug,
        user=member.user_id, role=member.role,
    )  # fmt: skip
    member.delete()


# ---- invitations ----------------------------------------------------------------------------
# As for a hub's volunteers (aidhub.invitations): an organiser types a username or e-mail and
# is told the same whatever it names; the account joins only by accepting the e-mailed link.
_INVITATION_SALT = "groups.member_invitation"
_INVITED = "member_invited"
_ACCEPTED = "member_accepted"
INVITABLE_ROLES = (Role.TREASURER, Role.COORDINATOR, Role.VOLUNTEER)


def member_invitation_token(
    *, user: AbstractBaseUser, group: Group, role: str, by: AbstractBaseUser
) -> str:
    return invitations.token_make(
        salt=_INVITATION_SALT, user=user, group=group.pk, role=role, by=by.pk
    )


def member_invitation_read(*, token: str, user: AbstractBaseUser) -> tuple[Group, str]:
    """(the group, the role) an invitation for `user` offers; ValidationError when the link is
    forged, has expired, was already used, names another account or a closed group, or the
    organiser who sent it no longer is one."""
    read = invitations.token_read(salt=_INVITATION_SALT, token=token, user=user)
    found = None
    if read is not None:
        data, issued = read
        group = Group.objects.filter(pk=data.get("group"), is_active=True).first()
        role = data.get("role")
        inviter = get_user_model().objects.filter(pk=data.get("by")).first()
        if (
            group is not None
            and role in INVITABLE_ROLES
            and inviter is not None
            and queries.may_manage_members(inviter, group)
            and not invitations.spent(
                action=_ACCEPTED, user=user, issued=issued, group=group.pk, role=role
            )
        ):
            found = (group, role)
    if found is None:
        raise ValidationError(
            _(
                "This invitation has expired, has already been used or is not for the account "
                "you are signed in with. Ask the group's organiser for a new one."
            ),
            code="invitation_invalid",
        )
    return found


@transaction.atomic
def member_invite(*, group: Group, person: str, role: str, by: AbstractBaseUser) -> None:
    """Invite the one active account whose username or e-mail is exactly `person` to hold
    `role` in `group`: an e-mail (after commit) with a link they accept while signed in.
    Refused (ValidationError) only for what the organiser chose: a role that cannot be offered
    or a group they do not manage. Nothing is said about the account: the caller answers the
    same whether it exists, already holds the role or was sent too many invitations."""
    if role not in INVITABLE_ROLES:
        raise ValidationError(
            _("An organiser is added by a site administrator for now, not invited."),
            code="role",
        )
    _check_manager(group, by, organiser_row=False)
    invitee = invitations.invitee(person)
    if invitee is None:
        return
    if Member.objects.filter(group=group, user=invitee, role=role).exists():
        return
    if invitations.exhausted(by=by, account=invitee):
        return
    # Superusers only read the trail (aidhub.admin): it may say whom an invitation reached.
    audit.record(
        actor=by, action=_INVITED, target=invitee, group=group.slug, user=invitee.pk, role=role
    )
    from .tasks import member_invitation_send

    member_invitation_send.delay_on_commit(
        invitee.pk, group.pk, role, by.pk, translation.get_language() or ""
    )


@transaction.atomic
def member_accept(*, token: str, user: AbstractBaseUser) -> Member:
    """The invited account, signed in, takes the role the link offers. The link is spent."""
    group, role = member_invitation_read(token=token, user=user)
    inviter_id = invitations.token_read(salt=_INVITATION_SALT, token=token, user=user)[0]["by"]
    member, _created = Member.objects.get_or_create(
        group=group, user=user, role=role, defaults={"added_by_id": inviter_id}
    )
    # Recorded even when already a member: it spends the link (member_invitation_read).
    audit.record(
        actor=user, action=_ACCEPTED, target=member, group=group.pk, user=user.pk, role=role
    )
    return member
