from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aidhub.uploads import clean_image, clean_receipt
from hubs.models import Hub
from ledger.money import CURRENCY_CHOICES, parse_amount

from .models import Donation, Fundraiser, PaymentMethod
from .queries import supplied_hubs
from .services import PAYMENT_FIELDS

REGION_CURRENCIES = ["KZT", "KGS", "RUB", "USD", "EUR", "GBP", "TJS", "UZS"]


def _currency_choices():
    first = [(c, c) for c in REGION_CURRENCIES]
    return first + [("", "──────")] + [c for c in CURRENCY_CHOICES if c[0] not in REGION_CURRENCIES]


class MoneyFormMixin(forms.Form):
    amount = forms.CharField(
        label=_("Amount"), max_length=24, widget=forms.TextInput(attrs={"inputmode": "decimal"})
    )
    currency = forms.ChoiceField(label=_("Currency"), choices=_currency_choices)
    manual_rate = forms.DecimalField(
        label=_("Rate your bank gave (optional)"),
        required=False,
        max_digits=20,
        decimal_places=8,
        min_value=Decimal("0.00000001"),
        help_text=_("1 unit of this currency in the fundraiser's currency. Empty: the official "
                    "rate of the day is used."),
    )  # fmt: skip

    def clean(self):
        data = super().clean()
        amount, currency = data.get("amount"), data.get("currency")
        if amount and currency:
            try:
                data["amount"] = parse_amount(amount.replace(" ", "").replace(",", "."), currency)
            except ValidationError as exc:
                self.add_error("amount", exc)
        elif "currency" in data and not currency:
            self.add_error("currency", _("Choose a currency."))
        return data


class DonationForm(MoneyFormMixin):
    received_at = forms.DateTimeField(
        label=_("Received"),
        initial=timezone.now,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    channel = forms.ChoiceField(label=_("How it came"), choices=Donation.Channel.choices)
    public_name = forms.CharField(
        label=_("Public name (optional)"), required=False, max_length=80,
        help_text=_("Only if the donor asked to be named. Empty means anonymous."),
    )  # fmt: skip
    donor_contact = forms.CharField(
        label=_("Donor's e-mail or phone (private, optional)"), required=False, max_length=120,
        help_text=_("Never published. An e-mail address gets the receipt code."),
    )  # fmt: skip
    bank_reference = forms.CharField(
        label=_("Bank reference (optional)"), required=False, max_length=60,
        help_text=_("Only the last four characters are kept."),
    )  # fmt: skip
    evidence = forms.FileField(
        label=_("Screenshot of the transfer (optional)"), required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )  # fmt: skip
    evidence_covered = forms.BooleanField(
        label=_("I covered account numbers and names on the screenshot"), required=False
    )

    def clean_evidence(self):
        upload = self.cleaned_data.get("evidence")
        return clean_image(upload) if upload else None


class ExpenseForm(MoneyFormMixin):
    notice = _(
        "Money out needs two people: a second organiser or treasurer of the group sees the "
        "receipt and approves the expense before it is published."
    )

    vendor = forms.CharField(label=_("Paid to (shop or supplier)"), max_length=120)
    paid_at = forms.DateTimeField(
        label=_("Paid"),
        initial=timezone.now,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    receipt = forms.FileField(
        label=_("Receipt (photo or PDF)"),
        widget=forms.ClearableFileInput(attrs={"accept": "image/*,application/pdf"}),
    )
    hub = forms.ModelChoiceField(
        label=_("Goods went into the stock of"), required=False,
        queryset=Hub.objects.none(),
        empty_label=_("— no hub: straight onto a delivery —"),
    )  # fmt: skip

    def __init__(self, *args, fundraiser: Fundraiser, **kwargs):
        super().__init__(*args, **kwargs)
        # Only the fundraiser's own hubs are offered; the service refuses any other.
        self.fields["hub"].queryset = supplied_hubs(fundraiser)

    def clean_receipt(self):
        return clean_receipt(self.cleaned_data["receipt"])


class CorrectionForm(forms.Form):
    reason = forms.CharField(
        label=_("What was wrong?"), max_length=300,
        help_text=_("Published with the correction, so keep names and numbers of people out."),
    )  # fmt: skip


class StatementForm(forms.Form):
    statement = forms.FileField(
        label=_("Bank statement (CSV)"),
        help_text=_("Columns: date, amount, currency, reference; optional: description."),
    )


class StatementConfirmForm(forms.Form):
    """The preview's confirm button. `rows_sha256` names the rows that page showed
    (donations.statements.statement_sha256), so a confirm from an older preview records nothing."""

    rows_sha256 = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)


# Shown above every form that writes a way to pay (the site's and the admin's).
PAYMENT_METHOD_NOTICE = _(
    "Everything you enter here is public. The details, the name of the bank or wallet and "
    "the QR code go into the public ledger and stay there forever: they cannot be edited or "
    "deleted later, only followed by a new list. The recipient's name is public on the "
    "fundraiser's page while the way to pay is shown, but is not put in the ledger."
)
PAYMENT_METHOD_QR_HELP = _(
    "A picture of the bank's or wallet's QR code. AidHub reads it and refuses a QR code that "
    "does not pay the details above. It is re-encoded, without its metadata, and published."
)


class PaymentMethodForm(forms.Form):
    """A way to pay, as the organiser enters it. The service checks it again (and that the QR
    code pays the details) and publishes the full list in the ledger."""

    notice = PAYMENT_METHOD_NOTICE

    kind = forms.ChoiceField(label=_("How donors pay"), choices=PaymentMethod.Kind.choices)
    label = forms.CharField(
        label=_("Bank, wallet or hub"), max_length=80,
        help_text=_("As donors know it, e.g. Kaspi, MBank, Optima Bank, Sports Palace desk."),
    )  # fmt: skip
    details = forms.CharField(
        label=_("Details"), max_length=200,
        help_text=_("Account or IBAN, card number, wallet phone number, or the hub's address "
                    "and hours. Public, and kept in the public ledger."),
    )  # fmt: skip
    recipient_name = forms.CharField(
        label=_("Recipient as the bank shows it (optional)"), required=False, max_length=120,
        help_text=_("Shown on the page so donors can check it before paying; not put in the "
                    "ledger."),
    )  # fmt: skip
    currency = forms.ChoiceField(label=_("Currency"), choices=_currency_choices)
    qr = forms.FileField(
        label=_("QR code (optional)"), required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
        help_text=PAYMENT_METHOD_QR_HELP,
    )  # fmt: skip
    order = forms.IntegerField(label=_("Order on the page"), min_value=0, max_value=999,
                               required=False)  # fmt: skip
    active = forms.BooleanField(label=_("Shown on the page"), required=False, initial=True)

    def __init__(self, *args, method: PaymentMethod | None = None, **kwargs):
        if method is not None:
            initial = {name: getattr(method, name) for name in PAYMENT_FIELDS}
            kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        if method is not None and method.qr_sha256:
            self.fields["qr_remove"] = forms.BooleanField(
                label=_("Remove the QR code"), required=False
            )

    def clean_qr(self):
        upload = self.cleaned_data.get("qr")
        return clean_image(upload) if upload else None

    def clean_currency(self):
        currency = self.cleaned_data["currency"]
        if not currency:
            raise ValidationError(_("Choose a currency."))
        return currency


class PaymentMethodRemoveForm(forms.Form):
    """Nothing to fill in: the page asks to confirm."""


# What a proposer is told: nothing is public until the second person approves.
WAITS_FOR_SECOND = _(
    "Proposed. It waits for a second person, another organiser or treasurer of the group: the "
    "page and the ledger change once they approve it."
)


class DecisionForm(forms.Form):
    """Approve or reject what another organiser or treasurer proposed (an expense, a change to
    the ways to pay). The services check who may and that it still waits."""

    decision = forms.ChoiceField(
        choices=[("approve", _("Approve")), ("reject", _("Reject"))], widget=forms.HiddenInput
    )
    reason = forms.CharField(
        label=_("Why reject it?"), max_length=300, required=False,
        help_text=_("Seen by the group's organisers and treasurers, not published."),
    )  # fmt: skip


class TransferForm(forms.Form):
    """Pass money to another group's fundraiser (donations.services.transfer_propose)."""

    to_fundraiser = forms.ModelChoiceField(
        label=_("To the fundraiser of another group"), queryset=Fundraiser.objects.none()
    )
    amount = forms.CharField(
        label=_("Amount"), max_length=24, widget=forms.TextInput(attrs={"inputmode": "decimal"})
    )
    manual_rate = forms.DecimalField(
        label=_("Rate you were given (optional)"),
        required=False,
        max_digits=20,
        decimal_places=8,
        min_value=Decimal("0.00000001"),
        help_text=_("1 unit of your fundraiser's currency in the receiver's. Empty: the "
                    "official rate of the day is used."),
    )  # fmt: skip
    rate_source = forms.CharField(
        label=_("Where that rate comes from"), required=False, max_length=200,
        help_text=_("The bank or exchange office and the day, e.g. “Kaspi, 2 December”. "
                    "Published in the ledger with the transfer."),
    )  # fmt: skip

    def __init__(self, *args, fundraiser: Fundraiser, targets, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = fundraiser.currency
        field = self.fields["to_fundraiser"]
        field.queryset = targets
        field.label_from_instance = lambda f: f"{f.title} ({f.group.name}, {f.currency})"
        self.fields["amount"].label = _("Amount in %(currency)s") % {"currency": self.currency}

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        return parse_amount(amount.replace(" ", "").replace(",", "."), self.currency)


class TransferAnswerForm(forms.Form):
    """Accept or decline money another group sends (the services check who may and that it
    still waits)."""

    decision = forms.ChoiceField(
        choices=[("accept", _("Accept")), ("decline", _("Decline"))], widget=forms.HiddenInput
    )
    reason = forms.CharField(label=_("Why decline it?"), max_length=300, required=False)
