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
