"""The public Follow form sent twice at the same moment, on PostgreSQL: with one browser-made
token the second copy waits for the first and answers as its repeat; without a token, two
copies for one e-mail address make one subscription, and both get the same answer."""

import threading
import time

import pytest
from django.db import connection, connections
from django.test import Client

from aidhub.models import IdempotentSubmission
from notifications import services
from notifications.models import Subscription

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="two transactions at once need PostgreSQL"
)

SUBSCRIBE = "/notifications/subscribe/"
TOKEN = "b-0123456789abcdef0123456789abcdef"


def at_once(body: dict) -> list:
    barrier = threading.Barrier(2)
    answers: list = []

    def go():
        try:
            barrier.wait()
            answers.append(Client().post(SUBSCRIBE, body))
        except Exception as exc:  # the failure is the point
            answers.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=go) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


def slowly(monkeypatch, name: str):
    """Both copies get past their checks before either commits."""
    real = getattr(services, name)

    def slow(*args, **kwargs):
        result = real(*args, **kwargs)
        time.sleep(0.5)
        return result

    monkeypatch.setattr(services, name, slow)


def test_one_browser_token_sent_twice_at_once_is_one_webhook_subscription(
    transactional_db, monkeypatch
):
    slowly(monkeypatch, "subscription_create")
    body = {"scope": "ledger", "ref": "", "channel": "webhook", "address": "http://127.0.0.1:9/h"}
    answers = at_once({**body, "idempotency_key": TOKEN})
    assert [getattr(a, "status_code", a) for a in answers] == [200, 200]
    subscription = Subscription.objects.get()
    assert sorted(subscription.secret in a.text for a in answers) == [False, True]
    assert IdempotentSubmission.objects.get().key == TOKEN


def test_one_email_address_sent_twice_at_once_without_a_token_is_one_subscription(
    transactional_db, monkeypatch
):
    slowly(monkeypatch, "_check_address")
    body = {"scope": "ledger", "ref": "", "channel": "email", "address": "donor@example.org"}
    answers = at_once(body)
    assert [getattr(a, "status_code", a) for a in answers] == [200, 200]
    assert answers[0].text == answers[1].text
    assert Subscription.objects.count() == 1
