"""The public Follow form (on cached pages: the fundraiser's, the ledger's) carries a one-time
token made by the visitor's browser: sent twice it makes one subscription, and its token cannot
be reused for another. Without a token (no JavaScript) the services still make one row per
address and subject, and a Telegram chat that /starts twice keeps one subscription."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone

from aidhub.models import IdempotentSubmission
from notifications import services
from notifications.models import Subscription

pytestmark = pytest.mark.django_db

SUBSCRIBE = "/notifications/subscribe/"
TOKEN = "b-0123456789abcdef0123456789abcdef"  # what static/js/one-time-token.js makes
HOOK = "http://127.0.0.1:9/hook"  # WEBHOOK_ALLOW_PRIVATE is on in development and tests


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    def run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run


def webhook(**extra):
    return {"scope": "ledger", "ref": "", "channel": "webhook", "address": HOOK, **extra}


def telegram(**extra):
    return {"scope": "ledger", "ref": "", "channel": "telegram", "address": "", **extra}


def email(address="donor@example.org", **extra):
    return {"scope": "ledger", "ref": "", "channel": "email", "address": address, **extra}


def test_the_public_form_has_an_empty_token_field_and_the_script_that_fills_it(client):
    page = client.get("/ledger/verify/")
    assert '<input type="hidden" name="idempotency_key" value="" data-one-time-token>' in page.text
    assert "js/one-time-token.js" in page.text


def test_a_webhook_sent_twice_with_one_token_is_one_subscription_its_secret_shown_once(client):
    first = client.post(SUBSCRIBE, webhook(idempotency_key=TOKEN))
    second = client.post(SUBSCRIBE, webhook(idempotency_key=TOKEN))
    subscription = Subscription.objects.get()
    assert first.status_code == second.status_code == 200
    assert subscription.secret in first.text
    assert subscription.secret not in second.text
    assert "already created" in second.text and "not recorded twice" in second.text
    assert list(IdempotentSubmission.objects.values_list("key", "user")) == [(TOKEN, None)]


def test_telegram_sent_twice_with_one_token_shows_the_same_start_code(client):
    first = client.post(SUBSCRIBE, telegram(idempotency_key=TOKEN))
    second = client.post(SUBSCRIBE, telegram(idempotency_key=TOKEN))
    subscription = Subscription.objects.get()
    assert f"/start {subscription.token}" in first.text
    assert f"/start {subscription.token}" in second.text


def test_the_same_token_for_another_subscription_is_refused_with_409(client):
    client.post(SUBSCRIBE, telegram(idempotency_key=TOKEN))
    reused = client.post(SUBSCRIBE, webhook(idempotency_key=TOKEN))
    assert reused.status_code == 409
    assert list(Subscription.objects.values_list("channel", flat=True)) == ["telegram"]


def test_two_visitors_cannot_share_a_token_either():
    Client().post(SUBSCRIBE, telegram(idempotency_key=TOKEN))
    assert Client().post(SUBSCRIBE, webhook(idempotency_key=TOKEN)).status_code == 409


@pytest.mark.parametrize(
    "guessed", ["0123456789abcdef0123456789abcdef", "b-1234", "anything-at-all-here"]
)
def test_a_token_neither_signed_nor_browser_made_is_ignored_and_never_stored(client, guessed):
    first = client.post(SUBSCRIBE, telegram(idempotency_key=guessed))
    second = client.post(SUBSCRIBE, webhook(idempotency_key=guessed))
    assert first.status_code == second.status_code == 200
    assert not IdempotentSubmission.objects.exists()
    assert Subscription.objects.count() == 2


def test_a_form_refused_keeps_its_token_for_the_corrected_one(client):
    refused = client.post(SUBSCRIBE, email(address="not an address", idempotency_key=TOKEN))
    assert refused.status_code == 400 and not IdempotentSubmission.objects.exists()
    assert client.post(SUBSCRIBE, email(idempotency_key=TOKEN)).status_code == 200
    assert Subscription.objects.count() == 1


# ---- without a token: the services -----------------------------------------------------------


def confirmations(address="donor@example.org"):
    return [m for m in mail.outbox if address in m.to]


def test_an_email_asked_for_again_is_one_row_and_its_confirmation_resent_only_after_minutes(
    client, run_on_commit
):
    answers = [run_on_commit(client.post, SUBSCRIBE, email()).text for _ in range(3)]
    assert Subscription.objects.count() == 1
    assert len(confirmations()) == 1  # the first; the copies a moment later send nothing
    assert answers[0] == answers[1] == answers[2]
    later = timezone.now() + timedelta(minutes=services.CONFIRMATION_RESEND_MINUTES, seconds=1)
    with time_machine.travel(later, tick=False):
        again = run_on_commit(client.post, SUBSCRIBE, email()).text
        run_on_commit(client.post, SUBSCRIBE, email())
    assert again == answers[0]
    assert Subscription.objects.count() == 1 and len(confirmations()) == 2
    assert confirmations()[0].body.split("\n")[0] == confirmations()[1].body.split("\n")[0]


def test_an_active_email_subscription_asked_for_again_sends_nothing_and_answers_the_same(
    client, run_on_commit
):
    pending = run_on_commit(client.post, SUBSCRIBE, email()).text
    services.subscription_confirm(token=Subscription.objects.get().token)
    mail.outbox.clear()
    later = timezone.now() + timedelta(hours=1)
    with time_machine.travel(later, tick=False):
        active = run_on_commit(client.post, SUBSCRIBE, email()).text
    assert active == pending and not mail.outbox and Subscription.objects.count() == 1


def test_a_chat_that_starts_two_requests_for_one_subject_keeps_one_subscription(client):
    client.post(SUBSCRIBE, telegram())
    client.post(SUBSCRIBE, telegram())  # no JavaScript: two pending requests
    first, second = Subscription.objects.order_by("pk")
    assert services.telegram_start(token=first.token, chat_id="4242").pk == first.pk
    kept = services.telegram_start(token=second.token, chat_id="4242")
    assert kept.pk == first.pk and kept.is_active
    assert list(Subscription.objects.values_list("pk", "address")) == [(first.pk, "4242")]
