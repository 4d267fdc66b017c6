import hashlib
import hmac
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from donations import services as donations
from hubs import services as hubs
from ledger import services as ledger
from notifications import services
from notifications.models import Notification, Subscription
from tests.factories import HubFactory, ItemFactory, PlaceFactory

from .receiver import Receiver

pytestmark = [pytest.mark.django_db, pytest.mark.clock]


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run the on-commit work (enqueueing, which is eager in tests) as a real commit would."""

    def run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run


def subscribe_email(client, scope, ref, address="donor@example.org"):
    response = client.post(
        "/notifications/subscribe/",
        {"scope": scope, "ref": ref, "channel": "email", "address": address},
    )
    assert response.status_code == 200
    return Subscription.objects.get(address=address, scope=scope)


def test_donor_subscribes_by_email_with_double_opt_in_and_one_click_unsubscribe(
    client, fundraiser, run_on_commit
):
    # The form sits on pages served whole from the cache, so it carries no CSRF token.
    page = Client(enforce_csrf_checks=True)
    assert "csrfmiddlewaretoken" not in page.get(f"/fundraisers/{fundraiser.slug}/").text
    subscription = run_on_commit(subscribe_email, page, "fundraiser", fundraiser.slug)
    assert not subscription.is_active
    assert len(mail.outbox) == 1 and f"/notifications/confirm/{subscription.token}/" in (
        mail.outbox[0].body
    )
    client.post(f"/notifications/confirm/{subscription.token}/")
    subscription.refresh_from_db()
    assert subscription.is_active

    run_on_commit(
        donations.donation_record,
        fundraiser=fundraiser,
        amount="2700000.00",
        currency="KZT",
        received_at=timezone.now(),
        channel="card",
        by=None,
    )
    milestone = mail.outbox[-1]
    assert "reached 25%" in milestone.subject
    assert milestone.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = milestone.extra_headers["List-Unsubscribe"].strip("<>")
    assert client.post(unsubscribe.replace("http://127.0.0.1:8000", "")).status_code == 200
    assert not Subscription.objects.filter(pk=subscription.pk).exists()


def test_confirm_mail_is_worded_in_the_subscribers_language_with_the_fundraisers_title(
    fundraiser, run_on_commit
):
    # Asked for in English, but the subscription is a Russian speaker's: the sentence is chosen
    # by scope and worded when sent, with the fundraiser's own title in it.
    subscription = run_on_commit(
        services.subscription_create,
        channel="email",
        scope="fundraiser",
        ref=fundraiser.slug,
        language="ru",
        address="donor@example.org",
    )
    assert not subscription.is_active
    (message,) = mail.outbox
    assert message.subject == "Подтвердите подписку на AidHub"
    assert "Чтобы получать новости о сборе «Almaty for Batken», откройте эту ссылку:" in (
        message.body
    )
    assert f"/notifications/confirm/{subscription.token}/" in message.body
    for english in ("A fundraiser", "fundraiser", "E-mail", "updates about"):
        assert english not in message.body
    assert fundraiser.slug not in message.body  # no raw public id either


def test_each_milestone_is_told_once(fundraiser, run_on_commit):
    Subscription.objects.create(
        channel="email",
        address="a@example.org",
        scope="fundraiser",
        ref=fundraiser.slug,
        confirmed_at=timezone.now(),
    )
    for _ in range(3):
        run_on_commit(
            donations.donation_record,
            fundraiser=fundraiser,
            amount="2000000.00",
            currency="KZT",
            received_at=timezone.now(),
            channel="card",
            by=None,
        )
    subjects = [m.subject for m in mail.outbox]
    assert subjects == ["“Almaty for Batken” reached 25%", "“Almaty for Batken” reached 50%"]


def test_critical_request_reaches_region_and_urgency_subscribers_but_normal_does_not(
    run_on_commit,
):
    hub, place, item = HubFactory(), PlaceFactory(name="Ak-Sai"), ItemFactory()
    for scope, ref, address in [
        ("region", "batken", "r@example.org"),
        ("urgency", "2", "u@example.org"),
        ("urgency", "1", "critical-only@example.org"),
    ]:
        Subscription.objects.create(
            channel="email", address=address, scope=scope, ref=ref, confirmed_at=timezone.now()
        )
    run_on_commit(
        hubs.request_create, hub=hub, place=place, lines=[(item, Decimal(5))], by=None, urgency=2
    )
    assert sorted(m.to[0] for m in mail.outbox) == ["r@example.org", "u@example.org"]
    assert mail.outbox[0].subject == "High need in Ak-Sai"
    assert "Flour 5 kg" in mail.outbox[0].body
    mail.outbox.clear()
    run_on_commit(
        hubs.request_create, hub=hub, place=PlaceFactory(), lines=[(item, 1)], by=None, urgency=3
    )
    assert mail.outbox == []


def test_checkpoint_goes_to_a_webhook_signed_with_its_secret(media, run_on_commit):
    from tests.ledger.factories import donation

    with Receiver() as receiver:
        subscription = services.subscription_create(
            channel="webhook",
            scope="ledger",
            ref="",
            language="en",
            address=f"{receiver.url}/hook",
        )
        ledger.append(kind="donation", payload=donation())
        run_on_commit(ledger.checkpoint_sign)
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    expected = hmac.new(subscription.secret.encode(), request["body"], hashlib.sha256)
    assert request["headers"]["x-aidhub-signature"] == "sha256=" + expected.hexdigest()
    assert request["headers"]["x-aidhub-event"] == "checkpoint"
    assert json.loads(request["body"])["data"]["size"] == 1


def test_telegram_start_links_a_chat_and_messages_go_through_the_bot_api(
    client, settings, fundraiser, run_on_commit
):
    settings.TELEGRAM_BOT_TOKEN = "123:abc"
    settings.TELEGRAM_WEBHOOK_SECRET = "s3cret-path"
    response = client.post(
        "/notifications/subscribe/",
        {"scope": "fundraiser", "ref": fundraiser.slug, "channel": "telegram", "address": ""},
    )
    subscription = response.context["subscription"]
    assert f"/start {subscription.token}" in response.text
    update = {"message": {"text": f"/start {subscription.token}", "chat": {"id": 777}}}
    assert (
        client.post(
            "/notifications/telegram/wrong/", update, content_type="application/json"
        ).status_code
        == 404
    )
    client.post("/notifications/telegram/s3cret-path/", update, content_type="application/json")
    subscription.refresh_from_db()
    assert (subscription.address, subscription.is_active) == ("777", True)
    with Receiver() as bot_api:
        settings.TELEGRAM_API_URL = bot_api.url
        run_on_commit(
            donations.donation_record,
            fundraiser=fundraiser,
            amount="2700000.00",
            currency="KZT",
            received_at=timezone.now(),
            channel="card",
            by=None,
        )
    assert bot_api.requests[0]["path"] == "/bot123:abc/sendMessage"
    sent = bot_api.json(0)
    assert sent["chat_id"] == "777" and "reached 25%" in sent["text"]
    assert "/notifications/unsubscribe/" in sent["text"]


def webhook_row(url, event="e:1"):
    subscription = Subscription.objects.create(
        channel="webhook", address=url, scope="ledger", ref="", confirmed_at=timezone.now()
    )
    return Notification.objects.create(
        event=event,
        kind="checkpoint",
        channel="webhook",
        address=url,
        subscription=subscription,
        context={"size": 1, "note": "n"},
    )


def test_a_transient_failure_is_retried_later_then_marked_failed(settings):
    settings.NOTIFICATION_MAX_ATTEMPTS = 2
    with Receiver(status=503) as receiver:
        row = webhook_row(f"{receiver.url}/hook")
        assert services.send(row.pk) == "pending"
        row.refresh_from_db()
        assert row.attempts == 1 and row.next_attempt_at > timezone.now()
        assert "503" in row.last_error
        assert services.send(row.pk) == "pending"  # not due yet: nothing is sent
        Notification.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
        assert services.send(row.pk) == "failed"
    row.refresh_from_db()
    assert "gave up after 2 attempts" in row.last_error
    assert len(receiver.requests) == 2


def test_a_permanent_refusal_fails_at_once():
    with Receiver(status=410) as receiver:
        row = webhook_row(f"{receiver.url}/hook")
        assert services.send(row.pk) == "failed"
    assert "410" in Notification.objects.get(pk=row.pk).last_error


def test_a_sent_notification_is_never_sent_again():
    with Receiver() as receiver:
        row = webhook_row(f"{receiver.url}/hook")
        assert services.send(row.pk) == "sent"
        assert services.send(row.pk) == "sent"
    assert len(receiver.requests) == 1


def test_the_same_event_is_queued_once_per_address(fundraiser):
    Subscription.objects.create(
        channel="email",
        address="a@example.org",
        scope="fundraiser",
        ref=fundraiser.slug,
        confirmed_at=timezone.now(),
    )
    for _ in range(2):
        services.notify(
            event="delivery:x",
            kind="delivery",
            context={},
            scopes=[("fundraiser", fundraiser.slug)],
        )
    assert Notification.objects.count() == 1


def test_webhooks_to_private_addresses_are_refused_in_production(settings):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    with Receiver() as receiver:
        row = webhook_row(f"{receiver.url}/hook")
        assert services.send(row.pk) == "failed"
    assert "private address" in Notification.objects.get(pk=row.pk).last_error
    assert receiver.requests == []


def test_a_worker_lost_while_sending_is_resent_by_the_sweep(settings):
    settings.NOTIFICATION_SENDING_TIMEOUT = 60
    with Receiver() as receiver:
        row = webhook_row(f"{receiver.url}/hook")
        Notification.objects.filter(pk=row.pk).update(
            status="sending", claimed_at=timezone.now() - timedelta(minutes=5), attempts=1
        )
        assert services.sweep() == 1  # eager in tests: the resend happens right here
    row.refresh_from_db()
    assert row.status == "sent" and row.attempts == 2


def test_a_broker_that_is_down_does_not_fail_the_request(
    client, fundraiser, settings, monkeypatch, run_on_commit
):
    from aidhub.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", False)
    monkeypatch.setitem(app.conf, "broker_url", "redis://127.0.0.1:9/0")
    monkeypatch.setitem(app.conf, "broker_connection_timeout", 1)
    monkeypatch.setitem(app.conf, "broker_transport_options", {"socket_connect_timeout": 1})
    monkeypatch.setitem(app.conf, "task_publish_retry", False)
    # A fresh connection pool for the dead broker, and a fresh one again for later tests.
    monkeypatch.setattr(app, "_pool", None)
    Subscription.objects.create(
        channel="email",
        address="a@example.org",
        scope="fundraiser",
        ref=fundraiser.slug,
        confirmed_at=timezone.now(),
    )
    run_on_commit(
        donations.donation_record,
        fundraiser=fundraiser,
        amount="2700000.00",
        currency="KZT",
        received_at=timezone.now(),
        channel="card",
        by=None,
    )
    row = Notification.objects.get()
    assert row.status == "pending"  # waiting for the sweep once the broker is back


def test_coordinators_get_a_daily_digest_once_per_day(run_on_commit):
    from deliveries.services import coordinator_digest
    from tests.factories import MembershipFactory, UserFactory

    hub, item = HubFactory(name="Sports Palace"), ItemFactory()
    MembershipFactory(hub=hub, user=UserFactory(username="aigerim", email="a@aidhub.example"))
    request = hubs.request_create(hub=hub, place=PlaceFactory(), lines=[(item, 50)], by=None)
    SupplyRequest = type(request)
    SupplyRequest.objects.filter(pk=request.pk).update(
        created_at=timezone.now() - timedelta(hours=50)
    )
    assert run_on_commit(coordinator_digest) == 1
    assert run_on_commit(coordinator_digest) == 0
    digest = mail.outbox[-1]
    assert digest.subject == "Daily summary for Sports Palace"
    assert "Requests waiting more than 48 hours: 1" in digest.body
    assert "Stock lower than open requests: Flour" in digest.body


def test_the_demo_users_follow_things_and_the_demo_produces_their_messages(media, run_on_commit):
    from django.core.management import call_command

    run_on_commit(call_command, "seed_demo")
    subjects = [m.subject for m in mail.outbox]
    assert "Your donation reached Isfana" in subjects
    assert "Critical need in Ak-Sai" in subjects
    assert any("reached 25%" in s for s in subjects)


def test_counts_in_messages_take_the_plural_form_of_the_language():
    from notifications.messages import render

    def delivery(people):
        context = {"people": people, "place": "Ak-Sai", "fundraiser": "Winter coal"}
        return render("delivery", context, "ru")[1].splitlines()[0]

    def checkpoint(size):
        return render("checkpoint", {"size": size}, "ru")[0]

    assert delivery(1) == (
        "Ak-Sai: вещи, купленные на сбор «Winter coal», получил 1 человек. Подтверждение:"
    )
    assert "получили 3 человека." in delivery(3)
    assert "получили 5 человек." in delivery(5)
    assert delivery("3") == delivery(3)  # a count kept as text in the context still counts
    assert checkpoint(1) == "Новая контрольная точка реестра: 1 запись"
    assert checkpoint(3) == "Новая контрольная точка реестра: 3 записи"
    assert checkpoint(5) == "Новая контрольная точка реестра: 5 записей"
    assert checkpoint(21) == "Новая контрольная точка реестра: 21 запись"
    assert render("checkpoint", {"size": 1}, "en")[0] == "New ledger checkpoint: 1 entry"


def test_a_request_subject_is_one_whole_sentence_per_urgency():
    from notifications.messages import render

    def subject(urgency, language="en"):
        context = {"urgency": urgency, "place": "Ak-Sai", "region": "Batken", "items": "Flour"}
        return render("request", context, language)[0]

    assert subject(1) == "Critical need in Ak-Sai"
    assert subject(2) == "High need in Ak-Sai"
    assert subject(3) == "Normal need in Ak-Sai"
    assert subject(9) == "Need in Ak-Sai"
    assert subject(1, "ru") == "Очень срочно: нужна помощь — Ak-Sai"
    assert subject(2, "ky") == "Шашылыш: Ak-Sai — жардам керек"


def test_pages_name_what_is_followed_in_constant_queries(client, fundraiser, volunteer):
    hub = HubFactory(name="Sports Palace")

    def follow(scope, ref):
        return Subscription.objects.create(
            channel="telegram", scope=scope, ref=ref, user=volunteer, language="en"
        )

    for scope, ref in [("fundraiser", fundraiser.slug), ("hub", hub.slug), ("urgency", "1")]:
        follow(scope, ref)
    client.force_login(volunteer)
    with CaptureQueriesContext(connection) as few:
        page = client.get("/notifications/")
    for shown in ["A fundraiser: Almaty for Batken", "A hub: Sports Palace", ": Critical"]:
        assert shown in page.text
    assert f": {fundraiser.slug}" not in page.text
    follow("hub", HubFactory(name="Kara-Suu").slug)
    follow("fundraiser", "closed-long-ago")  # nothing has that slug now: the slug is shown
    with CaptureQueriesContext(connection) as many:
        page = client.get("/notifications/")
    assert "A hub: Kara-Suu" in page.text and ": closed-long-ago" in page.text
    assert len(many) == len(few)

    subscription = follow("fundraiser", fundraiser.slug)
    confirm = client.get(f"/notifications/confirm/{subscription.token}/")
    assert "A fundraiser: Almaty for Batken" in confirm.text
