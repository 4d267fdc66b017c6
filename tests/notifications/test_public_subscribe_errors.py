"""A public follow form that comes back with an error keeps what it follows and offers only
what fits it: a donor following a fundraiser is not offered a webhook."""

import pytest

from notifications.models import Subscription

pytestmark = pytest.mark.django_db
SUBSCRIBE = "/notifications/subscribe/"


def test_an_error_keeps_the_fundraiser_and_offers_no_webhook(client, fundraiser):
    response = client.post(
        SUBSCRIBE, {"scope": "fundraiser", "ref": fundraiser.slug, "channel": "email"}
    )
    assert response.status_code == 400
    page = response.text
    assert f"Follow “{fundraiser.title}”" in page
    assert f'href="/fundraisers/{fundraiser.slug}/"' in page
    assert f'value="{fundraiser.slug}"' in page  # the hidden ref goes back with the form
    assert 'value="webhook"' not in page
    assert "Enter where to send the messages." in page


def test_a_webhook_for_a_fundraiser_is_refused(client, fundraiser):
    response = client.post(
        SUBSCRIBE,
        {
            "scope": "fundraiser",
            "ref": fundraiser.slug,
            "channel": "webhook",
            "address": "https://mirror.example.org/hook",
        },
    )
    assert response.status_code == 400
    assert not Subscription.objects.exists()


def test_the_ledger_form_still_offers_a_webhook(client):
    response = client.post(SUBSCRIBE, {"scope": "ledger", "ref": "", "channel": "webhook"})
    assert response.status_code == 400
    assert 'value="webhook"' in response.text
    assert 'href="/ledger/verify/"' in response.text
