"""The signed-in "Follow more" form carries a one-time token like every form that writes: a
double tap follows once, and its token cannot be reused to follow something else."""

import pytest

from notifications.models import Subscription
from tests.aidhub.test_idempotency import one_time_token
from tests.factories import HubFactory, UserFactory

pytestmark = pytest.mark.django_db

MINE = "/notifications/"


@pytest.fixture
def follower(client):
    user = UserFactory(username="dinara", email="dinara@example.org")
    client.force_login(user)
    return user


@pytest.fixture
def hub():
    return HubFactory(slug="sports-palace", name="Sports Palace")


def test_the_follow_form_carries_a_fresh_one_time_token(client, follower):
    assert one_time_token(client.get(MINE)) != one_time_token(client.get(MINE))


def test_following_by_telegram_sent_twice_with_one_token_follows_once(client, follower, hub):
    # A Telegram subscription has no address until /start, so nothing else makes a copy one.
    token = one_time_token(client.get(MINE))
    sent = {"scope": "hub", "ref": hub.slug, "channel": "telegram", "idempotency_key": token}
    first, second = client.post(MINE, sent), client.post(MINE, sent)
    assert (first.status_code, second.status_code) == (302, 302)
    assert first["Location"] == second["Location"] == MINE
    assert Subscription.objects.filter(user=follower).count() == 1
    assert "not recorded twice" in client.get(MINE).text


def test_the_same_token_to_follow_something_else_is_refused_with_409(client, follower, hub):
    token = one_time_token(client.get(MINE))
    client.post(MINE, {"scope": "hub", "ref": hub.slug, "channel": "telegram",
                       "idempotency_key": token})  # fmt: skip
    reused = client.post(
        MINE, {"scope": "urgency", "ref": "1", "channel": "telegram", "idempotency_key": token}
    )
    assert reused.status_code == 409
    assert list(Subscription.objects.filter(user=follower).values_list("scope", flat=True)) == [
        "hub"
    ]


def test_a_refused_follow_keeps_its_token_for_the_corrected_form(client, follower, hub):
    token = one_time_token(client.get(MINE))
    wrong = client.post(
        MINE, {"scope": "urgency", "ref": "7", "channel": "telegram", "idempotency_key": token}
    )
    assert wrong.status_code == 200 and "critical (1)" in wrong.text
    right = client.post(
        MINE, {"scope": "urgency", "ref": "1", "channel": "telegram", "idempotency_key": token}
    )
    assert right.status_code == 302
    assert Subscription.objects.filter(user=follower, scope="urgency", ref="1").count() == 1
