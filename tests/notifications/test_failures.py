"""A notification that cannot be sent never fails, delays or half-undoes the write that
produced it: in the embedded default (tasks run eagerly in the request) as with a broker."""

from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from hubs import services as hubs
from hubs.models import SupplyRequest
from ledger.models import LedgerEntry
from notifications import channels
from notifications.models import Notification, Subscription
from tests.factories import PASSWORD, HubFactory, ItemFactory, PlaceFactory

pytestmark = [pytest.mark.django_db, pytest.mark.clock]


def follow(scope: str, ref: str, address: str = "a@example.org") -> Subscription:
    return Subscription.objects.create(
        channel="email", address=address, scope=scope, ref=ref, confirmed_at=timezone.now()
    )


def test_a_donation_whose_notification_fails_is_saved_and_the_notification_waits(
    client, fundraiser, monkeypatch, django_capture_on_commit_callbacks
):
    calls = []

    def broken(*args, **kwargs):
        calls.append(args)
        raise RuntimeError("the mail library blew up")

    monkeypatch.setattr(channels, "send_email", broken)
    follow("fundraiser", fundraiser.slug)
    assert client.login(username="dana", password=PASSWORD)
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
    assert response.status_code == 302  # the organiser's work is saved regardless
    donation = fundraiser.donations.get()
    assert LedgerEntry.objects.filter(index=donation.ledger_index, kind="donation").exists()
    row = Notification.objects.get(kind="milestone")
    assert row.status == "pending" and row.attempts == 1
    assert row.next_attempt_at > timezone.now() and "blew up" in row.last_error
    # Tried once; the retry is the sweep's, later, not a synchronous loop inside the request.
    assert len(calls) == 1


def test_an_eager_retry_does_not_call_the_task_again_in_the_request(monkeypatch):
    from notifications import tasks

    monkeypatch.setattr(
        channels, "send_email", lambda *a, **k: (_ for _ in ()).throw(channels.Transient("503"))
    )
    row = Notification.objects.create(
        event="e:1", kind="confirm", channel="email", address="a@example.org", context={}
    )
    again = []
    monkeypatch.setattr(tasks.notification_send, "apply_async", lambda *a, **k: again.append(a))
    assert tasks.notification_send.apply((row.pk,)).get() == "pending"
    assert again == []


def test_a_place_named_with_a_line_break_cannot_add_a_header(django_capture_on_commit_callbacks):
    hub, item = HubFactory(), ItemFactory()
    place = PlaceFactory(name="A\r\nBcc: x@example.org")
    follow("region", place.region.slug, "r@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        request = hubs.request_create(
            hub=hub,
            place=place,
            lines=[(item, Decimal(5))],
            by=None,
            urgency=SupplyRequest.Urgency.CRITICAL,
        )
    assert SupplyRequest.objects.filter(pk=request.pk).exists()
    (message,) = mail.outbox
    assert message.subject == "Critical need in A Bcc: x@example.org"
    assert message.bcc == [] and message.recipients() == ["r@example.org"]
    assert "Bcc" not in str(message.message()).split("\n\n", 1)[0].replace(message.subject, "")
    assert Notification.objects.get(kind="request").status == "sent"


def test_a_message_the_mail_library_refuses_is_failed_not_retried_forever(monkeypatch):
    def refuse(*args, **kwargs):
        raise ValueError("Header values may not contain linefeed or carriage return characters")

    monkeypatch.setattr("notifications.channels.EmailMessage.send", refuse)
    row = Notification.objects.create(
        event="e:1", kind="confirm", channel="email", address="a@example.org", context={}
    )
    from notifications import services

    assert services.send(row.pk) == "failed"
    assert "linefeed" in Notification.objects.get(pk=row.pk).last_error
