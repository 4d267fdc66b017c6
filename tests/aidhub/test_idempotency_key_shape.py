"""A one-time token is exactly its pattern: `$` would also match before a trailing newline, so
"a"*64 + "\n" (65 characters) would pass as a signed-in key and overflow the 64-character
column, and `b-<hex>\n` would be a second anonymous key beside `b-<hex>`."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.test import RequestFactory

from aidhub import idempotency
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

BROWSER_MADE = "b-0123456789abcdef0123456789abcdef"


def post(key: str, user=None):
    request = RequestFactory().post("/notifications/subscribe/", {"idempotency_key": key})
    request.user = user or AnonymousUser()
    return request


def test_a_signed_in_key_with_a_trailing_newline_is_refused():
    with pytest.raises(ValidationError):
        idempotency.submission(post("a" * 64 + "\n", user=UserFactory()))


def test_a_signed_in_post_with_a_65_character_key_is_a_form_error_not_a_500(client):
    client.force_login(UserFactory())
    response = client.post(
        "/notifications/",
        {"scope": "urgency", "ref": "1", "channel": "telegram", "idempotency_key": "a" * 64 + "\n"},
    )
    assert response.status_code == 200
    assert "This form is out of date" in response.text


@pytest.mark.parametrize("key", [BROWSER_MADE + "\n", idempotency.anonymous_token() + "\n"])
def test_an_anonymous_key_with_a_trailing_newline_is_ignored(key):
    assert idempotency.submission(post(key)) is None
