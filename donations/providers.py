"""Official exchange-rate feeds. Each provider returns the day and, per currency, its value in
the provider's home currency. The first is the National Bank of the Kyrgyz Republic."""

import urllib.request
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from xml.etree import ElementTree

from django.conf import settings
from django.db import transaction

from ledger.money import MINOR_UNITS

from .models import ExchangeRate


class FeedError(Exception):
    """The feed could not be read or did not look like itself."""


@dataclass(frozen=True)
class DailyRates:
    day: date
    home: str
    rates: dict[str, Decimal]  # 1 unit of the currency = this many units of `home`


class NbkrProvider:
    """https://www.nbkr.kg/XML/daily.xml: `<CurrencyRates Date="dd.mm.yyyy">` with one
    `<Currency ISOCode="USD"><Nominal>1</Nominal><Value>87,4500</Value></Currency>` per
    currency, values in som for `Nominal` units, with a decimal comma."""

    source = ExchangeRate.Source.NBKR
    home = "KGS"

    def __init__(self, url: str | None = None, timeout: float = 10) -> None:
        self.url = url or settings.NBKR_DAILY_URL
        self.timeout = timeout

    def fetch(self) -> DailyRates:
        if not self.url.startswith(("https://", "http://")):
            raise FeedError(f"not an http(s) URL: {self.url}")
        request = urllib.request.Request(self.url, headers={"User-Agent": "AidHub rates"})  # noqa: S310 - scheme checked above
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - scheme checked above
                body = response.read(1_000_000)
        except OSError as exc:
            raise FeedError(f"cannot fetch {self.url}: {exc}") from exc
        return self.parse(body)

    def parse(self, body: bytes) -> DailyRates:
        try:
            root = ElementTree.fromstring(body)  # noqa: S314 - a bank's small feed; no DTDs are expanded by ElementTree
            day = datetime.strptime(root.attrib["Date"], "%d.%m.%Y").date()
        except (ElementTree.ParseError, KeyError, ValueError) as exc:
            raise FeedError(f"the feed is not the NBKR daily XML: {exc}") from exc
        rates: dict[str, Decimal] = {}
        for currency in root.iter("Currency"):
            code = currency.attrib.get("ISOCode", "")
            try:
                nominal = Decimal(currency.findtext("Nominal", "1").strip())
                value = Decimal(currency.findtext("Value", "").strip().replace(",", "."))
            except InvalidOperation:
                continue
            if code in MINOR_UNITS and nominal > 0 and value > 0:
                rates[code] = value / nominal
        if not rates:
            raise FeedError("the feed lists no currency")
        return DailyRates(day=day, home=self.home, rates=rates)


PROVIDERS = {"nbkr": NbkrProvider}


@transaction.atomic
def rates_store(daily: DailyRates, source: str) -> int:
    """Keep a day's official rates; fetching the same day twice changes nothing."""
    stored = 0
    for code, value in daily.rates.items():
        _row, created = ExchangeRate.objects.get_or_create(
            date=daily.day, base=code, quote=daily.home, source=source,
            defaults={"rate": value.quantize(Decimal("0.00000001"))},
        )  # fmt: skip
        stored += created
    return stored
