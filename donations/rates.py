"""Exchange rates: which rate converts a donation or expense to its fundraiser's currency.

An organiser's own rate (what their bank actually gave) always wins. Otherwise the latest official
rate on or before the day is used, directly, inverted, or crossed through the som (the National
Bank of the Kyrgyz Republic quotes every currency in KGS). With no rate at all, the money is
refused with a clear message: a guessed rate would make the public numbers wrong.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from ledger.money import minor_unit

from .models import ExchangeRate

STALE_AFTER = timedelta(days=10)  # an older official rate is no longer a fair conversion
HUB_CURRENCY = "KGS"


@dataclass(frozen=True)
class Rate:
    value: Decimal
    source: str


class RateMissing(ValidationError):
    pass


def _latest(base: str, quote: str, on: date) -> ExchangeRate | None:
    return (
        ExchangeRate.objects.filter(
            base=base, quote=quote, date__lte=on, date__gte=on - STALE_AFTER
        )
        .order_by("-date", "source")
        .first()
    )


def _to_kgs(currency: str, on: date) -> tuple[Decimal, str] | None:
    if currency == HUB_CURRENCY:
        return Decimal(1), ""
    row = _latest(currency, HUB_CURRENCY, on)
    return (row.rate, f"{row.source}:{row.date.isoformat()}") if row else None


def rate_for(*, base: str, quote: str, on: date, manual: Decimal | None = None) -> Rate:
    """The rate that turns 1 `base` into `quote` on day `on`."""
    if manual is not None:
        if manual <= 0:
            raise ValidationError(_("An exchange rate must be more than zero."), code="rate")
        return Rate(manual, "organiser")
    if base == quote:
        return Rate(Decimal(1), "same currency")
    direct = _latest(base, quote, on)
    if direct:
        return Rate(direct.rate, f"{direct.source}:{direct.date.isoformat()}")
    inverse = _latest(quote, base, on)
    if inverse:
        return Rate(
            Decimal(1) / inverse.rate, f"{inverse.source}:{inverse.date.isoformat()} (inverse)"
        )
    via_base, via_quote = _to_kgs(base, on), _to_kgs(quote, on)
    if via_base and via_quote:
        sources = sorted({s for s in (via_base[1], via_quote[1]) if s})
        return Rate(via_base[0] / via_quote[0], " × ".join(sources) + " (via KGS)")
    raise RateMissing(
        _(
            "There is no exchange rate from %(base)s to %(quote)s for %(day)s. "
            "Enter the rate your bank gave."
        )
        % {"base": base, "quote": quote, "day": on.isoformat()},
        code="no_rate",
    )


def convert(amount: Decimal, rate: Decimal, currency: str) -> Decimal:
    """Amount × rate, rounded once, half to even, to the target currency's minor unit."""
    exponent = Decimal(1).scaleb(-minor_unit(currency))
    converted = (amount * rate).quantize(exponent, rounding=ROUND_HALF_EVEN)
    if converted <= 0:
        raise ValidationError(_("The converted amount rounds to zero."), code="too_small")
    return converted
