"""A group's public page: its name, country and description in the visitor's language, its hubs
and fundraisers, never its members; the hub and fundraiser pages link to it."""

from datetime import date
from decimal import Decimal

import pytest

from donations.models import Fundraiser
from groups.models import Role
from tests.factories import HubFactory, MemberFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def fundraiser(almaty, organiser):
    return Fundraiser.objects.create(
        slug="almaty-for-batken", title="Almaty for Batken", organiser=organiser, group=almaty,
        goal_amount=Decimal(100), currency="KZT", starts_on=date(2026, 11, 1),
    )  # fmt: skip


def test_the_group_page_shows_its_hubs_and_fundraisers_but_no_member(
    client, almaty, organiser, fundraiser
):
    hub = HubFactory(group=almaty, name="Sports Palace")
    HubFactory(group=almaty, name="Closed tent", is_active=False)
    HubFactory(name="Someone else's hub")
    MemberFactory(group=almaty, user=UserFactory(username="bakyt", first_name="Bakyt"),
                  role=Role.VOLUNTEER)  # fmt: skip
    page = client.get("/groups/almaty-initiative/")
    assert page.status_code == 200
    text = page.text
    assert "Almaty initiative" in text and "Kazakhstan" in text
    assert "Journalists raising money." in text
    assert fundraiser.get_absolute_url() in text and hub.get_absolute_url() in text
    assert "Closed tent" not in text and "Someone else" not in text
    for name in ("dana", "bakyt", "Bakyt"):
        assert name not in text


def test_the_group_page_speaks_the_visitors_language(client, almaty):
    page = client.get("/groups/almaty-initiative/", HTTP_ACCEPT_LANGUAGE="ru")
    assert "Алматинская инициатива" in page.text and "Журналисты собирают деньги." in page.text


def test_an_unknown_or_closed_group_is_not_found(client, almaty):
    assert client.get("/groups/nobody/").status_code == 404
    almaty.is_active = False
    almaty.save()
    assert client.get("/groups/almaty-initiative/").status_code == 404


def test_the_fundraiser_and_hub_pages_link_to_their_group(client, almaty, fundraiser):
    hub = HubFactory(group=almaty)
    for url in (fundraiser.get_absolute_url(), hub.get_absolute_url()):
        assert 'href="/groups/almaty-initiative/"' in client.get(url).text


def test_a_hubs_page_shows_its_groups_new_name_at_once(client, almaty):
    hub = HubFactory(group=almaty)
    assert "Almaty initiative" in client.get(hub.get_absolute_url()).text  # now in the cache
    almaty.name = "Almaty mutual aid"
    almaty.save()  # as the admin saves it
    assert "Almaty mutual aid" in client.get(hub.get_absolute_url()).text


def test_a_fundraisers_page_shows_its_groups_new_name_at_once(client, almaty, fundraiser):
    # Signed in, as the page's parts are kept for everyone (a visitor without a session is
    # served the whole page from the cache for up to a minute, as after a title edit).
    client.force_login(UserFactory(username="reader"))
    assert "Almaty initiative" in client.get(fundraiser.get_absolute_url()).text
    almaty.name = "Almaty mutual aid"
    almaty.save()
    assert "Almaty mutual aid" in client.get(fundraiser.get_absolute_url()).text
