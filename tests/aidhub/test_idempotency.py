"""One-time tokens (aidhub/idempotency.py), shown on the hub's "goods received" form: a form
sent twice is recorded once, and its token cannot be reused for something else. Tokens are per
account: another account's use of the same token is in test_idempotency_per_account.py."""

import re
from decimal import Decimal

import pytest

from aidhub.models import IdempotentSubmission
from hubs.models import Membership, StockLevel, StockMovement
from ledger.models import LedgerEntry
from tests.factories import PASSWORD, HubFactory, ItemFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

# A signed-in user's token, or a signed one for a visitor without an account.
TOKEN = re.compile(
    r'<input type="hidden" name="idempotency_key"'
    r' value="([0-9a-f]{32}|s-[0-9a-f]{32}-[0-9a-f]{28})">'
)
RECEIVE = "/hubs/sports-palace/receive/"


def one_time_token(response) -> str:
    """The token of the (first) form on a page, as a browser would send it back."""
    found = TOKEN.search(response.text)
    assert found, "the form carries no one-time token"
    return found.group(1)


@pytest.fixture
def hub():
    return HubFactory(slug="sports-palace", name="Sports Palace", accepts=["hygiene"])


@pytest.fixture
def soap():
    return ItemFactory(slug="soap", name="Soap", category="hygiene", unit="piece")


def coordinator_of(hub, username="aigerim"):
    user = UserFactory(username=username, is_staff=True)
    MembershipFactory(hub=hub, user=user, role=Membership.Role.COORDINATOR)
    return user


@pytest.fixture
def owner(client, hub):
    user = coordinator_of(hub)
    assert client.login(username=user.username, password=PASSWORD)
    return user


def received(item, quantity, **extra):
    return {
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-0-item": item.pk,
        "lines-0-quantity": quantity,
        "public_name": "",
        **extra,
    }


def soap_at(hub, soap) -> Decimal:
    level = StockLevel.objects.filter(hub=hub, item=soap).first()
    return level.quantity if level else Decimal(0)


@pytest.mark.parametrize(
    "page", [RECEIVE, "/hubs/sports-palace/transfer/", "/hubs/sports-palace/adjust/",
             "/hubs/sports-palace/requests/new/", "/hubs/sports-palace/deliveries/new/"],
)  # fmt: skip
def test_every_coordinator_form_carries_a_fresh_one_time_token(client, hub, owner, page):
    first, second = client.get(page), client.get(page)
    assert first.status_code == 200
    assert one_time_token(first) != one_time_token(second)


def test_7_soap_received_sent_twice_with_one_token_is_7(client, hub, owner, soap):
    token = one_time_token(client.get(RECEIVE))
    responses = [client.post(RECEIVE, received(soap, "7", idempotency_key=token)) for _ in range(2)]
    assert [r.status_code for r in responses] == [302, 302]
    assert responses[0]["Location"] == responses[1]["Location"]
    assert soap_at(hub, soap) == 7
    assert StockMovement.objects.count() == 1 and LedgerEntry.objects.count() == 1
    page = client.get(responses[1]["Location"])
    assert "This was already recorded; it was not recorded twice." in page.text


def test_the_same_token_with_another_body_is_a_409_and_records_nothing(client, hub, owner, soap):
    token = one_time_token(client.get(RECEIVE))
    client.post(RECEIVE, received(soap, "7", idempotency_key=token))
    response = client.post(RECEIVE, received(soap, "70", idempotency_key=token))
    assert response.status_code == 409
    assert "This form was already sent" in response.text
    assert soap_at(hub, soap) == 7 and LedgerEntry.objects.count() == 1


def test_the_same_token_on_another_form_is_a_409(client, hub, owner, soap):
    token = one_time_token(client.get(RECEIVE))
    client.post(RECEIVE, received(soap, "7", idempotency_key=token))
    response = client.post(
        "/hubs/sports-palace/adjust/",
        {"item": soap.pk, "delta": "-3", "reason": "count", "idempotency_key": token},
    )
    assert response.status_code == 409
    assert soap_at(hub, soap) == 7


def test_a_refused_form_keeps_its_token_free_for_the_corrected_one(client, hub, owner, soap):
    hub.is_active = False
    hub.save()
    token = one_time_token(client.get(RECEIVE))
    refused = client.post(RECEIVE, received(soap, "7", idempotency_key=token))
    assert refused.status_code == 200 and not IdempotentSubmission.objects.exists()
    hub.is_active = True
    hub.save()
    again = client.post(RECEIVE, received(soap, "7", idempotency_key=token))
    assert again.status_code == 302 and soap_at(hub, soap) == 7


def test_a_token_that_is_not_one_is_refused_with_a_message(client, hub, owner, soap):
    response = client.post(RECEIVE, received(soap, "7", idempotency_key="x" * 65))
    assert response.status_code == 200
    assert "This form is out of date" in response.text
    assert soap_at(hub, soap) == 0


def test_a_post_without_a_token_is_accepted_unprotected(client, hub, owner, soap):
    """Our forms always carry a token; a client that leaves it out gets no deduplication,
    as if it had sent two tokens."""
    for _ in range(2):
        assert client.post(RECEIVE, received(soap, "7")).status_code == 302
    assert soap_at(hub, soap) == 14 and not IdempotentSubmission.objects.exists()
