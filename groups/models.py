"""Groups: the initiatives, associations and bloggers' circles that share one site.

A hub and a fundraiser belong to one group; what a person may see and change follows from the
roles they hold in it (groups/queries.py is the one home of those rules). Name and description
are translated (groups/translation.py).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class Country(models.TextChoices):
    """ISO 3166-1 alpha-2 codes of the countries AidHub works in; ZZ (user-assigned in the
    standard, "unknown") for a group anywhere else."""

    KG = "KG", _("Kyrgyzstan")
    KZ = "KZ", _("Kazakhstan")
    TJ = "TJ", _("Tajikistan")
    UZ = "UZ", _("Uzbekistan")
    RU = "RU", _("Russia")
    OTHER = "ZZ", _("Another country")


class Group(models.Model):
    slug = models.SlugField(_("public id"), unique=True)
    name = models.CharField(_("name"), max_length=120)
    country = models.CharField(_("country"), max_length=2, choices=Country.choices)
    description = models.CharField(
        _("public description"),
        max_length=300,
        blank=True,
        help_text=_("A sentence or two for the public page: who you are and what you do."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("group")
        verbose_name_plural = _("groups")
        constraints = [
            models.CheckConstraint(
                condition=Q(country__in=Country.values), name="group_country_known"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("groups:group", args=[self.slug])


class Role(models.TextChoices):
    ORGANISER = "organiser", _("Organiser")
    TREASURER = "treasurer", _("Treasurer")
    COORDINATOR = "coordinator", _("Coordinator")
    VOLUNTEER = "volunteer", _("Volunteer")


class Member(models.Model):
    """One role one account holds in one group. A person may hold several (organiser and
    treasurer). An unreachable member (arrested, cut off) keeps the row but holds no role."""

    Role = Role

    group = models.ForeignKey(
        Group, on_delete=models.CASCADE, related_name="members", verbose_name=_("group")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="group_roles",
        verbose_name=_("account"),
    )
    role = models.CharField(_("role"), max_length=12, choices=Role.choices)
    unreachable = models.BooleanField(
        _("unreachable"),
        default=False,
        help_text=_(
            "Cannot act for the group now (arrested, cut off): holds no role until unmarked."
        ),
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("added by"),
    )
    added_at = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        ordering = ["group", "role", "user"]
        verbose_name = _("member")
        verbose_name_plural = _("members")
        constraints = [
            models.UniqueConstraint(fields=["group", "user", "role"], name="member_unique_role"),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="member_role_known"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.group}"


class Decision(models.Model):
    """What every proposal by one person and its decision by a second one share: an organiser
    change here, and in donations an expense, a change to the ways to pay, a transfer and a
    hand-over. Each kind has its own `status` (pending, approved, rejected, with its own
    words); groups.services.decide_once decides it once."""

    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("proposed by"),
    )
    proposed_at = models.DateTimeField(_("proposed"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    reason = models.CharField(_("why it was rejected"), max_length=300, blank=True)

    class Meta:
        abstract = True

    @property
    def is_pending(self) -> bool:
        return self.status == "pending"


class OrganiserChange(Decision):
    """A change to a group's organisers, proposed by one active organiser and made only when a
    second one agrees (groups.services.organiser_approve). The single-handed exceptions are
    recorded here too, already approved by their proposer (docs/groups.md)."""

    class Change(models.TextChoices):
        ADD = "add", _("Make organiser")
        REMOVE = "remove", _("Remove as organiser")
        DEMOTE = "demote", _("Give another role instead of organiser")
        REACHABLE = "reachable", _("Mark organiser reachable again")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for a second organiser")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    group = models.ForeignKey(
        Group, on_delete=models.CASCADE, related_name="organiser_changes", verbose_name=_("group")
    )
    change = models.CharField(_("change"), max_length=10, choices=Change.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("account"),
    )
    # For a demotion: the role they hold instead.
    new_role = models.CharField(_("role instead"), max_length=12, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )

    class Meta:
        ordering = ["-proposed_at", "-id"]
        verbose_name = _("organiser change")
        verbose_name_plural = _("organiser changes")
        constraints = [
            models.CheckConstraint(
                condition=Q(status="pending", decided_at__isnull=True)
                | Q(status__in=["approved", "rejected"], decided_at__isnull=False),
                name="organiser_change_status_decided",
            ),
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(reason=""),
                name="organiser_change_rejected_reason",
            ),
            models.CheckConstraint(
                condition=Q(change__in=["add", "remove", "demote", "reachable"]),
                name="organiser_change_known",
            ),
            models.CheckConstraint(
                condition=~Q(change="demote")
                | Q(new_role__in=["treasurer", "coordinator", "volunteer"]),
                name="organiser_change_demote_role",
            ),
            # One open question about a person at a time.
            models.UniqueConstraint(
                fields=["group", "user"],
                condition=Q(status="pending"),
                name="organiser_change_one_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_change_display()}: {self.user} · {self.group}"
