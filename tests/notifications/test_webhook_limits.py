"""A webhook receiver cannot hold AidHub longer than WEBHOOK_TIMEOUT, however it answers, nor
take more than WEBHOOK_PER_HOST senders by spelling its host another way; a send frees only the
host slot it still holds."""

import socket
import threading
import time

import pytest
from django.utils import timezone

from notifications import channels, services
from notifications.models import Notification, Subscription
from tests.factories import PASSWORD

pytestmark = [pytest.mark.django_db]


class DripReceiver:
    """Reads the request, then answers one byte every `every` seconds for up to `for_at_most`
    seconds: each byte comes long before a socket timeout, the answer never ends."""

    def __init__(self, every: float = 0.1, for_at_most: float = 15.0):
        self.every, self.for_at_most = every, for_at_most
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.requests = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        self.listener.settimeout(0.05)
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)
            self.requests += 1
            answer = b"HTTP/1.1 200 OK\r\nX-Drip: " + b"a" * 10_000
            started = time.monotonic()
            try:
                for byte in answer:
                    if self.stop.is_set() or time.monotonic() - started > self.for_at_most:
                        return
                    conn.sendall(bytes([byte]))
                    time.sleep(self.every)
            except OSError:
                return  # AidHub gave up and hung up

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()
        self.listener.close()


def webhook_row(url: str) -> Notification:
    subscription = Subscription.objects.create(
        channel="webhook", address=url, scope="ledger", confirmed_at=timezone.now()
    )
    return Notification.objects.create(
        event="checkpoint:1",
        kind="checkpoint",
        channel="webhook",
        address=url,
        subscription=subscription,
        context={"size": 1, "note": "n"},
    )


# ---- one deadline for the whole exchange ----------------------------------------------------


def test_a_receiver_that_drips_its_answer_is_given_up_at_the_deadline(settings):
    settings.WEBHOOK_TIMEOUT = 1
    with DripReceiver() as receiver:
        started = time.monotonic()
        with pytest.raises(channels.Transient, match="TimeoutError"):
            channels.send_webhook(f"{receiver.url}/hook", "secret", "checkpoint", "1-e", {})
        took = time.monotonic() - started
    assert receiver.requests == 1
    # Generous: the point is that it ends near the deadline, not when the receiver tires (15 s).
    assert took < 4


def test_a_send_given_up_at_the_deadline_is_retried_later(settings):
    settings.WEBHOOK_TIMEOUT = 1
    with DripReceiver() as receiver:
        row = webhook_row(f"{receiver.url}/hook")
        assert services.send(row.pk) == "pending"
    row.refresh_from_db()
    assert row.attempts == 1 and row.next_attempt_at > timezone.now()
    assert "TimeoutError" in row.last_error


def test_a_dripping_receiver_neither_fails_nor_holds_up_the_donation_that_notified_it(
    client, fundraiser, settings, django_capture_on_commit_callbacks
):
    """No broker: the webhook is sent inside the organiser's request, which still succeeds."""
    settings.WEBHOOK_TIMEOUT = 1
    with DripReceiver() as receiver:
        Subscription.objects.create(
            channel="webhook",
            address=f"{receiver.url}/hook",
            scope="fundraiser",
            ref=fundraiser.slug,
            confirmed_at=timezone.now(),
        )
        assert client.login(username="dana", password=PASSWORD)
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                f"/fundraisers/{fundraiser.slug}/donations/new/",
                {
                    "amount": "2700000",
                    "currency": "KZT",
                    "channel": "cash",
                    "received_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
                },
            )
        took = time.monotonic() - started
    assert response.status_code == 302
    assert fundraiser.donations.count() == 1
    row = Notification.objects.get(channel="webhook")
    assert row.status == "pending" and "TimeoutError" in row.last_error
    assert took < 8


# ---- host slots -----------------------------------------------------------------------------


def test_a_send_whose_slot_expired_does_not_free_the_slot_another_send_took_since(
    settings, monkeypatch
):
    settings.WEBHOOK_PER_HOST = 1
    monkeypatch.setattr(services, "WEBHOOK_SLOT_SECONDS", 0.3)
    url = "https://hooks.example/a"
    first = services._webhook_slot(url)
    assert first is not None
    time.sleep(0.6)  # the first send outlived its slot
    second = services._webhook_slot(url)
    assert second is not None

    services._webhook_slot_release(first)
    assert services._webhook_slot(url) is None  # still the second send's

    services._webhook_slot_release(second)
    assert services._webhook_slot(url) is not None


@pytest.mark.parametrize(
    ("first", "again"),
    [
        ("https://example.com/hook", "https://Example.COM/other"),
        ("https://example.com/hook", "https://example.com./hook"),
        ("https://example.com/hook", "https://example.com:443/hook"),
        ("https://example.com/hook", "HTTPS://EXAMPLE.COM.:443/hook"),
        ("https://bücher.example/hook", "https://xn--bcher-kva.example/hook"),
        ("https://xn--bcher-kva.example/hook", "https://BÜCHER.example./hook"),
        ("https://bücher.example/hook", "https://bücher\u3002example/hook"),
        ("http://[::1]:8000/hook", "http://[0:0::1]:8000/hook"),
    ],
)
def test_every_spelling_of_a_host_shares_its_slots(settings, first, again):
    settings.WEBHOOK_PER_HOST = 1
    assert services._webhook_slot(first) is not None
    assert services._webhook_slot(again) is None
    assert services._webhook_slot("https://example.org/hook") is not None  # another host


def test_a_slow_name_lookup_is_given_up_at_the_deadline(settings, monkeypatch):
    settings.WEBHOOK_TIMEOUT = 1
    real = socket.getaddrinfo

    def slow(host, *args, **kwargs):
        if host == "slow-dns.example":
            time.sleep(4)
            return real("93.184.216.34", *args, **kwargs)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", slow)
    started = time.monotonic()
    with pytest.raises(channels.Transient, match="TimeoutError"):
        channels.send_webhook("http://slow-dns.example/hook", "secret", "checkpoint", "1-e", {})
    assert time.monotonic() - started < 2.5


@pytest.mark.parametrize(
    "spelling",
    [
        "http://[::ffff:93.184.216.34]/hook",
        "http://[::ffff:5db8:d822]:8080/hook",
        "http://[64:ff9b::93.184.216.34]/hook",
        "http://[2002:5db8:d822::1]/hook",
    ],
)
def test_an_ipv6_spelling_of_an_ipv4_address_shares_its_slots(settings, spelling):
    settings.WEBHOOK_PER_HOST = 1
    assert services._webhook_slot("http://93.184.216.34/hook") is not None
    assert services._webhook_slot(spelling) is None
    assert channels.webhook_host(spelling) == "93.184.216.34"
