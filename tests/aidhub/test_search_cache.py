"""What a search finds is kept in the cache ({% fragment %} in search.html) under the versions
of what it shows (aidhub.search.version): a write shows in the next search at once."""

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

from donations.models import Fundraiser
from hubs import services
from tests.aidhub import test_search
from tests.factories import PlaceFactory

pytestmark = pytest.mark.django_db
world = test_search.world  # the fixture


@pytest.fixture
def visitor() -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="ru")
    client.cookies[settings.SESSION_COOKIE_NAME] = "no-such-session"
    return client


def test_a_search_comes_from_the_cache_until_something_is_written(
    visitor, world, django_assert_max_num_queries
):
    first = visitor.get("/search/?q=Исфан")
    assert "water-for-isfana" in first.text
    with django_assert_max_num_queries(1):  # the session
        again = visitor.get("/search/?q=Исфан")
    assert again.content == first.content


def test_writes_show_in_the_next_search(visitor, world):
    found = visitor.get("/search/?q=Исфан").text
    assert "Питьевая вода" in found  # the open request's line
    assert label(Fundraiser.Status.ACTIVE) in found
    services.request_cancel(request=world["request"], reason="sent by others", by=None)
    assert "Питьевая вода" not in visitor.get("/search/?q=Исфан").text
    PlaceFactory(slug="isfana-2", name="Isfana 2", name_ru="Исфана 2")
    assert "Исфана 2" in visitor.get("/search/?q=Исфан").text
    fundraiser = Fundraiser.objects.get(slug="water-for-isfana")
    fundraiser.status = Fundraiser.Status.CLOSED
    fundraiser.save()
    assert label(Fundraiser.Status.CLOSED) in visitor.get("/search/?q=Исфан").text


def label(status: Fundraiser.Status) -> str:
    with translation.override("ru"):
        return str(status.label)
