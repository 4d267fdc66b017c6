"""A donation, a correction or a statement import sent twice is recorded once."""

import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections
from django.test import Client
from django.utils import timezone

from donations import services
from donations.models import Donation
from ledger.models import LedgerEntry
from tests.aidhub.test_idempotency import one_time_token
from tests.factories import PASSWORD

from .test_views import donation_form, statement_confirm, url

pytestmark = [pytest.mark.django_db, pytest.mark.clock]


@pytest.fixture
def recorded(fundraiser):
    return services.donation_record(
        fundraiser=fundraiser, amount="1000", currency="KZT", received_at=timezone.now(),
        channel="cash", by=None, public_name="",
    )  # fmt: skip


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)


def test_a_donation_sent_twice_with_its_token_is_one_donation_and_one_entry(client, fundraiser):
    login(client, fundraiser.organiser)
    token = one_time_token(client.get(url(fundraiser, "donations/new/")))
    form = donation_form(idempotency_key=token)
    responses = [client.post(url(fundraiser, "donations/new/"), form) for _ in range(2)]
    assert [r.status_code for r in responses] == [302, 302]
    assert responses[0]["Location"] == responses[1]["Location"]
    assert Donation.objects.count() == 1 and LedgerEntry.objects.count() == 1


def test_a_donation_token_reused_for_another_amount_is_a_409_and_writes_nothing(client, fundraiser):
    login(client, fundraiser.organiser)
    token = one_time_token(client.get(url(fundraiser, "donations/new/")))
    client.post(url(fundraiser, "donations/new/"), donation_form(idempotency_key=token))
    response = client.post(
        url(fundraiser, "donations/new/"), donation_form(amount="9999", idempotency_key=token)
    )
    assert response.status_code == 409
    assert [d.amount for d in Donation.objects.all()] == [2500]
    assert LedgerEntry.objects.count() == 1


def test_a_correction_sent_twice_gets_the_first_answer_not_a_404(client, fundraiser, recorded):
    login(client, fundraiser.organiser)
    page = url(fundraiser, f"donations/{recorded.pk}/correct/")
    form = {"reason": "wrong fundraiser", "idempotency_key": one_time_token(client.get(page))}
    first, again = client.post(page, form), client.post(page, form)
    assert (first.status_code, again.status_code) == (302, 302)
    assert first["Location"] == again["Location"]
    assert LedgerEntry.objects.filter(kind="correction").count() == 1


def test_a_statement_confirmed_twice_imports_once(client, fundraiser):
    login(client, fundraiser.organiser)
    today = timezone.localdate().isoformat()
    upload = SimpleUploadedFile("s.csv", f"date,amount,currency\n{today},15000,KZT\n".encode())
    preview = client.post(url(fundraiser, "statement/"), {"statement": upload})
    confirm = {**statement_confirm(preview), "idempotency_key": one_time_token(preview)}
    first, again = (client.post(url(fundraiser, "statement/"), confirm) for _ in range(2))
    assert (first.status_code, again.status_code) == (302, 302)
    assert Donation.objects.count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_two_identical_donation_posts_at_the_same_moment_record_one_donation(
    ledger_transactional_db, fundraiser
):
    token = "0f7c2e9a4b1d4c55a1b2c3d4e5f60718"
    form = donation_form(idempotency_key=token)
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def post() -> None:
        try:
            client = Client()
            client.force_login(fundraiser.organiser)
            barrier.wait()
            outcomes.append(client.post(url(fundraiser, "donations/new/"), form).status_code)
        except Exception as exc:  # the outcome is the point
            outcomes.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcomes == [302, 302]
    assert Donation.objects.count() == 1
    assert LedgerEntry.objects.filter(kind="donation").count() == 1
