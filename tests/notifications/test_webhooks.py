"""Webhooks under attack: a subscriber's secret stays theirs, AidHub never calls into a private
network (at subscribe time, and at send time on the very address it checked), and a slow
receiver holds up neither e-mail nor other hosts."""

import hashlib
import hmac
import socket

import pytest
from django.test import Client
from django.utils import timezone

from notifications import services, tasks
from notifications.models import Notification, Subscription
from tests.factories import UserFactory

from .receiver import Receiver

pytestmark = [pytest.mark.django_db]

PUBLIC = "93.184.215.14"  # a globally routable address (example.com's, once)


def subscribe_webhook(client: Client, url: str):
    return client.post(
        "/notifications/subscribe/",
        {"scope": "ledger", "ref": "", "channel": "webhook", "address": url},
    )


def windows(secret: str, size: int = 6) -> list[str]:
    return [secret[i : i + size] for i in range(len(secret) - size + 1)]


# ---- the secret -----------------------------------------------------------------------------


def test_subscribing_a_followed_url_again_shows_none_of_the_first_subscribers_secret():
    url = "http://127.0.0.1:9/hook"  # WEBHOOK_ALLOW_PRIVATE is on in development and tests
    a = subscribe_webhook(Client(), url)
    first = Subscription.objects.get()
    assert a.status_code == 200 and first.secret in a.text  # shown once, to its creator

    b_user = UserFactory(username="b")
    b_client = Client()
    b_client.force_login(b_user)
    for response in (subscribe_webhook(b_client, url), subscribe_webhook(Client(), url)):
        assert response.status_code == 200
        assert not [part for part in windows(first.secret) if part in response.text]
    # Each got a subscription and a secret of their own.
    secrets = set(Subscription.objects.values_list("secret", flat=True))
    assert Subscription.objects.count() == 3 and len(secrets) == 3


def test_one_url_takes_a_few_subscriptions_not_a_flood():
    # Each subscription has its own secret, so each would get its own copy of every event.
    url = "http://127.0.0.1:9/hook"
    for _ in range(services.WEBHOOKS_PER_URL):
        assert subscribe_webhook(Client(), url).status_code == 200
    response = subscribe_webhook(Client(), url)
    assert "already receives" in response.text
    assert Subscription.objects.count() == services.WEBHOOKS_PER_URL


def test_each_subscriber_of_the_same_url_gets_the_event_signed_with_their_own_secret(
    media, django_capture_on_commit_callbacks
):
    from ledger import services as ledger
    from tests.ledger.factories import donation

    with Receiver() as receiver:
        mine, theirs = (
            services.subscription_create(
                channel="webhook", scope="ledger", ref="", language="en", address=receiver.url
            )
            for _ in range(2)
        )
        assert mine.pk != theirs.pk and mine.secret != theirs.secret
        ledger.append(kind="donation", payload=donation())
        with django_capture_on_commit_callbacks(execute=True):
            ledger.checkpoint_sign()
    signatures = {r["headers"]["x-aidhub-signature"] for r in receiver.requests}
    expected = {
        "sha256=" + hmac.new(s.secret.encode(), r["body"], hashlib.sha256).hexdigest()
        for s, r in zip((mine, theirs), receiver.requests, strict=True)
    }
    assert len(receiver.requests) == 2 and signatures == expected


def test_the_admin_never_prints_a_webhook_secret(admin_client):
    subscription = services.subscription_create(
        channel="webhook", scope="ledger", ref="", language="en", address="http://127.0.0.1:9/"
    )
    page = admin_client.get(f"/admin/notifications/subscription/{subscription.pk}/change/")
    assert page.status_code == 200 and subscription.secret not in page.text


# ---- private addresses at subscribe time ----------------------------------------------------


def fake_resolver(monkeypatch, names: dict[str, list[str]]):
    """socket.getaddrinfo answering from `names` (IP literals answer themselves)."""
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host in names:
            family = socket.AF_INET6 if ":" in names[host][0] else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (ip, port)) for ip in names[host]]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


REFUSED = [
    "http://127.0.0.1/hook",
    "http://127.1.2.3:8080/hook",
    "https://10.0.0.5/hook",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/",  # a cloud's metadata service
    "http://100.64.0.1/",  # shared (carrier-grade NAT) space
    "http://0.0.0.0:8000/",
    "http://[::1]/",
    "http://[fd12:3456::1]/",  # unique local
    "http://[fe80::1]/",
    "http://[::ffff:127.0.0.1]/",  # IPv4-mapped loopback
    "http://[::ffff:10.0.0.1]/",
    "http://[64:ff9b:1::a00:1]/",  # local-use NAT64 of 10.0.0.1
    "http://[::ffff:0:7f00:1]/",  # IPv4-translated (SIIT) loopback
    "http://[::127.0.0.1]/",  # IPv4-compatible loopback
    "http://[fec0::1]/",  # site-local
    "http://2130706433/",  # 127.0.0.1 in decimal
    "http://0177.0.0.1/",  # ... in octal
    "http://0x7f.1/",
    "http://localhost:8000/",
    "http://intranet.example/",  # resolves to a private address
    "http://rebind.example/",  # one public, one loopback answer
    "http://v6only.example/",  # resolves to IPv6 loopback
]


@pytest.mark.parametrize("url", REFUSED)
def test_webhooks_to_private_addresses_are_refused_at_subscribe_time(settings, monkeypatch, url):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    fake_resolver(
        monkeypatch,
        {
            "intranet.example": ["10.1.2.3"],
            "rebind.example": [PUBLIC, "127.0.0.1"],
            "v6only.example": ["::1"],
        },
    )
    response = subscribe_webhook(Client(), url)
    assert response.status_code == 400
    assert not Subscription.objects.exists()


def test_a_webhook_on_a_public_address_is_accepted(settings, monkeypatch):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    fake_resolver(monkeypatch, {"hooks.example.org": [PUBLIC]})
    assert subscribe_webhook(Client(), "https://hooks.example.org/aidhub").status_code == 200
    assert Subscription.objects.get().address == "https://hooks.example.org/aidhub"


def test_the_refusal_says_why_in_the_subscribers_language(settings):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    response = subscribe_webhook(Client(), "http://127.0.0.1/hook")
    assert "AidHub does not call private, loopback or link-local addresses." in response.text


# ---- private addresses at send time ---------------------------------------------------------


def webhook_row(url: str) -> Notification:
    subscription = Subscription.objects.create(
        channel="webhook", address=url, scope="ledger", ref="", confirmed_at=timezone.now()
    )
    return Notification.objects.create(
        event="checkpoint:1",
        kind="checkpoint",
        channel="webhook",
        address=url,
        subscription=subscription,
        context={"size": 1, "note": "n"},
    )


def test_dns_rebinding_cannot_turn_a_checked_address_into_loopback(settings, monkeypatch):
    """The name answers a public address when checked and 127.0.0.1 the next time: AidHub
    resolves once and connects to what it checked, so it never reaches the local server."""
    settings.WEBHOOK_ALLOW_PRIVATE = False
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.create_connection
    answers = iter([PUBLIC] + ["127.0.0.1"] * 20)
    connected_to: list[str] = []

    def getaddrinfo(host, port, *args, **kwargs):
        if host == "rebind.example":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]
        return real_getaddrinfo(host, port, *args, **kwargs)

    def create_connection(address, *args, **kwargs):
        host, port = address
        ip = getaddrinfo(host, port)[0][4][0]
        connected_to.append(ip)
        if ip != "127.0.0.1":
            raise ConnectionRefusedError("no network in tests")
        return real_connect((ip, port), *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    with Receiver() as receiver:
        port = receiver.server.server_address[1]
        row = webhook_row(f"http://rebind.example:{port}/hook")
        assert services.send(row.pk) == "pending"  # the public address refused: later
    assert receiver.requests == []
    assert connected_to == [PUBLIC]
    assert "ConnectionRefusedError" in Notification.objects.get(pk=row.pk).last_error


def test_the_host_header_keeps_the_name_while_the_checked_address_is_called(monkeypatch):
    with Receiver() as receiver:
        fake_resolver(monkeypatch, {"mirror.example": ["127.0.0.1"]})
        port = receiver.server.server_address[1]
        row = webhook_row(f"http://mirror.example:{port}/hook?from=aidhub")
        assert services.send(row.pk) == "sent"
    (request,) = receiver.requests
    assert request["headers"]["host"] == f"mirror.example:{port}"
    assert request["path"] == "/hook?from=aidhub"


def test_a_redirect_is_not_followed(monkeypatch):
    with Receiver(status=302) as receiver:
        row = webhook_row(f"{receiver.url}/hook")
        assert services.send(row.pk) == "failed"
    assert "302" in Notification.objects.get(pk=row.pk).last_error
    assert len(receiver.requests) == 1


# ---- queues and hosts -----------------------------------------------------------------------


def test_webhooks_have_a_queue_of_their_own_apart_from_email_and_telegram():
    from aidhub.celery import app

    def queue(task_name):
        return app.amqp.router.route({}, task_name, (), {})["queue"].name

    assert queue("notifications.tasks.webhook_send") == "webhooks"
    assert queue("notifications.tasks.notification_send") == "celery"


def test_enqueue_hands_webhooks_to_the_webhook_task_and_the_rest_to_the_default(monkeypatch):
    handed: list[tuple[str, int]] = []
    monkeypatch.setattr(tasks.webhook_send, "delay", lambda pk: handed.append(("webhook", pk)))
    monkeypatch.setattr(tasks.notification_send, "delay", lambda pk: handed.append(("other", pk)))
    hook = webhook_row("http://127.0.0.1:9/hook")
    mail = Notification.objects.create(
        event="e:2", kind="confirm", channel="email", address="a@example.org", context={}
    )
    services.enqueue([hook.pk, mail.pk])
    assert handed == [("webhook", hook.pk), ("other", mail.pk)]


def test_a_host_with_all_its_slots_busy_waits_without_losing_an_attempt(settings):
    settings.WEBHOOK_PER_HOST = 1
    with Receiver() as receiver:
        busy = webhook_row(f"{receiver.url}/hook")
        held = services._webhook_slot(busy.address)  # another worker is sending to this host
        assert held is not None
        assert services.send(busy.pk) == "pending"
        busy.refresh_from_db()
        assert busy.attempts == 0 and busy.next_attempt_at > timezone.now()
        assert receiver.requests == []

        # Another host is not held up meanwhile.
        other = Notification.objects.create(
            event="checkpoint:2",
            kind="checkpoint",
            channel="webhook",
            address=f"http://localhost:{receiver.server.server_address[1]}/other",
            subscription=busy.subscription,
            context={"size": 2, "note": "n"},
        )
        assert services.send(other.pk) == "sent"

        # The slot freed, the waiting one goes when due.
        services._webhook_slot_release(held)
        Notification.objects.filter(pk=busy.pk).update(next_attempt_at=timezone.now())
        assert services.send(busy.pk) == "sent"
    assert [r["path"] for r in receiver.requests] == ["/other", "/hook"]


def test_a_send_frees_its_host_slot_whatever_happens(settings):
    settings.WEBHOOK_PER_HOST = 1
    with Receiver(status=503) as receiver:
        row = webhook_row(f"{receiver.url}/hook")
        assert services.send(row.pk) == "pending"
        assert services._webhook_slot(row.address) is not None  # free again
