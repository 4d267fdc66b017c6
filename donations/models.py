"""Fundraisers and the money through them: donations in, expenses out, gifts in kind.

Amounts keep their original currency; each row also stores the rate to its fundraiser's
currency, where the rate came from, and the converted amount. A fundraiser's sums are kept in
`FundraiserTotal` rows, written in the same transaction as each money row; `reconcile` checks
them against the rows and, independently, against the public ledger.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from aidhub.crypto import EncryptedTextField
from groups.models import Decision
from hubs.models import QUANTITY, Hub, Item, Place, Region
from ledger.money import CURRENCY_CHOICES, MINOR_UNITS
from ledger.schemas import PAYMENT_KINDS

AMOUNT = {"max_digits": 18, "decimal_places": 3}
RATE = {"max_digits": 20, "decimal_places": 8}
KNOWN_CURRENCY = Q(currency__in=list(MINOR_UNITS))


def _money_constraints(prefix: str) -> list[models.BaseConstraint]:
    return [
        models.CheckConstraint(condition=Q(amount__gt=0), name=f"{prefix}_amount_positive"),
        models.CheckConstraint(condition=KNOWN_CURRENCY, name=f"{prefix}_currency_iso4217"),
        models.CheckConstraint(condition=Q(rate__gt=0), name=f"{prefix}_rate_positive"),
        models.CheckConstraint(
            condition=Q(converted_amount__gt=0), name=f"{prefix}_converted_positive"
        ),
    ]


class Fundraiser(models.Model):
    """A collection of money for one cause. Title, story and how to donate are translated
    (donations/translation.py): `title` reads in the active language, falling back to English."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Collecting")
        CLOSED = "closed", _("Closed")

    slug = models.SlugField(_("public id"), unique=True)
    title = models.CharField(_("title"), max_length=150)
    story = models.TextField(_("story"), blank=True)
    group = models.ForeignKey(
        "groups.Group",
        on_delete=models.PROTECT,
        related_name="fundraisers",
        verbose_name=_("group"),
    )
    # The account that started it. Who may act for it follows from the group's roles
    # (groups.queries), not from this field.
    organiser = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="fundraisers",
        verbose_name=_("started by"),
    )
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("region helped")
    )
    places = models.ManyToManyField(Place, blank=True, verbose_name=_("places helped"))
    hubs = models.ManyToManyField(Hub, blank=True, verbose_name=_("hubs it supplies"))
    goal_amount = models.DecimalField(_("goal"), **AMOUNT)
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES)
    starts_on = models.DateField(_("starts"))
    ends_on = models.DateField(_("ends"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    how_to_donate = models.TextField(
        _("how to donate"),
        blank=True,
        help_text=_(
            "A note for donors, shown only when no way to pay is listed. Put account and card "
            "numbers in the ways to pay, where each change is in the public ledger."
        ),
    )

    class Meta:
        ordering = ["-starts_on"]
        verbose_name = _("fundraiser")
        verbose_name_plural = _("fundraisers")
        constraints = [
            models.CheckConstraint(condition=Q(goal_amount__gt=0), name="fundraiser_goal_positive"),
            models.CheckConstraint(condition=KNOWN_CURRENCY, name="fundraiser_currency_iso4217"),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="fundraiser_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("donations:fundraiser", args=[self.slug])

    @property
    def canonical_title(self) -> str:
        """The English title: the one the ledger signs, whatever language the writer reads."""
        return self.title_en or ""

    def ledger_ref(self) -> dict:
        return {"id": self.slug, "title": self.canonical_title}


class PaymentMethod(models.Model):
    """One way to pay a fundraiser, as data the page shows and the ledger records.

    Written only by the services in `donations.services`: payment_method_add/_change/_remove
    propose a change (PaymentMethodProposal) and a second organiser or treasurer approves it
    (payment_proposal_approve), which appends a `payment_details` ledger entry with the full
    current list, so a swapped account number is public.
    """

    class Kind(models.TextChoices):
        BANK_TRANSFER = "bank_transfer", _("Bank transfer")
        CARD_TO_CARD = "card_to_card", _("Card to card")
        E_WALLET = "e_wallet", _("E-wallet")
        CASH_AT_HUB = "cash_at_hub", _("Cash at a hub")
        OTHER = "other", _("Other")

    fundraiser = models.ForeignKey(
        Fundraiser,
        on_delete=models.CASCADE,
        related_name="payment_methods",
        verbose_name=_("fundraiser"),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    label = models.CharField(
        _("name"), max_length=80, help_text=_("The bank or wallet, e.g. Kaspi, MBank, Optima.")
    )
    details = models.CharField(
        _("details"),
        max_length=200,
        help_text=_("Account or IBAN, card number, wallet phone number, or the hub and its hours."),
    )
    recipient_name = models.CharField(
        _("recipient as shown"),
        max_length=120,
        blank=True,
        help_text=_("The name the donor's bank shows for these details. Shown on the page only."),
    )
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES)
    # The QR image is ledger evidence (re-encoded by aidhub.uploads.clean_image): published
    # with the entry that lists it, served at /ledger/evidence/<sha256>/.
    qr_sha256 = models.CharField(_("QR code (SHA-256)"), max_length=64, blank=True)
    # Set by the services once the QR code was decoded and found to pay `details`
    # (donations.qrcheck); a QR code kept from before that check stays unmarked on the page.
    qr_checked = models.BooleanField(_("QR code checked against the details"), default=False)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    active = models.BooleanField(_("shown"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["fundraiser", "order", "id"]
        verbose_name = _("way to pay")
        verbose_name_plural = _("ways to pay")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=PAYMENT_KINDS),
                name="payment_method_kind_known",
            ),
            models.CheckConstraint(
                condition=KNOWN_CURRENCY, name="payment_method_currency_iso4217"
            ),
            models.CheckConstraint(
                condition=~Q(label="") & ~Q(details=""), name="payment_method_label_details"
            ),
            models.UniqueConstraint(
                fields=["fundraiser", "kind", "details", "currency"],
                condition=Q(active=True),
                name="payment_method_unique_shown",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label}: {self.details} ({self.currency})"

    def ledger_line(self) -> dict:
        """What the ledger records of this method. The recipient's name stays out: the ledger
        can never forget a name, the page can (see docs/organisers.md)."""
        line = {
            "kind": self.kind,
            "label": self.label,
            "details": self.details,
            "currency": self.currency,
        }
        if self.qr_sha256:
            line["qr"] = self.qr_sha256
        return line


class MoneyRow(models.Model):
    """What donations and expenses share: the original amount and its conversion."""

    fundraiser = models.ForeignKey(Fundraiser, on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(_("amount"), **AMOUNT)
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES)
    rate = models.DecimalField(_("rate to the fundraiser's currency"), **RATE)
    rate_source = models.CharField(_("where the rate came from"), max_length=100)
    converted_amount = models.DecimalField(_("in the fundraiser's currency"), **AMOUNT)
    ledger_index = models.BigIntegerField(_("ledger entry"), unique=True)
    corrected_by_index = models.BigIntegerField(
        _("reversed by ledger entry"), null=True, blank=True, unique=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        abstract = True

    @property
    def is_corrected(self) -> bool:
        return self.corrected_by_index is not None


class Donation(MoneyRow):
    class Channel(models.TextChoices):
        BANK_TRANSFER = "bank_transfer", _("Bank transfer")
        CARD = "card", _("Card")
        CASH = "cash", _("Cash")
        E_WALLET = "e_wallet", _("E-wallet")
        OTHER = "other", _("Other")

    fundraiser = models.ForeignKey(
        Fundraiser, on_delete=models.PROTECT, related_name="donations", verbose_name=_("fundraiser")
    )
    received_at = models.DateTimeField(_("received"))
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    public_name = models.CharField(
        _("public name"),
        max_length=80,
        blank=True,
        help_text=_("Only if the donor asked to be named. Empty means anonymous."),
    )
    # Encrypted at rest and erased after DONOR_CONTACT_DAYS (donor_contacts_purge); reads back
    # as plain text.
    donor_contact = EncryptedTextField(
        _("donor's contact (private)"),
        max_length=120,
        blank=True,
        help_text=_("Never published. Used only to send the donor their receipt code."),
    )
    bank_reference = models.CharField(
        _("bank reference (masked)"),
        max_length=40,
        blank=True,
        help_text=_("Kept masked: only the last four characters are stored."),
    )
    evidence_sha256 = models.CharField(max_length=64, blank=True)
    receipt_code = models.CharField(_("receipt code"), max_length=16, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("donation")
        verbose_name_plural = _("donations")
        constraints = _money_constraints("donation")

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} → {self.fundraiser}"


class Expense(MoneyRow):
    fundraiser = models.ForeignKey(
        Fundraiser, on_delete=models.PROTECT, related_name="expenses", verbose_name=_("fundraiser")
    )
    vendor = models.CharField(_("paid to"), max_length=120)
    paid_at = models.DateTimeField(_("paid"))
    hub = models.ForeignKey(
        Hub,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("goods went to hub"),
        help_text=_("Leave empty when the goods went straight onto a delivery."),
    )
    receipt_sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["-paid_at", "-id"]
        verbose_name = _("expense")
        verbose_name_plural = _("expenses")
        constraints = _money_constraints("expense")

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} → {self.vendor}"


class FundraiserTotal(models.Model):
    """A fundraiser's live money in one original currency: what its donations and expenses that
    no correction reversed add up to, in that currency and converted to the fundraiser's.

    Written only by `services.fundraiser_total_add`, in the transaction of each donation,
    expense and correction (and `seed_scale`'s bulk rows), as the ledger keeps `LedgerTotal`:
    the fundraiser's page reads a few of these rows instead of summing its donations.
    `reconcile` checks them against the money rows and the ledger."""

    fundraiser = models.ForeignKey(
        Fundraiser, on_delete=models.CASCADE, related_name="money_totals"
    )
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES)
    raised = models.DecimalField(_("raised"), default=0, **AMOUNT)
    raised_converted = models.DecimalField(
        _("raised, in the fundraiser's currency"), default=0, **AMOUNT
    )
    donations = models.PositiveIntegerField(_("donations"), default=0)
    spent = models.DecimalField(_("spent"), default=0, **AMOUNT)
    spent_converted = models.DecimalField(
        _("spent, in the fundraiser's currency"), default=0, **AMOUNT
    )
    expenses = models.PositiveIntegerField(_("expenses"), default=0)
    # Money from and to other groups' fundraisers (MoneyTransfer, once accepted): a transfer
    # is neither a donation nor an expense. `received` is in this row's currency (the
    # sender's), `sent` in the fundraiser's own.
    received = models.DecimalField(_("received from other groups"), default=0, **AMOUNT)
    received_converted = models.DecimalField(
        _("received, in the fundraiser's currency"), default=0, **AMOUNT
    )
    transfers_in = models.PositiveIntegerField(_("transfers received"), default=0)
    sent = models.DecimalField(_("passed on to other groups"), default=0, **AMOUNT)
    sent_converted = models.DecimalField(
        _("passed on, in the fundraiser's currency"), default=0, **AMOUNT
    )
    transfers_out = models.PositiveIntegerField(_("transfers passed on"), default=0)

    class Meta:
        verbose_name = _("fundraiser total")
        verbose_name_plural = _("fundraiser totals")
        constraints = [
            models.UniqueConstraint(
                fields=["fundraiser", "currency"], name="fundraiser_total_unique"
            ),
            models.CheckConstraint(condition=KNOWN_CURRENCY, name="fundraiser_total_iso4217"),
            models.CheckConstraint(
                condition=Q(
                    raised__gte=0,
                    raised_converted__gte=0,
                    spent__gte=0,
                    spent_converted__gte=0,
                    received__gte=0,
                    received_converted__gte=0,
                    sent__gte=0,
                    sent_converted__gte=0,
                ),
                name="fundraiser_total_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.fundraiser_id} {self.currency}"


class ExpenseReceiptOriginal(models.Model):
    """The PDF an organiser uploaded as a receipt, as it came. Never published and served by
    no view: its metadata (author, XMP) can name people, and its scripts and links are not
    ours to vet. The ledger commits to the image of its pages (`Expense.receipt_sha256`).
    Kept in the database rather than the media storage, so no URL or bucket policy can
    expose it."""

    expense = models.OneToOneField(
        Expense, on_delete=models.CASCADE, related_name="receipt_original"
    )
    data = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("original receipt file")
        verbose_name_plural = _("original receipt files")

    def __str__(self) -> str:
        return self.sha256[:12]


class ExpenseLine(models.Model):
    expense = models.ForeignKey(Expense, on_delete=models.CASCADE, related_name="lines")
    item = models.ForeignKey(Item, on_delete=models.PROTECT)
    quantity = models.DecimalField(**QUANTITY)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="expense_line_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.item} × {self.quantity}"


class GiftInKind(models.Model):
    """Goods given to a hub (sleeping bags from a workshop, nappies from a family)."""

    hub = models.ForeignKey(Hub, on_delete=models.PROTECT, related_name="gifts")
    public_name = models.CharField(_("public name"), max_length=80, blank=True)
    ledger_index = models.BigIntegerField(_("ledger entry"), unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        verbose_name = _("gift in kind")
        verbose_name_plural = _("gifts in kind")

    def __str__(self) -> str:
        return f"{self.public_name or _('anonymous')} → {self.hub}"


class ExchangeRate(models.Model):
    """How many units of `quote` one unit of `base` was worth on a day, and who said so."""

    class Source(models.TextChoices):
        NBKR = "nbkr", _("National Bank of the Kyrgyz Republic")
        MANUAL = "manual", _("Entered by hand")

    date = models.DateField()
    base = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    quote = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    rate = models.DecimalField(**RATE)
    source = models.CharField(max_length=10, choices=Source.choices)
    fetched_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date"]
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        constraints = [
            models.UniqueConstraint(
                fields=["date", "base", "quote", "source"], name="exchange_rate_unique"
            ),
            models.CheckConstraint(condition=Q(rate__gt=0), name="exchange_rate_positive"),
            models.CheckConstraint(
                condition=~Q(base=models.F("quote")), name="rate_two_currencies"
            ),
        ]
        indexes = [models.Index(fields=["base", "quote", "-date"])]

    def __str__(self) -> str:
        return f"1 {self.base} = {self.rate} {self.quote} ({self.date}, {self.source})"


# Two people for every payment ----------------------------------------------------------------
# An expense, and every change to a fundraiser's ways to pay, is first a proposal by one money
# person of the fundraiser's group (an active organiser or treasurer); only a second, different
# one makes it public by approving it. Until then nothing is in the ledger, the receipt and the
# QR code are kept here, in the database, served to no one but the group's money people.


class Proposal(Decision):
    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for a second person")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    fundraiser = models.ForeignKey(
        Fundraiser, on_delete=models.CASCADE, related_name="+", verbose_name=_("fundraiser")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    # The role the second person acted in ("organiser", "treasurer", or for a hand-over with
    # one person left "site_administrator"): what the ledger names.
    decided_role = models.CharField(_("decided as"), max_length=24, blank=True)

    class Meta:
        abstract = True


def _proposal_constraints(prefix: str) -> list[models.BaseConstraint]:
    pending = Q(status="pending", decided_at__isnull=True)
    decided = Q(status__in=["approved", "rejected"], decided_at__isnull=False)
    return [
        models.CheckConstraint(condition=pending | decided, name=f"{prefix}_status_decided"),
        models.CheckConstraint(
            condition=~Q(status="rejected") | ~Q(reason=""), name=f"{prefix}_rejected_reason"
        ),
    ]


class ExpenseProposal(Proposal):
    """An expense as one money person proposed it, with its receipt, until a second one
    approves it (then `donations.services.expense_record` writes the public expense) or
    either rejects it (then the receipt's bytes are deleted)."""

    fundraiser = models.ForeignKey(
        Fundraiser,
        on_delete=models.CASCADE,
        related_name="expense_proposals",
        verbose_name=_("fundraiser"),
    )
    vendor = models.CharField(_("paid to"), max_length=120)
    amount = models.DecimalField(_("amount"), **AMOUNT)
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES)
    paid_at = models.DateTimeField(_("paid"))
    manual_rate = models.DecimalField(_("rate the bank gave"), null=True, blank=True, **RATE)
    hub = models.ForeignKey(
        Hub,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("goods go to hub"),
    )
    # [{"item": item id, "quantity": "50"}], checked again on approval.
    lines = models.JSONField(default=list, blank=True)
    # The receipt as aidhub.uploads.clean_receipt left it (what approval publishes), and a PDF
    # receipt's original (kept private after approval too, as ExpenseReceiptOriginal).
    receipt = models.BinaryField(default=b"", editable=False)
    receipt_type = models.CharField(max_length=40, editable=False)
    receipt_original = models.BinaryField(default=b"", editable=False)
    expense = models.OneToOneField(
        Expense,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="proposal",
        verbose_name=_("expense"),
    )

    class Meta:
        ordering = ["-proposed_at", "-id"]
        verbose_name = _("proposed expense")
        verbose_name_plural = _("proposed expenses")
        constraints = [
            *_proposal_constraints("expense_proposal"),
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="expense_proposal_amount_positive"
            ),
            models.CheckConstraint(
                condition=KNOWN_CURRENCY, name="expense_proposal_currency_iso4217"
            ),
            models.CheckConstraint(
                condition=~Q(status="approved") | Q(expense__isnull=False),
                name="expense_proposal_approved_has_expense",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} → {self.vendor} ({self.get_status_display()})"


class PaymentMethodProposal(Proposal):
    """A way to pay added, changed or removed, as one money person proposed it, until a second
    one approves it (then the `payment_details` ledger entry is written and the page changes)
    or either rejects it."""

    class Action(models.TextChoices):
        ADD = "add", _("Add")
        CHANGE = "change", _("Change")
        REMOVE = "remove", _("Remove")

    fundraiser = models.ForeignKey(
        Fundraiser,
        on_delete=models.CASCADE,
        related_name="payment_proposals",
        verbose_name=_("fundraiser"),
    )
    action = models.CharField(_("what"), max_length=6, choices=Action.choices)
    method = models.ForeignKey(
        PaymentMethod,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="proposals",
        verbose_name=_("way to pay"),
    )
    # The way to pay's fields as they were when proposed (empty for an addition) and as they
    # would be (empty for a removal): what the second person compares, and what approval checks
    # has not changed meanwhile.
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    # A new QR code, re-encoded, kept here until approval publishes it.
    qr = models.BinaryField(default=b"", editable=False)
    qr_type = models.CharField(max_length=40, blank=True, editable=False)
    qr_remove = models.BooleanField(default=False)
    ledger_index = models.BigIntegerField(_("ledger entry"), null=True, blank=True)

    class Meta:
        ordering = ["-proposed_at", "-id"]
        verbose_name = _("proposed change to a way to pay")
        verbose_name_plural = _("proposed changes to ways to pay")
        constraints = [
            *_proposal_constraints("payment_proposal"),
            models.CheckConstraint(
                condition=Q(action__in=["add", "change", "remove"]),
                name="payment_proposal_action_known",
            ),
        ]

    def __str__(self) -> str:
        label = self.after.get("label") or self.before.get("label") or ""
        return f"{self.get_action_display()} {label} ({self.get_status_display()})"


class MoneyTransfer(Proposal):
    """Money a fundraiser of one group passes to a fundraiser of another group. Proposed by one
    money person of the sending group, approved by a second one (the two-person rule of
    `Proposal`: `status`, `decided_*`), then accepted or declined by a money person of the
    receiving group (`acceptance`). Only acceptance writes the `money_transfer` ledger entry
    and the two fundraisers' totals: nothing enters the other group's books before."""

    class Acceptance(models.TextChoices):
        WAITING = "waiting", _("Waiting for the receiving group")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")

    fundraiser = models.ForeignKey(
        Fundraiser,
        on_delete=models.PROTECT,
        related_name="transfers_out",
        verbose_name=_("from fundraiser"),
    )
    to_fundraiser = models.ForeignKey(
        Fundraiser,
        on_delete=models.PROTECT,
        related_name="transfers_in",
        verbose_name=_("to fundraiser"),
    )
    # In the sending fundraiser's currency; converted into the receiver's at the rate taken
    # when it was proposed, which the second person and the receiving group both see.
    amount = models.DecimalField(_("amount"), **AMOUNT)
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES)
    rate = models.DecimalField(_("exchange rate"), **RATE)
    rate_source = models.CharField(_("rate source"), max_length=200)
    converted_amount = models.DecimalField(_("amount received"), **AMOUNT)
    acceptance = models.CharField(
        _("receiving group"), max_length=10, choices=Acceptance.choices,
        default=Acceptance.WAITING,
    )  # fmt: skip
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("answered by"),
    )
    # The role the receiving group's money person answered in: what the ledger names.
    answered_role = models.CharField(_("answered as"), max_length=12, blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    decline_reason = models.CharField(_("why it was declined"), max_length=300, blank=True)
    ledger_index = models.BigIntegerField(_("ledger entry"), null=True, blank=True, unique=True)

    class Meta:
        ordering = ["-proposed_at", "-id"]
        verbose_name = _("money transfer to another group")
        verbose_name_plural = _("money transfers to other groups")
        constraints = [
            *_proposal_constraints("money_transfer"),
            *_money_constraints("money_transfer"),
            models.CheckConstraint(
                condition=~Q(fundraiser=models.F("to_fundraiser")),
                name="money_transfer_two_fundraisers",
            ),
            models.CheckConstraint(
                condition=Q(acceptance="waiting", answered_at__isnull=True)
                | Q(
                    status="approved",
                    acceptance__in=["accepted", "declined"],
                    answered_at__isnull=False,
                ),
                name="money_transfer_answered_after_approval",
            ),
            models.CheckConstraint(
                condition=~Q(acceptance="accepted") | Q(ledger_index__isnull=False),
                name="money_transfer_accepted_has_entry",
            ),
            models.CheckConstraint(
                condition=~Q(acceptance="declined") | ~Q(decline_reason=""),
                name="money_transfer_declined_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} → {self.to_fundraiser} ({self.get_status_display()})"

    @property
    def is_waiting_for_receiver(self) -> bool:
        return self.status == self.Status.APPROVED and self.acceptance == self.Acceptance.WAITING


class GoodsOffer(models.Model):
    """An approved purchase's goods on their way into the stock of a hub of another group:
    they enter it only when one of that hub's coordinators accepts (services.goods_accept).
    Nothing enters another group's books without its consent."""

    class Status(models.TextChoices):
        PENDING = "pending", _("On its way, waiting for the hub")
        ACCEPTED = "accepted", _("Accepted into stock")
        DECLINED = "declined", _("Declined")
        WITHDRAWN = "withdrawn", _("Withdrawn: the purchase was reversed")

    expense = models.OneToOneField(
        Expense, on_delete=models.PROTECT, related_name="goods_offer", verbose_name=_("expense")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    created_at = models.DateTimeField(_("sent"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    reason = models.CharField(_("why it was declined"), max_length=300, blank=True)
    # The hub's intake entry, written at acceptance.
    intake_index = models.PositiveBigIntegerField(_("intake entry"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("goods on their way to a hub")
        verbose_name_plural = _("goods on their way to a hub")
        constraints = [
            models.CheckConstraint(
                condition=Q(status="pending", decided_at__isnull=True)
                | Q(status__in=["accepted", "declined", "withdrawn"], decided_at__isnull=False),
                name="goods_offer_status_decided",
            ),
            models.CheckConstraint(
                condition=~Q(status="accepted") | Q(intake_index__isnull=False),
                name="goods_offer_accepted_has_entry",
            ),
            models.CheckConstraint(
                condition=~Q(status="declined") | ~Q(reason=""),
                name="goods_offer_declined_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.expense} → {self.expense.hub} ({self.get_status_display()})"


class FundraiserHandover(Proposal):
    """A fundraiser whose organiser is gone (unreachable, removed) handed to another member of
    its group: proposed by one of the group's remaining money people, agreed by a second one
    (or, when only one is left, confirmed by a site administrator), then accepted by the new
    holder, who becomes its organiser. Only acceptance writes the public `fundraiser_handover`
    entry (services.handover_accept)."""

    class Answer(models.TextChoices):
        WAITING = "waiting", _("Waiting for the new organiser")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")

    fundraiser = models.ForeignKey(
        Fundraiser, on_delete=models.CASCADE, related_name="handovers",
        verbose_name=_("fundraiser"),
    )  # fmt: skip
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
        verbose_name=_("handed to"),
    )  # fmt: skip
    # "organiser", "treasurer" or "site_administrator": what the ledger names.
    proposed_role = models.CharField(_("proposed as"), max_length=20)
    answer = models.CharField(
        _("answer"), max_length=10, choices=Answer.choices, default=Answer.WAITING
    )
    named_publicly = models.BooleanField(_("named publicly"), default=False)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    ledger_index = models.PositiveBigIntegerField(_("ledger entry"), null=True, blank=True)

    class Meta:
        ordering = ["-proposed_at", "-id"]
        verbose_name = _("fundraiser hand-over")
        verbose_name_plural = _("fundraiser hand-overs")
        constraints = [
            *_proposal_constraints("fundraiser_handover"),
            models.CheckConstraint(
                condition=Q(answer="waiting", answered_at__isnull=True)
                | Q(
                    status="approved",
                    answer__in=["accepted", "declined"],
                    answered_at__isnull=False,
                ),
                name="fundraiser_handover_answered_after_approval",
            ),
            models.CheckConstraint(
                condition=~Q(answer="accepted") | Q(ledger_index__isnull=False),
                name="fundraiser_handover_accepted_has_entry",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.fundraiser} → {self.to_user} ({self.get_status_display()})"
