"""Notifications are never lost: real Redis, real worker processes, a real webhook receiver."""

import os
import signal
from datetime import timedelta

import pytest
from django.utils import timezone

from notifications import services
from notifications.models import Notification, Subscription
from tests.factories import PASSWORD, UserFactory, organised_by
from tests.notifications.receiver import Receiver

from .conftest import start_worker, stop_worker, wait_for

pytestmark = pytest.mark.usefixtures("ledger_transactional_db")


def webhook_subscriber(url: str, scope: str = "ledger", ref: str = "") -> Subscription:
    return Subscription.objects.create(
        channel="webhook", address=url, scope=scope, ref=ref, confirmed_at=timezone.now()
    )


def status_of(row_id: int):
    def check():
        """the notification to reach its final state"""
        row = Notification.objects.get(pk=row_id)
        return row if row.status in ("sent", "failed") else None

    return check


def test_a_donation_recorded_while_redis_is_down_is_told_once_redis_is_back(
    client, private_redis, media
):
    from donations.models import Fundraiser

    organiser = UserFactory(username="dana")
    fundraiser = Fundraiser.objects.create(
        slug="batken",
        title="Batken",
        **organised_by(organiser),
        goal_amount=100,
        currency="KZT",
        starts_on=timezone.localdate() - timedelta(days=1),
    )
    worker = start_worker(REDIS_URL=private_redis.url)
    try:
        with Receiver() as receiver:
            webhook_subscriber(f"{receiver.url}/hook", "fundraiser", "batken")
            private_redis.stop()
            assert client.login(username="dana", password=PASSWORD)
            response = client.post(
                f"/fundraisers/{fundraiser.slug}/donations/new/",
                {
                    "amount": "30",
                    "currency": "KZT",
                    "channel": "cash",
                    "received_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
                },
            )
            assert response.status_code == 302  # the organiser's work is saved regardless
            row = Notification.objects.get(kind="milestone")
            assert row.status == "pending"

            private_redis.start()
            services.sweep()  # what beat does every minute
            final = wait_for(status_of(row.pk), timeout=60)
        assert final.status == "sent"
        assert len(receiver.requests) == 1
        assert receiver.json()["event"] == "milestone"
    finally:
        stop_worker(worker)


def test_a_worker_killed_while_sending_leads_to_exactly_one_delivery(private_redis, settings):
    settings.NOTIFICATION_SENDING_TIMEOUT = 1
    worker = start_worker(REDIS_URL=private_redis.url)
    try:
        with Receiver(delay=8) as receiver:
            webhook_subscriber(f"{receiver.url}/hook")
            services.notify(
                event="checkpoint:7",
                kind="checkpoint",
                scopes=[("ledger", "")],
                context={"size": 7, "note": "n"},
            )
            row = Notification.objects.get()
            services.enqueue([row.pk])
            assert receiver.arrived.wait(timeout=30), "the worker never started sending"
            os.kill(worker.pid, signal.SIGKILL)  # in the middle of the HTTP request
            worker.wait(timeout=10)
            assert Notification.objects.get(pk=row.pk).status == "sending"

            receiver.delay = 0
            worker = start_worker(REDIS_URL=private_redis.url)
            # What beat does every minute: once the claim is older than the sending timeout,
            # the row is freed and handed to the new worker.
            wait_for(lambda: services.sweep() > 0, timeout=30)
            final = wait_for(status_of(row.pk), timeout=60)
        assert final.status == "sent" and final.attempts == 2
        # The receiver saw the interrupted attempt and the resend, with one delivery id: it
        # acts on it once (AidHub's webhooks are at-least-once with a stable id).
        assert len(receiver.delivery_ids()) == 1
        assert Notification.objects.filter(status="sent").count() == 1
    finally:
        stop_worker(worker)


def test_a_webhook_that_times_out_is_retried_and_then_marked_failed(private_redis):
    worker = start_worker(
        REDIS_URL=private_redis.url,
        WEBHOOK_TIMEOUT="1",
        NOTIFICATION_MAX_ATTEMPTS="3",
        NOTIFICATION_RETRY_BASE="0.2",
        NOTIFICATION_RETRY_MAX="0.5",
    )
    try:
        with Receiver(delay=3) as receiver:
            webhook_subscriber(f"{receiver.url}/hook")
            services.notify(
                event="checkpoint:9",
                kind="checkpoint",
                scopes=[("ledger", "")],
                context={"size": 9, "note": "n"},
            )
            row = Notification.objects.get()
            services.enqueue([row.pk])
            final = wait_for(status_of(row.pk), timeout=60)
        assert final.status == "failed"
        assert final.attempts == 3
        assert "gave up after 3 attempts" in final.last_error
        assert "timed out" in final.last_error
        assert len(receiver.requests) == 3
    finally:
        stop_worker(worker)
