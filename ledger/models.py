"""The public ledger's tables.

`LedgerEntry` is append-only: the database refuses UPDATE and DELETE (triggers made by migration
0002). Everything else here is derived from the entries and can be rebuilt from them: the stored
Merkle subtree hashes, the filter references, the running totals and the signed checkpoints.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from .schemas import KINDS


class LedgerHead(models.Model):
    """One row holding the tree size. Appends lock it, so indexes are gapless and unique."""

    size = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="ledger_head_single_row"),
            models.CheckConstraint(condition=models.Q(size__gte=0), name="ledger_head_size_gte_0"),
        ]

    def __str__(self) -> str:
        return f"ledger head at size {self.size}"


class LedgerEntry(models.Model):
    class Direction(models.TextChoices):
        IN = "in", _("money in")
        OUT = "out", _("money out")

    index = models.BigIntegerField(primary_key=True)
    kind = models.CharField(max_length=24, choices=[(k, k) for k in KINDS])
    leaf = models.BinaryField(help_text="RFC 8785 canonical JSON: the exact bytes that are hashed")
    leaf_hash = models.BinaryField(max_length=32)
    created_at = models.DateTimeField()
    # Derived from the payload at append time, for filters and totals; never public on their own.
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    direction = models.CharField(max_length=3, choices=Direction.choices, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    amount = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        indexes = [
            models.Index(fields=["kind", "index"]),
            models.Index(fields=["created_at"]),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(index__gte=0), name="ledger_index_gte_0"),
            models.CheckConstraint(
                condition=models.Q(kind__in=KINDS), name="ledger_entry_kind_known"
            ),
            models.CheckConstraint(
                condition=models.Q(reverses__isnull=True)
                | models.Q(reverses__lt=models.F("index")),
                name="ledger_correction_reverses_earlier_entry",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.index} {self.kind}"


class LedgerRef(models.Model):
    """Which fundraiser, hub or place an entry concerns (an entry can concern several)."""

    class Scope(models.TextChoices):
        FUNDRAISER = "fundraiser", _("fundraiser")
        HUB = "hub", _("hub")
        PLACE = "place", _("place")

    entry = models.ForeignKey(LedgerEntry, on_delete=models.CASCADE, related_name="refs")
    scope = models.CharField(max_length=12, choices=Scope.choices)
    ref = models.CharField(max_length=64)
    label = models.CharField(max_length=200)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "ref", "entry"], name="ledger_ref_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.ref} in #{self.entry_id}"


class LedgerTotal(models.Model):
    """Running money totals per scope and currency, kept in the append's transaction so the
    ledger page never sums a million rows. `scope` "all" with ref "" is the whole ledger."""

    scope = models.CharField(max_length=12)
    ref = models.CharField(max_length=64, blank=True)
    currency = models.CharField(max_length=3)
    money_in = models.DecimalField(max_digits=24, decimal_places=4, default=0)
    money_out = models.DecimalField(max_digits=24, decimal_places=4, default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "ref", "currency"], name="ledger_total_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.ref} {self.currency}"


class TreeNode(models.Model):
    """Hash of the complete subtree of 2**level leaves starting at leaf position*2**level."""

    pk = models.CompositePrimaryKey("level", "position")
    level = models.PositiveSmallIntegerField()
    position = models.BigIntegerField()
    hash = models.BinaryField(max_length=32)

    def __str__(self) -> str:
        return f"node {self.level}/{self.position}"


class Checkpoint(models.Model):
    """A signed statement of the tree at one size (C2SP tlog-checkpoint in a signed note)."""

    size = models.BigIntegerField(unique=True)
    root_hash = models.BinaryField(max_length=32)
    note = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        get_latest_by = "size"
        constraints = [
            models.CheckConstraint(condition=models.Q(size__gte=0), name="checkpoint_size_gte_0"),
        ]

    def __str__(self) -> str:
        return f"checkpoint {self.size}"


class Evidence(models.Model):
    """A published file (receipt, photo), committed to by the SHA-256 of its exact bytes.

    It is served at /ledger/evidence/<sha256> only once an entry names it (`published`), so a
    proof photo waiting for a coordinator's approval is never public."""

    sha256 = models.CharField(max_length=64, primary_key=True)
    file = models.FileField(upload_to="evidence/")
    content_type = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    thumbnail = models.FileField(upload_to="evidence/thumbs/", blank=True)
    published = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("evidence file")
        verbose_name_plural = _("evidence files")

    def __str__(self) -> str:
        return self.sha256


class ReceiptCode(models.Model):
    """A short code a donor keeps to find their own entry; the entry itself names nobody."""

    code = models.CharField(max_length=16, primary_key=True)
    entry = models.ForeignKey(LedgerEntry, on_delete=models.PROTECT, related_name="receipts")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.code
