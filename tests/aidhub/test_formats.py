"""Numbers, money and dates in each language's own format."""

from datetime import datetime
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import timezone, translation

AMOUNT = Decimal("4170994.98")
MOMENT = datetime(2026, 12, 2, 1, 9, tzinfo=timezone.get_fixed_timezone(360))


def _render(language: str, text: str) -> str:
    with translation.override(language):
        return Template("{% load l10n %}" + text).render(
            Context({"amount": AMOUNT, "moment": MOMENT})
        )


@pytest.mark.parametrize(
    "language,expected",
    [("kk", "4\xa0170\xa0994,98"), ("ru", "4\xa0170\xa0994,98"), ("ky", "4\xa0170\xa0994.98"),
     ("uz", "4\xa0170\xa0994,98"), ("tg", "4\xa0170\xa0994,98"), ("en", "4,170,994.98")],
)  # fmt: skip
def test_money_is_grouped_in_every_language(language, expected):
    assert _render(language, '{{ amount|floatformat:"2g" }}') == expected


@pytest.mark.parametrize("language", ["kk", "ru", "ky", "uz", "tg"])
def test_short_dates_are_day_month_year_never_us_style(language):
    assert _render(language, '{{ moment|date:"SHORT_DATE_FORMAT" }}') == "02.12.2026"


def test_english_dates_name_the_month():
    assert _render("en", '{{ moment|date:"SHORT_DATE_FORMAT" }}') == "2 Dec 2026"
    assert _render("en", '{{ moment|date:"SHORT_DATETIME_FORMAT" }}') == "2 Dec 2026, 01:09"


def test_kazakh_long_dates_are_kazakh():
    text = _render("kk", '{{ moment|date:"DATE_FORMAT" }}')
    assert text.endswith("2026 ж.") and "December" not in text
