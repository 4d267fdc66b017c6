from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from hubs import services
from hubs.models import Membership, StockLevel, SupplyRequest
from tests.factories import (
    PASSWORD,
    HubFactory,
    ItemFactory,
    MembershipFactory,
    PlaceFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def hub():
    return HubFactory(slug="sports-palace", name="Sports Palace", accepts=["food", "baby"])


@pytest.fixture
def other_hub():
    return HubFactory(slug="osh-warehouse", name="Osh warehouse")


@pytest.fixture
def flour():
    return ItemFactory()


@pytest.fixture
def owner(hub):
    """A coordinator of the hub."""
    return MembershipFactory(hub=hub, user=UserFactory(username="aigerim", is_staff=True)).user


@pytest.fixture
def stranger(other_hub):
    """A coordinator of another hub."""
    return MembershipFactory(hub=other_hub, user=UserFactory(username="timur", is_staff=True)).user


@pytest.fixture
def hub_volunteer(hub):
    return MembershipFactory(
        hub=hub, role=Membership.Role.VOLUNTEER, user=UserFactory(username="bakyt")
    ).user


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


# ---- public pages ---------------------------------------------------------------------------


def test_hub_list_and_page_show_what_a_hub_accepts(client, hub, flour):
    hub.surplus_items.add(flour)
    assert "Sports Palace" in client.get("/hubs/").text
    text = client.get("/hubs/sports-palace/").text
    assert "Food, Baby care" in text
    assert "Please do not bring" in text and "Flour" in text
    assert "Manage this hub" not in text


def test_inactive_hub_is_not_public(client, hub):
    hub.is_active = False
    hub.save()
    assert client.get("/hubs/sports-palace/").status_code == 404
    assert "Sports Palace" not in client.get("/hubs/").text


def test_needs_board_lists_open_requests_by_urgency_and_filters(client, hub, flour):
    critical = PlaceFactory(name="Ak-Sai")
    normal = PlaceFactory(name="Nookat", region__slug="osh", region__name="Osh")
    bags = ItemFactory(slug="sleeping-bag", name="Sleeping bag", category="shelter", unit="piece")
    services.request_create(hub=hub, place=normal, lines=[(bags, 5)], by=None, urgency=3)
    services.request_create(hub=hub, place=critical, lines=[(flour, 100)], by=None, urgency=1)
    text = client.get("/needs/").text
    assert text.index("Ak-Sai") < text.index("Nookat")
    assert [r.place.name for r in client.get("/needs/?region=osh").context["requests"]] == [
        "Nookat"
    ]
    assert [r.place.name for r in client.get("/needs/?category=food").context["requests"]] == [
        "Ak-Sai"
    ]
    assert [r.place.name for r in client.get("/needs/?urgency=2").context["requests"]] == ["Ak-Sai"]


def test_needs_board_makes_the_same_number_of_queries_for_more_requests(client, hub, flour):
    services.request_create(hub=hub, place=PlaceFactory(), lines=[(flour, 1)], by=None)
    with CaptureQueriesContext(connection) as few:
        client.get("/needs/")
    for _ in range(10):
        services.request_create(hub=hub, place=PlaceFactory(), lines=[(flour, 1)], by=None)
    with CaptureQueriesContext(connection) as many:
        client.get("/needs/")
    assert len(many) == len(few)


def test_requester_contact_is_never_on_public_pages(client, hub, flour):
    place = PlaceFactory(slug="ak-sai")
    services.request_create(
        hub=hub, place=place, lines=[(flour, 1)], by=None, requester_contact="+996 555 000 111"
    )
    for url in ["/needs/", "/places/ak-sai/", "/hubs/sports-palace/", "/gaps/"]:
        assert "555 000 111" not in client.get(url).text


def test_gaps_list_places_waiting_with_nothing_delivered(client, hub, flour):
    waiting = PlaceFactory(name="Kara-Bak")
    served = PlaceFactory(name="Isfana")
    services.request_create(hub=hub, place=waiting, lines=[(flour, 10)], by=None, urgency=2)
    served_request = services.request_create(
        hub=hub, place=served, lines=[(flour, 10)], by=None, urgency=1
    )
    from django.utils import timezone

    services.request_record_delivery(
        request=served_request, lines=[(flour, Decimal(2))], delivered_at=timezone.now()
    )
    response = client.get("/gaps/")
    assert [gap.place.name for gap in response.context["gaps"]] == ["Kara-Bak"]
    assert "never delivered" in response.text


def test_place_page_shows_its_requests_and_deliveries_from_the_ledger(client, hub, flour):
    place = PlaceFactory(slug="isfana", name="Isfana")
    services.request_create(hub=hub, place=place, lines=[(flour, 10)], by=None)
    response = client.get("/places/isfana/")
    assert response.status_code == 200
    assert len(response.context["requests"]) == 1
    assert "Nothing has been delivered here yet." in response.text
    assert client.get("/places/nowhere/").status_code == 404


# ---- coordinator pages ----------------------------------------------------------------------

COORDINATOR_URLS = [
    "/hubs/sports-palace/manage/",
    "/hubs/sports-palace/receive/",
    "/hubs/sports-palace/transfer/",
    "/hubs/sports-palace/adjust/",
    "/hubs/sports-palace/requests/new/",
]


@pytest.mark.parametrize("url", COORDINATOR_URLS)
def test_anonymous_visitor_is_sent_to_log_in(client, hub, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("url", COORDINATOR_URLS)
def test_coordinator_of_another_hub_gets_404(client, hub, stranger, url):
    login(client, stranger)
    assert client.get(url).status_code == 404
    if not url.endswith("/manage/"):  # the dashboard takes no POST at all (405 for everyone)
        assert client.post(url, {}).status_code == 404


@pytest.mark.parametrize("url", COORDINATOR_URLS)
def test_volunteer_of_the_hub_gets_404(client, hub, hub_volunteer, url):
    login(client, hub_volunteer)
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("url", COORDINATOR_URLS)
def test_coordinator_opens_every_page_of_their_hub(client, hub, owner, url):
    login(client, owner)
    assert client.get(url).status_code == 200


def lines(*pairs):
    data = {"lines-TOTAL_FORMS": "4", "lines-INITIAL_FORMS": "0"}
    for n, (item, quantity) in enumerate(pairs):
        data[f"lines-{n}-item"] = item.pk
        data[f"lines-{n}-quantity"] = quantity
    return data


def test_coordinator_records_goods_received(client, hub, owner, flour):
    login(client, owner)
    response = client.post(
        "/hubs/sports-palace/receive/", {**lines((flour, "25.5")), "public_name": ""}
    )
    assert response.status_code == 302
    assert StockLevel.objects.get(hub=hub, item=flour).quantity == Decimal("25.5")


def test_bad_quantity_on_the_form_writes_nothing_and_says_why(client, hub, owner, flour):
    login(client, owner)
    response = client.post("/hubs/sports-palace/receive/", lines((flour, "-4")))
    assert response.status_code == 200
    assert "Ensure this value is greater than or equal to 0.001" in response.text
    response = client.post("/hubs/sports-palace/receive/", lines())
    assert "List at least one item." in response.text
    assert not StockLevel.objects.exists()


def test_dispatching_more_than_held_via_transfer_shows_the_stock_error(
    client, hub, other_hub, owner, flour
):
    login(client, owner)
    response = client.post(
        "/hubs/sports-palace/transfer/", {**lines((flour, "5")), "to_hub": other_hub.pk}
    )
    assert response.status_code == 200
    assert "has only 0 kg of Flour left" in response.text


def test_duplicate_request_form_offers_to_update_the_open_one(client, hub, owner, flour):
    place = PlaceFactory()
    existing = services.request_create(hub=hub, place=place, lines=[(flour, 5)], by=None)
    login(client, owner)
    response = client.post(
        "/hubs/sports-palace/requests/new/",
        {**lines((flour, "7")), "place": place.pk, "urgency": 1},
    )
    assert response.status_code == 200
    assert f"/requests/{existing.pk}/edit/" in response.text
    assert SupplyRequest.objects.count() == 1


def test_request_pages_of_another_hub_are_404(client, hub, stranger, flour):
    request = services.request_create(hub=hub, place=PlaceFactory(), lines=[(flour, 5)], by=None)
    login(client, stranger)
    for url in [f"/requests/{request.pk}/edit/", f"/requests/{request.pk}/cancel/"]:
        assert client.get(url).status_code == 404
        assert client.post(url, {"reason": "mine now"}).status_code == 404
    request.refresh_from_db()
    assert request.status == SupplyRequest.Status.OPEN


def test_coordinator_cancels_a_request_with_a_reason(client, hub, owner, flour):
    request = services.request_create(hub=hub, place=PlaceFactory(), lines=[(flour, 5)], by=None)
    login(client, owner)
    assert (
        client.post(f"/requests/{request.pk}/cancel/", {"reason": "filed twice"}).status_code == 302
    )
    request.refresh_from_db()
    assert (request.status, request.cancel_reason) == ("cancelled", "filed twice")


# ---- admin ----------------------------------------------------------------------------------


def test_admin_shows_a_coordinator_only_their_hubs(client, hub, other_hub, owner):
    login(client, owner)
    response = client.get("/admin/hubs/hub/")
    assert response.status_code == 200
    assert "Sports Palace" in response.text and "Osh warehouse" not in response.text
    assert client.get(f"/admin/hubs/hub/{hub.pk}/change/").status_code == 200
    assert client.get(f"/admin/hubs/hub/{other_hub.pk}/change/").status_code == 302


def test_admin_hides_other_hubs_requests_and_refuses_their_change(
    client, hub, other_hub, owner, flour
):
    mine = services.request_create(hub=hub, place=PlaceFactory(), lines=[(flour, 1)], by=None)
    theirs = services.request_create(
        hub=other_hub, place=PlaceFactory(), lines=[(flour, 1)], by=None
    )
    login(client, owner)
    listed = client.get("/admin/hubs/supplyrequest/").context["cl"].result_list
    assert list(listed) == [mine]
    response = client.post(
        f"/admin/hubs/supplyrequest/{theirs.pk}/change/", {"urgency": 1, "note": "taken over"}
    )
    assert response.status_code == 302
    theirs.refresh_from_db()
    assert theirs.note == ""


def test_admin_cancel_action_asks_for_a_reason_then_cancels(client, hub, owner, flour):
    request = services.request_create(hub=hub, place=PlaceFactory(), lines=[(flour, 1)], by=None)
    login(client, owner)
    data = {"action": "cancel_requests", "_selected_action": [request.pk]}
    response = client.post("/admin/hubs/supplyrequest/", data)
    assert "Why are they cancelled?" in response.text
    client.post("/admin/hubs/supplyrequest/", {**data, "reason": "village evacuated"})
    request.refresh_from_db()
    assert request.status == "cancelled"


def test_people_without_a_hub_cannot_use_the_admin(client, hub):
    login(client, UserFactory(username="donor", is_staff=True))
    assert client.get("/admin/hubs/hub/").status_code == 403
    client.logout()
    assert client.get("/admin/hubs/hub/").status_code == 302


def test_admin_transfer_action_leads_to_the_hubs_transfer_form(client, hub, owner):
    login(client, owner)
    response = client.post(
        "/admin/hubs/hub/", {"action": "transfer_stock", "_selected_action": [hub.pk]}
    )
    assert response.status_code == 302
    assert response["Location"] == "/hubs/sports-palace/transfer/"


def test_hub_list_offers_a_map_only_as_an_extra(client, hub):
    hub.latitude, hub.longitude = 42.8765, 74.5918
    hub.save()
    text = client.get("/hubs/").text
    assert 'id="show-map"' in text and " hidden " in text  # shown by the script, if it runs
    assert 'data-lat="42.876500"' in text
    assert "/static/js/hubs-map.js" in text


@pytest.mark.parametrize(
    "url",
    [
        "/admin/hubs/membership/",
        "/admin/hubs/stockmovement/",
        "/admin/hubs/place/",
        "/admin/hubs/item/",
        "/admin/hubs/region/",
        "/admin/hubs/supplyrequest/",
    ],
)
def test_admin_pages_refuse_people_without_a_hub(client, hub, url):
    login(client, UserFactory(username="outsider", is_staff=True))
    assert client.get(url).status_code == 403


def test_admin_memberships_of_other_hubs_are_hidden(client, hub, other_hub, owner, stranger):
    login(client, owner)
    listed = client.get("/admin/hubs/membership/").context["cl"].result_list
    assert {m.hub for m in listed} == {hub}
    theirs = stranger.memberships.get()
    assert client.get(f"/admin/hubs/membership/{theirs.pk}/change/").status_code == 302
