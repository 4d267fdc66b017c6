"""The date rules at the instants where they used to break: around local and UTC midnight and
noon, in each zone AidHub serves. Bishkek is UTC+6 and Almaty UTC+5, so from 18:00 (19:00) to
24:00 UTC the local date is already tomorrow's."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from aidhub import clock
from donations import services, statements
from donations.models import Donation, ExchangeRate, Fundraiser
from tests.factories import UserFactory, organised_by

pytestmark = [pytest.mark.django_db, pytest.mark.clock]

ZONES = ["Asia/Bishkek", "Asia/Almaty", "UTC"]
# Just before and after local midnight in Bishkek (18:00 UTC) and Almaty (19:00 UTC), UTC
# midnight, and local noon in Bishkek (06:00 UTC) and Almaty (07:00 UTC).
INSTANTS = ["17:59", "18:01", "18:59", "19:01", "23:59", "00:01", "05:59", "06:01", "06:59",
            "07:01", "11:59", "12:01"]  # fmt: skip


def _at(hhmm: str) -> datetime:
    hours, minutes = map(int, hhmm.split(":"))
    return datetime(2026, 12, 1, hours, minutes, tzinfo=UTC)


@pytest.fixture(params=ZONES)
def zone(request, settings):
    settings.TIME_ZONE = request.param
    return request.param


@pytest.mark.parametrize("hhmm", INSTANTS)
def test_local_day_is_the_date_on_the_wall_in_the_sites_zone(zone, hhmm):
    with time_machine.travel(_at(hhmm), tick=False):
        wall = timezone.now().astimezone(timezone.get_default_timezone())
        assert clock.local_day() == wall.date()
        # Not the zone a request may have activated for its reader.
        with timezone.override("America/New_York"):
            assert clock.local_day() == wall.date()


@pytest.mark.parametrize("hhmm", INSTANTS)
def test_a_statement_row_dated_today_is_never_in_the_future(zone, hhmm):
    with time_machine.travel(_at(hhmm), tick=False):
        today = clock.local_day()
        moment = clock.moment_on(today)
        assert moment <= timezone.now()
        assert clock.local_day(moment) == today
        assert clock.local_day(clock.moment_on(today - timedelta(days=1))) == today - timedelta(
            days=1
        )


def _fundraiser() -> Fundraiser:
    return Fundraiser.objects.create(
        slug="almaty", title="Almaty for Batken", **organised_by(UserFactory()), currency="KZT",
        goal_amount=Decimal(1_000_000), starts_on=date(2026, 11, 1),
    )  # fmt: skip


@pytest.mark.parametrize("hhmm", INSTANTS)
def test_money_recorded_now_finds_the_rate_stored_for_the_local_day(zone, hhmm):
    with time_machine.travel(_at(hhmm), tick=False):
        for code, value in {"USD": "87.45", "KZT": "0.1745"}.items():
            ExchangeRate.objects.create(date=clock.local_day(), base=code, quote="KGS",
                                        rate=Decimal(value), source="nbkr")  # fmt: skip
        donation = services.donation_record(
            fundraiser=_fundraiser(), amount="100.00", currency="USD",
            received_at=timezone.now(), channel="card", by=None,
        )  # fmt: skip
        assert donation.rate_source.startswith(f"nbkr:{clock.local_day().isoformat()}")


@pytest.mark.parametrize("hhmm", INSTANTS)
def test_a_bank_statement_dated_today_imports_at_any_hour(zone, hhmm):
    with time_machine.travel(_at(hhmm), tick=False):
        fundraiser = _fundraiser()
        today = clock.local_day().isoformat()
        rows = statements.statement_preview(fundraiser, f"date,amount,currency\n{today},5,KZT\n")
        assert [row.status for row in rows] == ["new"]
        shown = statements.as_session(rows)
        sha = statements.statement_sha256(shown)
        assert statements.statement_import(fundraiser, shown, previewed_sha256=sha, by=None) == 1
        assert clock.local_day(Donation.objects.get().received_at).isoformat() == today


# The demo is slow to seed: the instants the issue reported, in the default zone, and the
# evening window in the other two. CI runs this again at its own instants in every zone.
@pytest.mark.parametrize(
    "zone_name,hhmm",
    [("Asia/Bishkek", hhmm) for hhmm in ("17:59", "18:01", "23:59", "05:59")]
    + [("Asia/Almaty", "19:01"), ("UTC", "23:59")],
)
def test_seed_demo_succeeds_at_any_hour_in_every_zone(settings, zone_name, hhmm, media):
    settings.TIME_ZONE = zone_name
    with time_machine.travel(_at(hhmm), tick=True):
        call_command("seed_demo", verbosity=0)
    assert Donation.objects.filter(currency="KZT").exists()
