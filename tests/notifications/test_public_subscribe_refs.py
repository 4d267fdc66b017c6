"""The public follow form follows only what exists: a ref the form refused is never looked up
(a NUL byte made PostgreSQL fail the lookup: a 500), and a fundraiser ref that names no
fundraiser is refused, so the form cannot be used to mail an address once per made-up ref."""

import pytest

from notifications.models import Notification, Subscription

pytestmark = pytest.mark.django_db
SUBSCRIBE = "/notifications/subscribe/"


def test_a_ref_the_form_refused_is_not_looked_up(client):
    response = client.post(SUBSCRIBE, {"scope": "fundraiser", "ref": "a\x00b", "channel": "email"})
    assert response.status_code == 400
    assert not Subscription.objects.exists()


def test_a_fundraiser_that_does_not_exist_cannot_be_followed(client):
    for i in range(5):
        response = client.post(
            SUBSCRIBE,
            {
                "scope": "fundraiser",
                "ref": f"nope-{i}",
                "channel": "email",
                "address": "victim@example.org",
            },
        )
        assert response.status_code == 400
        assert "There is no such fundraiser." in response.text
    assert not Subscription.objects.exists()
    assert not Notification.objects.exists()


def test_a_fundraiser_form_without_a_ref_is_refused(client):
    response = client.post(
        SUBSCRIBE,
        {"scope": "fundraiser", "ref": "", "channel": "email", "address": "a@example.org"},
    )
    assert response.status_code == 400
    assert not Subscription.objects.exists()


def test_a_fundraiser_that_exists_is_still_followed(client, fundraiser):
    response = client.post(
        SUBSCRIBE,
        {
            "scope": "fundraiser",
            "ref": fundraiser.slug,
            "channel": "email",
            "address": "a@example.org",
        },
    )
    assert response.status_code == 200
    assert Subscription.objects.get().ref == fundraiser.slug
