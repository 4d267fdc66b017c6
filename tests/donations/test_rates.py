"""The NBKR daily feed, served by a local HTTP server in the test and read by the same client
code production uses. The sample follows the feed's published layout (decimal comma, nominal)."""

import datetime
import http.server
import threading
from decimal import Decimal
from pathlib import Path

import pytest

from donations.models import ExchangeRate
from donations.providers import FeedError, NbkrProvider, rates_store
from donations.rates import rate_for
from donations.tasks import rates_fetch

pytestmark = pytest.mark.clock

SAMPLE = (Path(__file__).parent / "nbkr_daily.xml").read_bytes()
DAY = datetime.date(2022, 9, 19)


@pytest.fixture
def feed():
    """A local stand-in for www.nbkr.kg: serves whatever `feed.body` is, with `feed.status`."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(server.status)
            self.send_header("Content-Type", "application/xml")
            self.end_headers()
            self.wfile.write(server.body)
            server.hits += 1

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.body, server.status, server.hits = SAMPLE, 200, 0
    server.url = f"http://127.0.0.1:{server.server_address[1]}/XML/daily.xml"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_provider_reads_the_days_rates_with_decimal_commas_and_nominals(feed):
    daily = NbkrProvider(feed.url).fetch()
    assert daily.day == DAY and daily.home == "KGS"
    assert daily.rates["USD"] == Decimal("80.5320")
    assert daily.rates["KZT"] == Decimal("0.1688")
    assert daily.rates["JPY"] == Decimal("0.5621")  # 56.21 som per 100 yen


@pytest.mark.django_db
def test_storing_the_same_day_twice_changes_nothing(feed):
    provider = NbkrProvider(feed.url)
    assert rates_store(provider.fetch(), "nbkr") == 5
    assert rates_store(provider.fetch(), "nbkr") == 0
    assert ExchangeRate.objects.count() == 5


@pytest.mark.django_db
def test_beat_task_fetches_from_the_configured_url(feed, settings):
    settings.NBKR_DAILY_URL = feed.url
    assert rates_fetch.delay().get() == 5
    rate = rate_for(base="USD", quote="KZT", on=DAY)
    assert rate.value == Decimal("80.5320") / Decimal("0.1688")
    assert rate.source == "nbkr:2022-09-19 (via KGS)"


@pytest.mark.django_db
def test_rates_older_than_ten_days_are_not_used(feed):
    rates_store(NbkrProvider(feed.url).fetch(), "nbkr")
    assert rate_for(base="USD", quote="KGS", on=DAY + datetime.timedelta(days=10)).value
    with pytest.raises(Exception, match="no exchange rate"):
        rate_for(base="USD", quote="KGS", on=DAY + datetime.timedelta(days=11))


@pytest.mark.parametrize(
    "body", [b"<html>maintenance</html>", b"not xml at all", b"<CurrencyRates Date='x'/>"]
)
def test_a_feed_that_is_not_the_daily_xml_is_a_feed_error(feed, body):
    feed.body = body
    with pytest.raises(FeedError):
        NbkrProvider(feed.url).fetch()


def test_a_feed_that_is_down_is_a_feed_error_that_the_task_retries(feed):
    feed.status = 503
    with pytest.raises(FeedError, match="cannot fetch"):
        NbkrProvider(feed.url).fetch()
    assert FeedError in rates_fetch.autoretry_for


def test_only_http_urls_are_fetched():
    with pytest.raises(FeedError, match="not an http"):
        NbkrProvider("file:///etc/passwd").fetch()
