"""Every write to groups and their members: checked here, audited, in one transaction.

Organisers manage their group's treasurers, coordinators and volunteers. A change to the
organisers themselves (making one, removing or demoting one, marking one reachable again) is an
OrganiserChange one active organiser proposes and a second one approves (organiser_propose,
organiser_approve); a superuser may make it directly. Two exceptions are single-handed (an
OrganiserChange approved by its proposer, or audited when done in the member list): a group
with one active organiser adding a second one (otherwise no group could ever get its second),
and its only active organiser marking another reachable again. Any active organiser marks
another member unreachable at once (safety), never the last active organiser (docs/groups.md).
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from aidhub import audit, invitations

from . import queries
from .models import Decision, Group, Member, OrganiserChange, Role


def alone(group: Group, by: AbstractBaseUser) -> bool:
    """Whether `by` is the group's only organiser: no other organiser row at all, reachable or
    not. Marking the others unreachable does not make an organiser alone, so it never opens
    the single-handed paths that exist only for a group that has no second organiser yet."""
    return not Member.objects.filter(group=group, role=Role.ORGANISER).exclude(user=by).exists()


def _check_manager(
    group: Group, by: AbstractBaseUser | None, *, organiser_row: bool, grants_money: bool = False
) -> None:
    """Refuse unless `by` may make this change: an active organiser of the group, and a
    superuser when the change touches an organiser (by=None: the system itself, e.g. the demo
    or a migration). Giving an account a money role (treasurer: organisers go through organiser
    changes) is one organiser's act only while they are alone; otherwise one organiser could
    make an account they control the second person of every payment."""
    if by is None:
        return
    if grants_money and not by.is_superuser and not alone(group, by):
        raise ValidationError(
            _(
                "A treasurer approves payments as the second person, so one organiser alone "
                "cannot make one while the group has another organiser: a site administrator "
                "does it for now."
            ),
            code="money_role",
        )
    if organiser_row and not by.is_superuser:
        raise ValidationError(
            _(
                "An organiser is added, removed or given another role only with a second "
                "organiser's agreement: propose it under Groups → Organiser changes."
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
    _check_manager(group, by, organiser_row=role == Role.ORGANISER,
                   grants_money=role == Role.TREASURER)  # fmt: skip
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
    _check_manager(member.group, by, organiser_row=Role.ORGANISER in (member.role, role),
                   grants_money=role == Role.TREASURER)  # fmt: skip
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


def member_unreachable_check(
    *, member: Member, unreachable: bool, by: AbstractBaseUser | None
) -> None:
    """Refuse (ValidationError) what `by` may not do: anyone but an active organiser of the
    group (or a superuser); marking the last active organiser unreachable (nobody could act
    for the group any more: add another organiser first); an organiser marking an organiser
    reachable again while a second active organiser could agree (propose it instead)."""
    if member.unreachable == unreachable:
        return
    _check_manager(member.group, by, organiser_row=False)
    if unreachable:
        _check_not_last_organiser(member)
        return
    if member.role != Role.ORGANISER or by is None or by.is_superuser:
        return
    if queries.active_organisers(member.group).exclude(user=by).exists():
        raise ValidationError(
            _(
                "Marking an organiser reachable again needs a second organiser's agreement: "
                "propose it under Groups → Organiser changes."
            ),
            code="organiser_change",
        )


@transaction.atomic
def member_set_unreachable(
    *, member: Member, unreachable: bool, by: AbstractBaseUser | None
) -> Member:
    """Mark a member unreachable (they hold no role until unmarked) or reachable again. Any
    active organiser marks another at once, organisers included, since it is a safety
    measure; never the last active organiser (member_unreachable_check)."""
    _lock(member.group)
    member.refresh_from_db(fields=["unreachable", "role"])
    member_unreachable_check(member=member, unreachable=unreachable, by=by)
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


# ---- organiser changes: one proposes, a second agrees -------------------------------------
DEMOTION_ROLES = (Role.TREASURER, Role.COORDINATOR, Role.VOLUNTEER)


def _organiser_row(group: Group, user: AbstractBaseUser) -> Member | None:
    return Member.objects.filter(group=group, user=user, role=Role.ORGANISER).first()


def _check_organiser(group: Group, by: AbstractBaseUser, what: str) -> None:
    """Refuse unless `by` is an active organiser of `group` as a member (a superuser who is
    not one changes organisers directly, through member_add and the like)."""
    if not active_organiser(by, group):
        raise ValidationError(
            _("Only an active organiser of %(group)s can %(what)s this.")
            % {"group": group.name, "what": what},
            code="not_organiser",
        )


def active_organiser(user: AbstractBaseUser, group: Group) -> bool:
    return user.is_authenticated and queries.active_organisers(group).filter(user=user).exists()


def organiser_change_check(
    *, group: Group, user: AbstractBaseUser, change: str, new_role: str = ""
) -> Member | None:
    """Refuse (ValidationError) a change that cannot be made to `group` now; return the
    organiser row it touches (None for an addition). Checked at proposal and at approval."""
    row = _organiser_row(group, user)
    name = {"user": user.get_username(), "group": group.name}
    if change == OrganiserChange.Change.ADD:
        if row is not None:
            raise ValidationError(
                _("%(user)s is already an organiser of %(group)s.") % name, code="already_member"
            )
        if not active_members_of(group).filter(user=user).exists():
            raise ValidationError(
                _("%(user)s is not an active member of %(group)s: invite them first.") % name,
                code="not_member",
            )
        return None
    if row is None:
        raise ValidationError(
            _("%(user)s is not an organiser of %(group)s.") % name, code="not_organiser_row"
        )
    if change == OrganiserChange.Change.REACHABLE:
        if not row.unreachable:
            raise ValidationError(
                _("%(user)s is not marked unreachable.") % name, code="not_unreachable"
            )
        return row
    if change == OrganiserChange.Change.DEMOTE and new_role not in DEMOTION_ROLES:
        raise ValidationError(
            _("Choose the role they hold instead: treasurer, coordinator or volunteer."),
            code="role",
        )
    if change not in (OrganiserChange.Change.REMOVE, OrganiserChange.Change.DEMOTE):
        raise ValidationError(_("Unknown change."), code="change")
    _check_not_last_organiser(row)
    return row


def active_members_of(group: Group):
    return queries.active_members().filter(group=group)


def _organiser_change_apply(change: OrganiserChange, row: Member | None,
                            by: AbstractBaseUser) -> None:  # fmt: skip
    if change.change == OrganiserChange.Change.ADD:
        Member.objects.create(
            group=change.group, user=change.user, role=Role.ORGANISER, added_by=by
        )
    elif change.change == OrganiserChange.Change.REMOVE:
        row.delete()
    elif change.change == OrganiserChange.Change.DEMOTE:
        if Member.objects.filter(group=change.group, user=change.user,
                                 role=change.new_role).exists():  # fmt: skip
            row.delete()  # they already hold the other role: only the organiser one goes
        else:
            row.role = change.new_role
            row.save(update_fields=["role"])
    else:
        row.unreachable = False
        row.save(update_fields=["unreachable"])
    audit.record(
        actor=by, action="organiser change made", target=change, group=change.group.slug,
        change=change.change, user=change.user_id, proposed_by=change.proposed_by_id,
    )  # fmt: skip


@transaction.atomic
def organiser_propose(
    *, group: Group, user: AbstractBaseUser, change: str, by: AbstractBaseUser,
    new_role: str = "",
) -> OrganiserChange:  # fmt: skip
    """An active organiser proposes a change to the organisers; a second active organiser
    approves it (organiser_approve). Made at once, and recorded as approved by its proposer,
    only where no second organiser exists to agree: a group's only active organiser adding a
    second one, or marking an organiser reachable again."""
    _lock(group)
    _check_organiser(group, by, _("propose"))
    row = organiser_change_check(group=group, user=user, change=change, new_role=new_role)
    if OrganiserChange.objects.filter(group=group, user=user, status="pending").exists():
        raise ValidationError(
            _("A change about %(user)s already waits for a second organiser: decide it first.")
            % {"user": user.get_username()},
            code="pending",
        )
    proposal = OrganiserChange.objects.create(
        group=group, user=user, change=change, proposed_by=by,
        new_role=new_role if change == OrganiserChange.Change.DEMOTE else "",
    )  # fmt: skip
    audit.record(actor=by, action="organiser change proposed", target=proposal,
                 group=group.slug, change=change, user=user.pk)  # fmt: skip
    # Alone, with no second organiser to agree: adding the first second one, and bringing
    # back one marked unreachable (that adds a check, it takes none away), are made at once.
    # Having marked the others unreachable does not make an organiser alone (alone()).
    no_one_to_agree = not queries.active_organisers(group).exclude(user=by).exists()
    made_at_once = (change == OrganiserChange.Change.ADD and alone(group, by)) or (
        change == OrganiserChange.Change.REACHABLE and no_one_to_agree
    )
    if made_at_once:
        _organiser_change_decide(proposal, by=by, status=OrganiserChange.Status.APPROVED)
        _organiser_change_apply(proposal, row, by)
    return proposal


def decide_once(proposal: Decision, **fields: object) -> None:
    """Write a pending proposal's decision (`fields`: its status, decided_by, decided_at, …)
    with a conditional UPDATE, the last word on it: if another decision came first, nothing is
    changed and the whole transaction is refused. Every two-person decision goes through here."""
    rows = type(proposal).objects.filter(pk=proposal.pk, status="pending")
    if not rows.update(**fields):
        raise ValidationError(
            _("This was already decided: nothing was changed."), code="already_decided"
        )
    for name, value in fields.items():
        setattr(proposal, name, value)


def _organiser_change_decide(proposal: OrganiserChange, *, by: AbstractBaseUser, status: str,
                             reason: str = "") -> None:  # fmt: skip
    decide_once(proposal, status=status, decided_by=by, decided_at=timezone.now(), reason=reason)


def _check_pending(proposal: OrganiserChange) -> None:
    if not proposal.is_pending:
        raise ValidationError(
            _("This was already %(decision)s: nothing was changed.")
            % {"decision": proposal.get_status_display().lower()},
            code="already_decided",
        )


@transaction.atomic
def organiser_approve(*, proposal: OrganiserChange, by: AbstractBaseUser) -> OrganiserChange:
    """A second, different active organiser agrees: the change is made now, after every
    check again (another organiser may have gone meanwhile)."""
    _lock(proposal.group)
    proposal = OrganiserChange.objects.select_related("group", "user").get(pk=proposal.pk)
    _check_pending(proposal)
    _check_organiser(proposal.group, by, _("approve"))
    if by.pk == proposal.proposed_by_id:
        raise ValidationError(
            _("A second organiser must agree: you cannot approve your own proposal."),
            code="own_proposal",
        )
    row = organiser_change_check(group=proposal.group, user=proposal.user,
                                 change=proposal.change, new_role=proposal.new_role)  # fmt: skip
    _organiser_change_decide(proposal, by=by, status=OrganiserChange.Status.APPROVED)
    _organiser_change_apply(proposal, row, by)
    return proposal


@transaction.atomic
def organiser_reject(*, proposal: OrganiserChange, by: AbstractBaseUser,
                     reason: str) -> OrganiserChange:  # fmt: skip
    """Any active organiser of the group, the proposer too, rejects it, saying why."""
    proposal = OrganiserChange.objects.select_related("group").get(pk=proposal.pk)
    _check_pending(proposal)
    _check_organiser(proposal.group, by, _("reject"))
    if not reason.strip():
        raise ValidationError(_("Say why it is rejected."), code="reason")
    _organiser_change_decide(proposal, by=by, status=OrganiserChange.Status.REJECTED,
                             reason=reason.strip())  # fmt: skip
    audit.record(actor=by, action="organiser change rejected", target=proposal,
                 reason=reason.strip())  # fmt: skip
    return proposal


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
    _check_manager(group, by, organiser_row=False, grants_money=role == Role.TREASURER)
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
