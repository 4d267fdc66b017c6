"""Hubs, places, the item catalogue, stock and supply requests.

Stock is a running level per hub and item, changed only by `hubs.services` in the same
transaction as the StockMovement that explains it. The database refuses a level below zero.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

MAX_QUANTITY = Decimal("1000000")  # more than this in one line is a typo, not a delivery
QUANTITY = {"max_digits": 12, "decimal_places": 3}


class Category(models.TextChoices):
    FOOD = "food", _("Food")
    WATER = "water", _("Water")
    CLOTHING = "clothing", _("Clothing")
    MEDICAL = "medical", _("Medicine and medical supplies")
    HYGIENE = "hygiene", _("Hygiene")
    BABY = "baby", _("Baby care")
    SHELTER = "shelter", _("Shelter and sleeping")
    OTHER = "other", _("Other")


class Unit(models.TextChoices):
    # Short labels read after a number: "5 pcs", "40 packs", "300 l".
    PIECE = "piece", pgettext_lazy("unit", "pcs")
    KG = "kg", pgettext_lazy("unit", "kg")
    LITRE = "litre", pgettext_lazy("unit", "l")
    BOX = "box", pgettext_lazy("unit", "boxes")
    PACK = "pack", pgettext_lazy("unit", "packs")


class CanonicalName:
    """Names are translated (hubs/translation.py, django-modeltranslation): `name` reads in the
    active language, falling back to English. The English name is the canonical one: the
    ledger signs it, exports and imports use it, whatever language the writer reads."""

    @property
    def canonical_name(self) -> str:
        return self.name_en or ""


class Region(models.Model):
    """An oblast (or a city of national significance) that places belong to."""

    slug = models.SlugField(unique=True)
    name = models.CharField(_("name"), max_length=100)
    country = models.CharField(_("country"), max_length=2, default="KG")

    class Meta:
        ordering = ["name"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")

    def __str__(self) -> str:
        return self.name


class Place(CanonicalName, models.Model):
    class Kind(models.TextChoices):
        VILLAGE = "village", _("Village")
        TOWN = "town", _("Town")
        EVACUATION_CENTRE = "evacuation_centre", _("Evacuation centre")
        HOSPITAL = "hospital", _("Hospital")
        BORDER_POST = "border_post", _("Border post")

    slug = models.SlugField(_("public id"), unique=True)
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.VILLAGE)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, verbose_name=_("region"))
    district = models.CharField(_("district"), max_length=100, blank=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    population_displaced = models.PositiveIntegerField(_("people displaced"), null=True, blank=True)
    last_delivery_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("place")
        verbose_name_plural = _("places")
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90),
                name="place_latitude_range",
            ),
            models.CheckConstraint(
                condition=Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180),
                name="place_longitude_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("hubs:place", args=[self.slug])

    def ledger_ref(self) -> dict:
        """How the public ledger names this place."""
        ref = {"id": self.slug, "name": self.canonical_name, "region": self.region.name}
        return ref | ({"district": self.district} if self.district else {})


class Item(CanonicalName, models.Model):
    """A kind of goods in the catalogue. The name has a translation per UI language
    (name_en, name_ru, … added by hubs/translation.py)."""

    slug = models.SlugField(_("public id"), unique=True)
    name = models.CharField(_("name"), max_length=100)
    category = models.CharField(_("category"), max_length=10, choices=Category.choices)
    unit = models.CharField(_("unit"), max_length=10, choices=Unit.choices)

    class Meta:
        ordering = ["category", "name"]
        verbose_name = _("item")
        verbose_name_plural = _("items")

    def __str__(self) -> str:
        return self.name

    @property
    def local_name(self) -> str:
        """The name in the active language (an alias of `name`, kept for older templates)."""
        return self.name

    def ledger_line(self, quantity: Decimal) -> dict:
        return {
            "item": self.slug,
            "name": self.canonical_name,
            "quantity": format_quantity(quantity),
            "unit": self.unit,
            "category": self.category,
        }


def format_quantity(quantity: Decimal) -> str:
    """Plain decimal text without trailing zeros: 50, 2.5, never 5E+1."""
    return f"{quantity.normalize():f}"


class Hub(CanonicalName, models.Model):
    class Kind(models.TextChoices):
        CENTRAL = "central", _("Central hub")
        COLLECTION_POINT = "collection_point", _("Collection point")
        WAREHOUSE = "warehouse", _("Warehouse")

    slug = models.SlugField(_("public id"), unique=True)
    name = models.CharField(_("name"), max_length=120)
    group = models.ForeignKey(
        "groups.Group", on_delete=models.PROTECT, related_name="hubs", verbose_name=_("group")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, verbose_name=_("region"))
    address = models.CharField(_("address"), max_length=200)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    opening_hours = models.CharField(_("opening hours"), max_length=200, blank=True)
    public_contact = models.CharField(
        _("public contact"),
        max_length=100,
        blank=True,
        help_text=_("A phone number or Telegram handle that the hub chose to publish."),
    )
    accepts = models.JSONField(
        _("accepts now"), default=list, blank=True, help_text=_("Item categories it takes now.")
    )
    surplus_items = models.ManyToManyField(
        Item,
        blank=True,
        related_name="surplus_at",
        verbose_name=_("has too much of"),
        help_text=_("Items people should not bring here for now."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = _("hub")
        verbose_name_plural = _("hubs")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("hubs:hub", args=[self.slug])

    def ledger_ref(self) -> dict:
        return {"id": self.slug, "name": self.canonical_name}

    def accepted_labels(self) -> list[str]:
        labels = dict(Category.choices)
        return [str(labels[c]) for c in self.accepts if c in labels]


class Membership(models.Model):
    class Role(models.TextChoices):
        COORDINATOR = "coordinator", _("Coordinator")
        VOLUNTEER = "volunteer", _("Volunteer")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    hub = models.ForeignKey(Hub, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=12, choices=Role.choices)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "hub", "role"], name="membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.hub}"


class StockLevel(models.Model):
    """What a hub holds of an item now. Kept with its movements; never below zero."""

    hub = models.ForeignKey(Hub, on_delete=models.PROTECT, related_name="stock")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="stock")
    quantity = models.DecimalField(_("quantity"), **QUANTITY, default=Decimal(0))

    class Meta:
        verbose_name = _("stock level")
        verbose_name_plural = _("stock levels")
        constraints = [
            models.UniqueConstraint(fields=["hub", "item"], name="stock_level_unique"),
            models.CheckConstraint(condition=Q(quantity__gte=0), name="stock_never_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.item} at {self.hub}: {format_quantity(self.quantity)}"


class StockMovement(models.Model):
    class Kind(models.TextChoices):
        INTAKE = "intake", _("Goods received")
        PURCHASE = "purchase", _("Purchase")
        DISPATCH = "dispatch", _("Dispatch")
        TRANSFER_IN = "transfer_in", _("Transfer in")
        TRANSFER_OUT = "transfer_out", _("Transfer out")
        ADJUSTMENT = "adjustment", _("Adjustment")
        RETURN = "return", _("Returned")

    hub = models.ForeignKey(Hub, on_delete=models.PROTECT, related_name="movements")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="movements")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    quantity = models.DecimalField(
        _("quantity"), **QUANTITY, help_text=_("Positive comes in, negative goes out.")
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    reference = models.CharField(_("reference"), max_length=64, blank=True)
    ledger_index = models.BigIntegerField(_("ledger entry"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("stock movement")
        verbose_name_plural = _("stock movements")
        constraints = [
            models.CheckConstraint(condition=~Q(quantity=0), name="movement_not_zero"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {format_quantity(self.quantity)} {self.item}"


class SupplyRequest(models.Model):
    class Urgency(models.IntegerChoices):
        # Ordered so that sorting ascending puts the most urgent first.
        CRITICAL = 1, _("Critical")
        HIGH = 2, _("High")
        NORMAL = 3, _("Normal")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        PARTLY = "partly_fulfilled", _("Partly fulfilled")
        FULFILLED = "fulfilled", _("Fulfilled")
        CANCELLED = "cancelled", _("Cancelled")

    place = models.ForeignKey(
        Place, on_delete=models.PROTECT, related_name="requests", verbose_name=_("place")
    )
    hub = models.ForeignKey(
        Hub,
        on_delete=models.PROTECT,
        related_name="requests",
        verbose_name=_("hub"),
        help_text=_("The hub whose coordinators handle this request."),
    )
    urgency = models.PositiveSmallIntegerField(
        _("urgency"), choices=Urgency.choices, default=Urgency.NORMAL
    )
    needed_by = models.DateField(_("needed by"), null=True, blank=True)
    note = models.CharField(_("public note"), max_length=300, blank=True)
    requester_contact = models.CharField(
        _("requester's contact"),
        max_length=200,
        blank=True,
        help_text=_("Private: only coordinators see it."),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.OPEN
    )
    cancel_reason = models.CharField(_("why cancelled"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("filed"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["urgency", "created_at"]
        verbose_name = _("supply request")
        verbose_name_plural = _("supply requests")
        indexes = [models.Index(fields=["status", "urgency", "created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(urgency__in=[1, 2, 3]), name="request_urgency_known"
            ),
        ]

    def __str__(self) -> str:
        return _("Request %(id)s from %(place)s") % {"id": self.pk, "place": self.place}

    def get_absolute_url(self) -> str:
        return reverse("hubs:place", args=[self.place.slug]) + f"#request-{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.OPEN, self.Status.PARTLY)


class SupplyRequestLine(models.Model):
    request = models.ForeignKey(SupplyRequest, on_delete=models.CASCADE, related_name="lines")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, verbose_name=_("item"))
    quantity = models.DecimalField(_("quantity"), **QUANTITY)
    delivered = models.DecimalField(_("delivered"), **QUANTITY, default=Decimal(0))

    class Meta:
        verbose_name = _("requested item")
        verbose_name_plural = _("requested items")
        constraints = [
            models.UniqueConstraint(fields=["request", "item"], name="request_line_unique"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="request_line_positive"),
            models.CheckConstraint(condition=Q(delivered__gte=0), name="request_delivered_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.item} × {format_quantity(self.quantity)}"

    @property
    def outstanding(self) -> Decimal:
        return max(self.quantity - self.delivered, Decimal(0))
