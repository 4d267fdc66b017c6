"""One-time tokens of visitors without an account (aidhub/idempotency.py): their own namespace,
UNIQUE (key) among the rows without a user, and only keys nobody else can guess get there: signed
by the server or made by the visitor's browser."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError, transaction
from django.template import Context, Template
from django.test import RequestFactory

from aidhub import idempotency
from aidhub.models import IdempotentSubmission
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

BROWSER_MADE = "b-0123456789abcdef0123456789abcdef"


def post(key: str, user=None):
    request = RequestFactory().post("/notifications/subscribe/", {"idempotency_key": key})
    request.user = user or AnonymousUser()
    return request


def test_the_database_keeps_one_anonymous_row_per_key_beside_any_accounts_own():
    IdempotentSubmission.objects.create(key=BROWSER_MADE, user=None, result="1")
    IdempotentSubmission.objects.create(key=BROWSER_MADE, user=UserFactory(), result="2")
    with pytest.raises(IntegrityError), transaction.atomic():
        IdempotentSubmission.objects.create(key=BROWSER_MADE, user=None, result="3")
    assert IdempotentSubmission.objects.filter(key=BROWSER_MADE).count() == 2


def test_a_signed_or_browser_made_key_is_an_anonymous_submission():
    for key in (idempotency.anonymous_token(), BROWSER_MADE):
        found = idempotency.submission(post(key))
        assert found is not None and found.key == key and found.user_id is None


@pytest.mark.parametrize(
    "guessed",
    [
        "0123456789abcdef0123456789abcdef",  # a signed-in user's kind of token
        "b-0123456789ABCDEF0123456789ABCDEF",
        "b-0123456789abcdef",
        "api:0123456789abcdef",
        "s-" + "0" * 32 + "-" + "0" * 28,  # the shape of a signed one, not signed by us
    ],
)
def test_any_other_anonymous_key_is_ignored_and_never_stored(guessed):
    assert idempotency.submission(post(guessed)) is None

    def write() -> str:
        return "/done/"

    response = idempotency.respond(post(guessed), write)
    assert response.status_code == 302 and not IdempotentSubmission.objects.exists()


def test_a_signature_made_with_another_secret_key_is_not_accepted(settings):
    token = idempotency.anonymous_token()
    settings.SECRET_KEY = "another-" + settings.SECRET_KEY
    assert idempotency.submission(post(token)) is None


def test_an_anonymous_repeat_gets_the_first_result_and_another_body_a_409():
    token = idempotency.anonymous_token()
    calls = []

    def write() -> str:
        calls.append(1)
        return "/done/"

    first = idempotency.submission(post(token)).run(write)
    repeat = idempotency.submission(post(token)).run(write)
    assert (first, repeat) == (("/done/", False), ("/done/", True)) and calls == [1]
    other = RequestFactory().post("/notifications/subscribe/", {"idempotency_key": token, "x": "1"})
    other.user = AnonymousUser()
    assert idempotency.respond(other, write).status_code == 409 and calls == [1]


def test_the_tag_signs_the_token_of_a_visitor_without_an_account():
    page = Template("{% load idempotency %}{% one_time_token %}")
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    anonymous = page.render(Context({"request": request}))
    request.user = UserFactory()
    signed_in = page.render(Context({"request": request}))
    assert 'value="s-' in anonymous
    key = anonymous.split('value="')[1].split('"')[0]
    assert idempotency.anonymous_key_accepted(key)
    assert idempotency.KEY.match(signed_in.split('value="')[1].split('"')[0])
    assert 'value="s-' not in signed_in
