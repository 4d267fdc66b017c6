"""Money as AidHub writes it: a Decimal with an ISO 4217 currency, exact to the minor unit.

Too many decimals is an error, never a silent rounding. Shared by the ledger and the domain apps.
"""

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# ISO 4217 active codes and their minor units (digits after the point). The region's currencies
# come first; the rest is the full list so a donor from anywhere can be recorded.
MINOR_UNITS: dict[str, int] = {
    "KGS": 2, "KZT": 2, "RUB": 2, "USD": 2, "EUR": 2, "GBP": 2, "TJS": 2, "UZS": 2, "TRY": 2,
    "CNY": 2, "AED": 2, "AFN": 2, "ALL": 2, "AMD": 2, "ANG": 2, "AOA": 2, "ARS": 2, "AUD": 2,
    "AWG": 2, "AZN": 2, "BAM": 2, "BBD": 2, "BDT": 2, "BGN": 2, "BHD": 3, "BIF": 0, "BMD": 2,
    "BND": 2, "BOB": 2, "BRL": 2, "BSD": 2, "BTN": 2, "BWP": 2, "BYN": 2, "BZD": 2, "CAD": 2,
    "CDF": 2, "CHF": 2, "CLP": 0, "COP": 2, "CRC": 2, "CUP": 2, "CVE": 2, "CZK": 2, "DJF": 0,
    "DKK": 2, "DOP": 2, "DZD": 2, "EGP": 2, "ERN": 2, "ETB": 2, "FJD": 2, "FKP": 2, "GEL": 2,
    "GHS": 2, "GIP": 2, "GMD": 2, "GNF": 0, "GTQ": 2, "GYD": 2, "HKD": 2, "HNL": 2, "HTG": 2,
    "HUF": 2, "IDR": 2, "ILS": 2, "INR": 2, "IQD": 3, "IRR": 2, "ISK": 0, "JMD": 2, "JOD": 3,
    "JPY": 0, "KES": 2, "KHR": 2, "KMF": 0, "KPW": 2, "KRW": 0, "KWD": 3, "KYD": 2, "LAK": 2,
    "LBP": 2, "LKR": 2, "LRD": 2, "LSL": 2, "LYD": 3, "MAD": 2, "MDL": 2, "MGA": 2, "MKD": 2,
    "MMK": 2, "MNT": 2, "MOP": 2, "MRU": 2, "MUR": 2, "MVR": 2, "MWK": 2, "MXN": 2, "MYR": 2,
    "MZN": 2, "NAD": 2, "NGN": 2, "NIO": 2, "NOK": 2, "NPR": 2, "NZD": 2, "OMR": 3, "PAB": 2,
    "PEN": 2, "PGK": 2, "PHP": 2, "PKR": 2, "PLN": 2, "PYG": 0, "QAR": 2, "RON": 2, "RSD": 2,
    "RWF": 0, "SAR": 2, "SBD": 2, "SCR": 2, "SDG": 2, "SEK": 2, "SGD": 2, "SHP": 2, "SLE": 2,
    "SOS": 2, "SRD": 2, "SSP": 2, "STN": 2, "SVC": 2, "SYP": 2, "SZL": 2, "THB": 2, "TMT": 2,
    "TND": 3, "TOP": 2, "TTD": 2, "TWD": 2, "TZS": 2, "UAH": 2, "UGX": 0, "UYU": 2, "VES": 2,
    "VND": 0, "VUV": 0, "WST": 2, "XAF": 0, "XCD": 2, "XOF": 0, "XPF": 0, "YER": 2, "ZAR": 2,
    "ZMW": 2, "ZWG": 2,
}  # fmt: skip

CURRENCY_CHOICES = sorted((code, code) for code in MINOR_UNITS)


def minor_unit(currency: str) -> int:
    try:
        return MINOR_UNITS[currency]
    except KeyError:
        raise ValidationError(
            _("%(currency)s is not an ISO 4217 currency code."),
            code="currency",
            params={"currency": currency},
        ) from None


def parse_amount(value: str | Decimal | int, currency: str, *, allow_negative: bool = False,
                 allow_zero: bool = False) -> Decimal:  # fmt: skip
    """Return the amount as a Decimal exact to the currency's minor unit, or raise.

    Strings like "1500.5" in KZT become Decimal("1500.50"); "1.005" in USD is refused.
    """
    digits = minor_unit(currency)
    if isinstance(value, float):
        raise TypeError("money is never a float")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationError(
            _("“%(value)s” is not an amount of money."), code="amount", params={"value": value}
        ) from None
    if not amount.is_finite():
        raise ValidationError(_("An amount must be a finite number."), code="amount")
    # Trailing zeros are not extra precision: 1.50 USD and 100.00 JPY are fine, 1.5 JPY is not.
    exponent = amount.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > digits:
        raise ValidationError(
            _("%(currency)s has %(digits)s decimal places; “%(value)s” has more."),
            code="decimals",
            params={"currency": currency, "digits": digits, "value": value},
        )
    if amount < 0 and not allow_negative:
        raise ValidationError(_("An amount cannot be negative."), code="negative")
    if amount == 0 and not allow_zero:
        raise ValidationError(_("An amount cannot be zero."), code="zero")
    if abs(amount) >= Decimal(10) ** 15:
        raise ValidationError(_("That amount is too large to be real."), code="too_large")
    return amount.quantize(Decimal(1).scaleb(-digits))


def format_amount(amount: Decimal, currency: str) -> str:
    """The canonical decimal string written into the ledger: exactly `digits` decimals."""
    digits = minor_unit(currency)
    return f"{amount.quantize(Decimal(1).scaleb(-digits)):f}"
