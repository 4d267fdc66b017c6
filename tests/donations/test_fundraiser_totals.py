"""A fundraiser's totals rows: kept with every donation, expense and correction, read by its
pages instead of summing its donations, and checked by reconciliation."""

import importlib
import io
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from aidhub.uploads import CleanFile
from donations import services
from donations.models import FundraiserTotal
from donations.reconcile import reconcile
from tests.factories import PASSWORD, expense_approved
from tests.ledger.factories import jpeg_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.clock]

RECEIPT = CleanFile(jpeg_bytes((250, 250, 250), (8, 8)), "image/jpeg")
# A session cookie makes the page cache render the page (aidhub.pagecache), as bench/pages.py.
RENDERED = {"cookie": "sessionid=no-such-session"}


def donate(fundraiser, amount="100.00", currency="KZT"):
    return services.donation_record(
        fundraiser=fundraiser, amount=amount, currency=currency, received_at=timezone.now(),
        channel="cash", by=None,
    )  # fmt: skip


def spend(fundraiser, amount="40.00", currency="KZT"):
    return expense_approved(
        fundraiser=fundraiser, vendor="Market", amount=amount, currency=currency,
        paid_at=timezone.now(), receipt=RECEIPT,
    )  # fmt: skip


def stored(fundraiser) -> dict[str, tuple]:
    rows = FundraiserTotal.objects.filter(fundraiser=fundraiser).order_by("currency")
    return {
        row.currency: (row.raised, row.raised_converted, row.donations, row.spent,
                       row.spent_converted, row.expenses)
        for row in rows
    }  # fmt: skip


def test_totals_follow_donations_expenses_and_corrections_per_original_currency(
    fundraiser, rates, media
):
    donate(fundraiser, "2500.00", "KZT")
    usd = donate(fundraiser, "10.00", "USD")
    donate(fundraiser, "5.00", "USD")
    kgs = spend(fundraiser, "1000.00", "KGS")
    wrong = spend(fundraiser, "300.00", "KZT")
    services.correction_record(row=wrong, reason="typed twice", by=None)
    per_usd = usd.converted_amount / 10
    assert stored(fundraiser) == {
        "KGS": (0, 0, 0, Decimal("1000"), kgs.converted_amount, 1),
        "KZT": (Decimal("2500"), Decimal("2500"), 1, 0, 0, 0),
        "USD": (Decimal("15"), per_usd * 15, 2, 0, 0, 0),
    }
    assert reconcile(fundraiser).ok


def test_a_correction_takes_the_donation_back_out_of_the_totals(fundraiser):
    donation = donate(fundraiser, "700.00")
    donate(fundraiser, "300.00")
    services.correction_record(row=donation, reason="wrong fundraiser", by=None)
    assert stored(fundraiser) == {"KZT": (Decimal("300"), Decimal("300"), 1, 0, 0, 0)}


def rendered_queries(client, path) -> list[str]:
    """The queries of a page drawn afresh (none of its parts from the cache)."""
    client.get(path, headers=RENDERED)  # warm-up: sessions, content types, translations
    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, headers=RENDERED)
    assert response.status_code == 200
    return [query["sql"] for query in captured.captured_queries]


def test_fundraiser_page_costs_the_same_queries_at_3_and_at_60_donations(
    client, fundraiser, django_assert_num_queries
):
    for _ in range(3):
        donate(fundraiser)
    path = fundraiser.get_absolute_url()
    few = len(rendered_queries(client, path))
    for _ in range(57):
        donate(fundraiser)
    cache.clear()
    with django_assert_num_queries(few):
        response = client.get(path, headers=RENDERED)
    assert response.context["totals"].donations == 60
    assert response.context["totals"].raised == Decimal("6000")


@pytest.mark.parametrize(
    "path", ["/fundraisers/almaty-for-batken/", "/fundraisers/", "/api/v1/fundraisers/",
             "/api/v1/fundraisers/almaty-for-batken/"],
)  # fmt: skip
def test_pages_with_a_fundraisers_sums_read_its_totals_not_its_donations(client, fundraiser, path):
    for _ in range(3):
        donate(fundraiser)
    queries = rendered_queries(client, path)
    assert not [sql for sql in queries if "donations_donation" in sql]


def test_the_migration_fills_the_totals_from_the_money_recorded_before_it(fundraiser, media):
    donate(fundraiser, "100.00")
    reversed_one = donate(fundraiser, "50.00")
    services.correction_record(row=reversed_one, reason="bounced", by=None)
    spend(fundraiser, "30.00")
    before = stored(fundraiser)
    FundraiserTotal.objects.all().delete()
    migration = importlib.import_module("donations.migrations.0011_fundraiser_totals")
    migration.fill_totals(apps, None)
    assert (
        stored(fundraiser)
        == before
        == {"KZT": (Decimal("100"), Decimal("100"), 1, Decimal("30"), Decimal("30"), 1)}
    )


def test_a_broken_totals_row_is_reported_by_reconcile_the_command_and_the_page(client, fundraiser):
    donate(fundraiser, "100.00")
    donate(fundraiser, "20.00")
    assert reconcile(fundraiser).ok
    FundraiserTotal.objects.filter(fundraiser=fundraiser).update(
        raised=F("raised") + 1, donations=3
    )
    message = (
        "Stored totals in KZT: raised 121.000, but the ledger says 120.00 and the records 120.000."
    )
    report = reconcile(fundraiser)
    assert not report.ok
    assert message in report.problems
    assert any(p.startswith("Stored totals in KZT: donations 3,") for p in report.problems)
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 fundraiser"):
        call_command("reconcile", fundraiser.slug, stdout=out)
    assert out.getvalue().startswith("DIFFERS almaty-for-batken")
    assert message in out.getvalue()
    assert client.login(username=fundraiser.organiser.username, password=PASSWORD)
    page = client.get(f"{fundraiser.get_absolute_url()}reconcile/").text
    assert "The ledger and the records differ" in page
    assert "Stored totals in KZT: raised 121.000" in page


def test_a_missing_totals_row_is_reported(fundraiser):
    donate(fundraiser, "100.00")
    FundraiserTotal.objects.all().delete()
    assert (
        "Stored totals in KZT: raised 0, but the ledger says 100.00 and the records 100.000."
        in (reconcile(fundraiser).problems)
    )
