"""The fundraiser page for visitors with a session (everyone logged in): what every visitor sees
alike comes from the cache until the ledger, the fundraiser or its ways to pay change; the
organiser's buttons and the follow form are drawn for each visitor."""

from unittest import mock

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from donations import services
from tests.factories import PASSWORD, payment_method_approved, second_approves

pytestmark = [pytest.mark.django_db, pytest.mark.clock]

SESSION = {"cookie": "sessionid=no-such-session"}  # rendered, not the whole page from the cache


def donate(fundraiser, amount="100.00"):
    return services.donation_record(
        fundraiser=fundraiser, amount=amount, currency="KZT", received_at=timezone.now(),
        channel="cash", by=None,
    )  # fmt: skip


def view(fundraiser, client=None) -> tuple[str, list[str]]:
    client = client or Client(headers=SESSION)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(fundraiser.get_absolute_url())
    assert response.status_code == 200
    return response.text, [query["sql"] for query in captured.captured_queries]


def test_the_second_view_reads_only_the_session_and_the_fundraiser(fundraiser):
    donate(fundraiser, "2500.00")
    first, cold = view(fundraiser)
    again, warm = view(fundraiser)
    assert again == first
    assert [sql for sql in cold if "ledger_ledgerentry" in sql]
    assert sorted(table(sql) for sql in warm) == ["django_session", "donations_fundraiser"]


def table(sql: str) -> str:
    return sql.split(" FROM ", 1)[1].split()[0].strip('"')


def test_a_new_donation_is_on_the_next_view_at_once(fundraiser):
    donate(fundraiser, "2500.00")
    assert "<strong>2,500.00</strong>" in view(fundraiser)[0]
    donate(fundraiser, "1000.00")
    text = view(fundraiser)[0]
    assert "<strong>3,500.00</strong>" in text
    assert "2 donations" in text


def test_a_story_edited_in_the_admin_is_on_the_next_view_at_once(fundraiser):
    view(fundraiser)
    fundraiser.story_en = "Tents arrived in Batken."
    fundraiser.save()
    assert "Tents arrived in Batken." in view(fundraiser)[0]


def test_a_recipient_name_changed_without_a_ledger_entry_is_on_the_next_view(fundraiser):
    method = payment_method_approved(services.payment_method_add(
        fundraiser=fundraiser, by=fundraiser.organiser, kind="e_wallet", label="Kaspi",
        details="+7 701 555 01 22", currency="KZT", recipient_name="Dana O.",
    ))  # fmt: skip
    assert "Recipient: Dana O." in view(fundraiser)[0]
    change = services.payment_method_change(
        method=method, by=fundraiser.organiser, recipient_name="D. O."
    )
    assert "Recipient: Dana O." in view(fundraiser)[0]  # proposed: nothing changes yet
    second_approves(change)
    assert "Recipient: D. O." in view(fundraiser)[0]
    second_approves(services.payment_method_remove(method=method, by=fundraiser.organiser))
    assert "Recipient:" not in view(fundraiser)[0]


def test_only_the_organiser_gets_the_organisers_buttons_from_the_same_cached_parts(fundraiser):
    donate(fundraiser)
    stranger_page = view(fundraiser)[0]
    organiser = Client()
    assert organiser.login(username=fundraiser.organiser.username, password=PASSWORD)
    organiser_page = view(fundraiser, organiser)[0]
    assert "Record money" in organiser_page and "Record money" not in stranger_page
    assert "Record money" not in view(fundraiser)[0]


def test_the_page_works_when_the_cache_is_down(fundraiser):
    donate(fundraiser, "2500.00")
    down = mock.Mock(side_effect=ConnectionError("down"))
    with mock.patch.multiple(cache, get=down, get_many=down, set=down, set_many=down,
                             delete=down):  # fmt: skip
        assert "<strong>2,500.00</strong>" in view(fundraiser)[0]
        donate(fundraiser, "1000.00")
        assert "<strong>3,500.00</strong>" in view(fundraiser)[0]


# Visitors without a session get the whole page from the cache (aidhub.pagecache): its key
# follows the names' and the ways to pay's versions too, not only the ledger's.


def anonymous(fundraiser) -> str:
    response = Client().get(fundraiser.get_absolute_url())
    assert response.status_code == 200
    return response.text


def kaspi(fundraiser):
    return payment_method_approved(services.payment_method_add(
        fundraiser=fundraiser, by=fundraiser.organiser, kind="e_wallet", label="Kaspi",
        details="+7 701 555 01 22", currency="KZT", recipient_name="Dana O.",
    ))  # fmt: skip


def test_a_visitor_without_a_session_sees_an_approved_recipient_name_at_once(fundraiser):
    method = kaspi(fundraiser)
    assert "Dana O." in anonymous(fundraiser)
    second_approves(services.payment_method_change(
        method=method, by=fundraiser.organiser, recipient_name="Aigerim S.",
    ))  # fmt: skip
    page = anonymous(fundraiser)
    assert "Aigerim S." in page and "Dana O." not in page


def test_a_visitor_without_a_session_is_told_at_once_that_a_closed_fundraiser_takes_nothing(
    fundraiser,
):
    kaspi(fundraiser)
    assert "701 555" in anonymous(fundraiser)
    fundraiser.status = "closed"
    fundraiser.save()
    assert "do not send money to it" in anonymous(fundraiser)
