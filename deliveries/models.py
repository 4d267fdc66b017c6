"""Deliveries from a hub (or straight from a purchase) to a place, and their proof.

planned → claimed → dispatched → delivered → verified, or failed / returned with a reason.
State changes are conditional UPDATEs in `deliveries.services`: two people pressing the same
button at once get one change and one clear refusal.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from donations.models import Expense, Fundraiser
from hubs.models import QUANTITY, Hub, Item, Place, SupplyRequest


class Delivery(models.Model):
    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        CLAIMED = "claimed", _("Claimed")
        DISPATCHED = "dispatched", _("On the way")
        DELIVERED = "delivered", _("Delivered, awaiting verification")
        VERIFIED = "verified", _("Verified")
        FAILED = "failed", pgettext_lazy("delivery status", "Failed")
        RETURNED = "returned", _("Returned")

    slug = models.SlugField(_("public id"), unique=True)
    # A delivery starts either from a hub's stock or straight from a purchase (an approved
    # expense with goods that went into no hub): exactly one of the two (a constraint below).
    hub = models.ForeignKey(
        Hub,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="deliveries",
        verbose_name=_("from hub"),
    )
    expense = models.ForeignKey(
        Expense,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="deliveries",
        verbose_name=_("goods bought by"),
        help_text=_("When the goods go straight from a purchase, not from the hub's stock."),
    )
    place = models.ForeignKey(
        Place, on_delete=models.PROTECT, related_name="deliveries", verbose_name=_("to place")
    )
    requests = models.ManyToManyField(
        SupplyRequest, blank=True, related_name="deliveries", verbose_name=_("answers requests")
    )
    fundraisers = models.ManyToManyField(
        Fundraiser, blank=True, related_name="deliveries", verbose_name=_("goods paid by")
    )
    volunteer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="deliveries",
        verbose_name=_("volunteer"),
    )
    vehicle_note = models.CharField(_("vehicle"), max_length=120, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PLANNED
    )
    claim_expires_at = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reason = models.CharField(_("why it failed or came back"), max_length=200, blank=True)
    ledger_index = models.BigIntegerField(_("ledger entry"), null=True, blank=True, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        indexes = [models.Index(fields=["status", "claim_expires_at"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="claimed") | Q(volunteer__isnull=False),
                name="claimed_delivery_has_volunteer",
            ),
            models.CheckConstraint(
                condition=~Q(status="verified") | Q(verified_by__isnull=False),
                name="verified_delivery_has_verifier",
            ),
            models.CheckConstraint(
                condition=Q(verified_by__isnull=True) | ~Q(verified_by=models.F("volunteer")),
                name="verifier_is_not_the_volunteer",
            ),
            models.CheckConstraint(
                condition=Q(hub__isnull=False, expense__isnull=True)
                | Q(hub__isnull=True, expense__isnull=False),
                name="delivery_from_hub_or_purchase",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.slug}: {self.from_label} → {self.place}"

    def get_absolute_url(self) -> str:
        return reverse("deliveries:detail", args=[self.slug])

    @property
    def from_label(self) -> str:
        """Where the goods come from, as people read it: the hub, or the purchase."""
        if self.hub_id is not None:
            return str(self.hub.name)
        return _("%(vendor)s purchase") % {"vendor": self.expense.vendor}


class DeliveryLine(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="lines")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, verbose_name=_("item"))
    quantity = models.DecimalField(_("quantity"), **QUANTITY)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["delivery", "item"], name="delivery_line_unique"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="delivery_line_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.item} × {self.quantity}"


class ProofOfDelivery(models.Model):
    class Review(models.TextChoices):
        PENDING = "pending", _("Awaiting verification")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="proofs")
    people = models.PositiveIntegerField(_("people who received"))
    households = models.PositiveIntegerField(_("households"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    delivered_at = models.DateTimeField(_("delivered"))
    review = models.CharField(max_length=10, choices=Review.choices, default=Review.PENDING)
    reject_reason = models.CharField(_("why rejected"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("proof of delivery")
        verbose_name_plural = _("proofs of delivery")
        constraints = [
            models.UniqueConstraint(
                fields=["delivery"], condition=Q(review="pending"), name="one_pending_proof"
            ),
            models.CheckConstraint(condition=Q(people__lte=1_000_000), name="proof_people_bound"),
        ]

    def __str__(self) -> str:
        return f"proof of {self.delivery.slug} ({self.get_review_display()})"


class ProofPhoto(models.Model):
    """A re-encoded photo (EXIF gone), kept as ledger evidence but published only on approval."""

    proof = models.ForeignKey(ProofOfDelivery, on_delete=models.CASCADE, related_name="photos")
    evidence_sha256 = models.CharField(max_length=64)
    position = models.PositiveSmallIntegerField(default=0)
    faces_blurred = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Faces found and blurred; empty until blurring ran."
    )

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["proof", "evidence_sha256"], name="proof_photo_unique"),
        ]

    def __str__(self) -> str:
        return self.evidence_sha256[:12]


class Handover(models.Model):
    """A short one-time code the volunteer shows at handover; a local contact confirms it on
    their own phone. Optional: a delivery never needs it."""

    delivery = models.OneToOneField(Delivery, on_delete=models.CASCADE, related_name="handover")
    code = models.CharField(max_length=6)
    expires_at = models.DateTimeField()
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_role = models.CharField(
        _("who confirmed (role, not name)"), max_length=80, blank=True
    )

    def __str__(self) -> str:
        return f"handover of {self.delivery.slug}"
