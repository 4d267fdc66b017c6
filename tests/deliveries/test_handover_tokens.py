"""The recipient's handover confirmation carries a one-time token like every form that writes:
a double tap is answered as the first was, and the token cannot be reused for another answer.
The recipient has no account: the token is signed by the server and kept among the anonymous
ones (no user), never under the volunteer's account."""

from decimal import Decimal

import pytest

from aidhub import idempotency
from aidhub.models import IdempotentSubmission
from deliveries import services
from deliveries.models import Handover
from tests.aidhub.test_idempotency import one_time_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def dispatched(stocked, place, flour, coordinator, volunteer):
    delivery = services.delivery_plan(
        hub=stocked, place=place, lines=[(flour, Decimal("30"))], by=coordinator
    )
    services.delivery_claim(delivery=delivery, volunteer=volunteer)
    services.delivery_dispatch(delivery=delivery, volunteer=volunteer)
    return delivery


@pytest.fixture
def code(dispatched, volunteer):
    return services.handover_code_issue(delivery=dispatched, volunteer=volunteer).code


@pytest.fixture
def confirm(dispatched):
    return f"/handover/{dispatched.slug}/"


def test_the_confirm_form_carries_a_fresh_one_time_token(client, confirm, code):
    assert one_time_token(client.get(confirm)) != one_time_token(client.get(confirm))


def test_the_recipients_token_is_signed_by_the_server(client, confirm, code):
    token = one_time_token(client.get(confirm))
    assert token.startswith("s-") and idempotency.anonymous_key_accepted(token)
    forged = token[:-4] + ("0000" if not token.endswith("0000") else "1111")
    assert not idempotency.anonymous_key_accepted(forged)


def test_a_confirmation_sent_twice_with_one_token_is_confirmed_once_and_says_so(
    client, confirm, code, dispatched
):
    token = one_time_token(client.get(confirm))
    sent = {"code": code, "role": "village head", "idempotency_key": token}
    first, second = client.post(confirm, sent), client.post(confirm, sent)
    assert first.context["confirmed"] and second.context["confirmed"]
    assert "no handover waiting" not in second.text
    assert "not recorded twice" in second.text
    handover = Handover.objects.get(delivery=dispatched)
    assert handover.confirmed_at is not None and handover.confirmed_role == "village head"
    # Among the anonymous tokens, as sent: not under the volunteer's account.
    assert list(IdempotentSubmission.objects.values_list("key", "user")) == [(token, None)]


def test_the_same_token_with_another_answer_is_refused_with_409(client, confirm, code, dispatched):
    token = one_time_token(client.get(confirm))
    client.post(confirm, {"code": code, "role": "village head", "idempotency_key": token})
    reused = client.post(confirm, {"code": code, "role": "teacher", "idempotency_key": token})
    assert reused.status_code == 409
    assert Handover.objects.get(delivery=dispatched).confirmed_role == "village head"


def test_a_wrong_code_stays_counted_and_its_token_can_be_sent_again_corrected(
    client, confirm, code, dispatched
):
    token = one_time_token(client.get(confirm))
    wrong = "000000" if code != "000000" else "111111"
    refused = client.post(confirm, {"code": wrong, "idempotency_key": token})
    assert "not right" in refused.text
    assert Handover.objects.get(delivery=dispatched).failed_attempts == 1
    right = client.post(confirm, {"code": code, "idempotency_key": token})
    assert right.status_code == 200 and right.context["confirmed"]


def test_a_token_from_this_page_never_reaches_the_volunteers_own_tokens(
    client, confirm, code, dispatched, volunteer
):
    # The volunteer's own form recorded this token; a visitor sending it here learns nothing.
    IdempotentSubmission.objects.create(
        key="0123456789abcdef", user=volunteer, body_sha256="0" * 64, result="/deliveries/"
    )
    sent = client.post(confirm, {"code": code, "idempotency_key": "0123456789abcdef"})
    assert sent.status_code == 200 and sent.context["confirmed"]


@pytest.mark.parametrize(
    "unsigned",
    ["short", "0123456789abcdef0123456789abcdef", "s-" + "0" * 32 + "-" + "0" * 28],
)
def test_a_token_the_server_did_not_sign_is_ignored_and_never_stored(
    client, confirm, code, dispatched, unsigned
):
    sent = client.post(confirm, {"code": code, "role": "teacher", "idempotency_key": unsigned})
    assert sent.status_code == 200 and sent.context["confirmed"]
    assert not IdempotentSubmission.objects.exists()
    # Unprotected, as without a token: a copy finds the handover already confirmed.
    again = client.post(confirm, {"code": code, "role": "teacher", "idempotency_key": unsigned})
    assert again.status_code == 200 and not again.context["confirmed"]
    assert not IdempotentSubmission.objects.exists()
