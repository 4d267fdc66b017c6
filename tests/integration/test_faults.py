"""Faults while volunteers submit delivery reports: Redis killed and restarted, a worker killed
with SIGKILL, PostgreSQL crashed and restarted. Afterwards nothing accepted is lost, nothing is
duplicated, every notification is sent once and the ledger still verifies.

The database that crashes is a cluster of the test's own (PrivatePostgres): the one on
127.0.0.1:5432 is shared by every test run on the machine.
"""

import os
import signal
import threading
import time
import uuid
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import close_old_connections
from django.test import Client
from django.utils import timezone

from aidhub.models import IdempotentSubmission
from deliveries import services
from deliveries.models import Delivery, ProofOfDelivery
from donations.models import Fundraiser
from ledger import merkle
from ledger import services as ledger
from ledger.models import LedgerEntry
from ledger.store import DatabaseNodeStore
from ledger.verify import root_from_leaf_hashes, verify_entries
from notifications import services as notifications
from notifications.models import Notification, Subscription
from tests.factories import (
    PASSWORD,
    HubFactory,
    ItemFactory,
    MembershipFactory,
    PlaceFactory,
    UserFactory,
    organised_by,
    stock,
)
from tests.ledger.factories import jpeg_bytes
from tests.notifications.receiver import Receiver

from .conftest import start_worker, stop_worker, wait_for

pytestmark = pytest.mark.usefixtures("ledger_transactional_db")


@pytest.fixture
def crew(media):
    """A hub with stock, a coordinator, a volunteer with dispatched deliveries, a subscriber."""
    coordinator = UserFactory(username="cora", is_staff=True)
    volunteer = UserFactory(username="vova")
    hub = HubFactory()
    MembershipFactory(user=coordinator, hub=hub, role="coordinator")
    MembershipFactory(user=volunteer, hub=hub, role="volunteer")
    flour = ItemFactory()
    stock(hub, flour, "1000")
    fundraiser = Fundraiser.objects.create(
        slug="batken", title="Batken", **organised_by(coordinator), goal_amount=100, currency="KZT",
        starts_on=timezone.localdate(),
    )  # fmt: skip
    # The hub is the fundraiser's group's own: a delivery credits only such a fundraiser (or
    # one whose goods the hub accepted).
    hub.group = fundraiser.group
    hub.save(update_fields=["group"])
    place = PlaceFactory()
    deliveries = []
    for _ in range(12):
        delivery = services.delivery_plan(
            hub=hub, place=place, lines=[(flour, Decimal(5))], by=coordinator,
            fundraisers=[fundraiser],
        )  # fmt: skip
        services.delivery_claim(delivery=delivery, volunteer=volunteer)
        services.delivery_dispatch(delivery=delivery, volunteer=volunteer)
        deliveries.append(delivery)
    return coordinator, volunteer, deliveries


def phone_of(volunteer) -> Client:
    """The volunteer's logged-in phone; a server error comes back as a 500, as over HTTP."""
    client = Client(raise_request_exception=False)
    assert client.login(username=volunteer.username, password=PASSWORD)
    return client


def submit(client: Client, delivery: Delivery, key: str, n: int) -> int:
    photo = SimpleUploadedFile("p.jpg", jpeg_bytes((n * 20 % 255, 90, 40)), "image/jpeg")
    # What Django's WSGI handler does at the start and end of every request (the test client
    # skips it): a connection broken by a database restart is dropped, the next one is new.
    close_old_connections()
    try:
        form = {"idempotency_key": key, "people": "30", "households": "", "note": ""}
        response = client.post(f"/deliveries/{delivery.slug}/report/", {**form, "photos": [photo]})
    finally:
        close_old_connections()
    return response.status_code


def submit_until_accepted(
    client: Client, delivery: Delivery, n: int, *, attempts: int = 5, pause: float = 0
) -> list[int]:
    """Like the phone's offline queue: resend with the same key until the server says 302."""
    key = uuid.uuid4().hex
    statuses = []
    for attempt in range(attempts):
        if attempt:
            time.sleep(pause)
        statuses.append(submit(client, delivery, key, n))
        if statuses[-1] == 302:
            # A retry the phone sends anyway (it never saw the answer): must change nothing.
            statuses.append(submit(client, delivery, key, n))
            return statuses
    return statuses


def assert_nothing_lost_or_duplicated(deliveries: list[Delivery]) -> None:
    for delivery in deliveries:
        assert ProofOfDelivery.objects.filter(delivery=delivery).count() == 1, delivery.slug
    assert IdempotentSubmission.objects.count() == len(deliveries)


def follow_by_webhook(receiver) -> None:
    Subscription.objects.create(
        channel="webhook", address=f"{receiver.url}/hook", scope="fundraiser", ref="batken",
        confirmed_at=timezone.now(),
    )  # fmt: skip


def verify(coordinator, deliveries) -> None:
    """The coordinator verifies each report; each becomes one entry and one notification."""
    for delivery in deliveries:
        delivery.refresh_from_db()
        services.delivery_verify(delivery=delivery, coordinator=coordinator)


def assert_each_sent_once(receiver, count: int) -> None:
    def all_sent():
        """every notification to be sent"""
        close_old_connections()  # as beat does between runs: a restarted database reconnects
        notifications.sweep()  # what beat does every minute
        return not Notification.objects.exclude(status="sent").exists()

    wait_for(all_sent, timeout=90, interval=1)
    assert Notification.objects.filter(kind="delivery").count() == count
    assert len(receiver.delivery_ids()) == count  # one delivery id each


def verify_and_notify(coordinator, deliveries, receiver) -> None:
    follow_by_webhook(receiver)
    verify(coordinator, deliveries)
    assert_each_sent_once(receiver, len(deliveries))


def assert_ledger_verifies() -> None:
    checkpoint = ledger.checkpoint_sign()
    leaves = [
        bytes(x) for x in LedgerEntry.objects.order_by("index").values_list("leaf", flat=True)
    ]
    hashes, _evidence = verify_entries(leaves, strict=True)
    root = root_from_leaf_hashes(hashes)
    assert root == merkle.root(len(leaves), DatabaseNodeStore())
    assert bytes(checkpoint.root_hash) == root


def test_reports_sent_while_redis_is_killed_and_restarted_are_kept_once(private_redis, crew):
    coordinator, volunteer, deliveries = crew
    worker = start_worker(REDIS_URL=private_redis.url)
    try:
        client = phone_of(volunteer)
        statuses = []
        for n, delivery in enumerate(deliveries):
            if n == 4:
                private_redis.proc.send_signal(signal.SIGKILL)
                private_redis.proc.wait(timeout=10)
            if n == 8:
                private_redis.start()
            statuses.append(submit_until_accepted(client, delivery, n))
        # While the broker is down a report commits but its answer is a 500 (the on-commit
        # thumbnail enqueue raises); the resend with the same key then gets the 302.
        assert all(302 in s for s in statuses), statuses
        assert_nothing_lost_or_duplicated(deliveries)
        with Receiver() as receiver:
            verify_and_notify(coordinator, deliveries, receiver)
        assert_ledger_verifies()
    finally:
        stop_worker(worker)


def test_reports_sent_while_a_worker_is_killed_are_kept_once(private_redis, crew):
    coordinator, volunteer, deliveries = crew
    worker = start_worker(REDIS_URL=private_redis.url)
    try:
        client = phone_of(volunteer)
        for n, delivery in enumerate(deliveries):
            if n == 6:
                os.kill(worker.pid, signal.SIGKILL)
                worker.wait(timeout=10)
                worker = start_worker(REDIS_URL=private_redis.url)
            assert 302 in submit_until_accepted(client, delivery, n)
        assert_nothing_lost_or_duplicated(deliveries)
        with Receiver() as receiver:
            verifying = deliveries[:6]
            verify_and_notify(coordinator, verifying, receiver)
            # A worker killed while notifications go out: the sweep hands them to a new one.
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)
            worker = start_worker(REDIS_URL=private_redis.url)
            for delivery in deliveries[6:]:
                delivery.refresh_from_db()
                services.delivery_verify(delivery=delivery, coordinator=coordinator)
            wait_for(
                lambda: (
                    notifications.sweep() >= 0
                    and not Notification.objects.exclude(status="sent").exists()
                ),
                timeout=90,
                interval=1,
            )
            assert len(receiver.delivery_ids()) == len(deliveries)
        assert Notification.objects.filter(kind="delivery").count() == len(deliveries)
        assert_ledger_verifies()
    finally:
        stop_worker(worker)


def test_reports_sent_while_postgresql_crashes_and_restarts_are_kept_once(
    private_postgres, private_redis, crew, settings
):
    # A message delivered just before the crash cannot be marked sent: its row stays claimed
    # (`sending`) until the sweep frees it after this long, and it goes out again with the same
    # delivery id (at least once on the wire, as documented for receivers).
    settings.NOTIFICATION_SENDING_TIMEOUT = 2
    coordinator, volunteer, deliveries = crew
    worker = start_worker(
        REDIS_URL=private_redis.url,
        DATABASE_URL=private_postgres.url,
        NOTIFICATION_RETRY_BASE="1",  # a send that failed in the crash is retried within seconds
    )
    try:
        client = phone_of(volunteer)
        statuses = []
        for n, delivery in enumerate(deliveries):
            if n == 4:
                # The database dies under the web process and the worker (which is making the
                # thumbnails of the reports just sent) and comes back while phones resend.
                private_postgres.crash()
                threading.Timer(1.0, private_postgres.start).start()
            statuses.append(submit_until_accepted(client, delivery, n, attempts=40, pause=0.25))
        assert statuses[4][0] == 500, statuses  # the crash was felt by the report sent into it
        assert all(302 in s for s in statuses), statuses
        assert_nothing_lost_or_duplicated(deliveries)
        with Receiver() as receiver:
            follow_by_webhook(receiver)
            verify(coordinator, deliveries[:6])
            # Again while the worker sends the notifications of those six.
            private_postgres.crash()
            private_postgres.start()
            close_old_connections()
            verify(coordinator, deliveries[6:])
            assert_each_sent_once(receiver, len(deliveries))
        assert_ledger_verifies()
    finally:
        stop_worker(worker)
