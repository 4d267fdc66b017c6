"""A purchase delivered straight to a place: the goods an approved expense bought go to a
village without a hub between, carried by a member of the group, with the same claim, report,
handover code and second-person verification as a hub's delivery, and no stock moving."""

import json
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from aidhub.uploads import CleanFile
from deliveries import services
from deliveries.models import Delivery
from donations import services as donation_services
from donations.models import Fundraiser
from groups.models import Member
from hubs import queries as hub_queries
from hubs import services as hub_services
from hubs.models import StockMovement
from ledger.models import LedgerEntry
from ledger.schemas import PayloadError, validate_payload
from tests.factories import (
    PASSWORD,
    GroupFactory,
    HubFactory,
    ItemFactory,
    MemberFactory,
    PlaceFactory,
    UserFactory,
    expense_approved,
)
from tests.ledger.factories import jpeg_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.clock]
S = Delivery.Status
R = Member.Role


def photo(color=(90, 120, 60)) -> CleanFile:
    return CleanFile(jpeg_bytes(color), "image/jpeg")


def member(group, username, role):
    return MemberFactory(group=group, user=UserFactory(username=username), role=role).user


@pytest.fixture
def batken(db):
    return GroupFactory(slug="batken-volunteers", name="Batken volunteers")


@pytest.fixture
def people(batken):
    return {
        "organiser": member(batken, "aziz", R.ORGANISER),
        "treasurer": member(batken, "saule", R.TREASURER),
        "coordinator": member(batken, "aigerim", R.COORDINATOR),
        "volunteer": member(batken, "bakyt", R.VOLUNTEER),
        "outsider": member(GroupFactory(slug="elsewhere"), "stranger", R.ORGANISER),
    }


@pytest.fixture
def fundraiser(batken, people):
    return Fundraiser.objects.create(
        slug="batken-direct", title="Batken direct", organiser=people["organiser"], group=batken,
        goal_amount=Decimal("100000"), currency="KGS", starts_on=timezone.localdate(),
    )  # fmt: skip


@pytest.fixture
def flour(db):
    return ItemFactory()


@pytest.fixture
def water(db):
    return ItemFactory(slug="water", name="Drinking water", unit="litre", category="water")


@pytest.fixture
def place(db):
    return PlaceFactory(slug="isfana", name="Isfana")


def purchase(fundraiser, lines, *, hub=None, vendor="Batken market"):
    """An approved, public expense of `fundraiser` that bought `lines` (proposed by its
    organiser, approved by the group's treasurer)."""
    treasurer = Member.objects.get(group=fundraiser.group, role=R.TREASURER).user
    return expense_approved(
        fundraiser=fundraiser, approver=treasurer, vendor=vendor, amount="25000.00",
        currency="KGS", paid_at=timezone.now(), receipt=photo((5, 5, 5)), lines=lines, hub=hub,
    )  # fmt: skip


@pytest.fixture
def bought(fundraiser, flour, water, media):
    return purchase(fundraiser, [(flour, Decimal("100")), (water, Decimal("50"))])


def carry(delivery, volunteer, *, confirm=True):
    services.delivery_claim(delivery=delivery, volunteer=volunteer)
    services.delivery_dispatch(delivery=delivery, volunteer=volunteer)
    if confirm:
        code = services.handover_code_issue(delivery=delivery, volunteer=volunteer)
        services.handover_confirm(delivery=delivery, code=code.code, role="village head")
    services.delivery_report(delivery=delivery, volunteer=volunteer, people=80, photos=[photo()])
    return delivery


def payload_of(index):
    return json.loads(bytes(LedgerEntry.objects.get(index=index).leaf))["payload"]


def test_a_purchase_goes_straight_to_a_place_and_its_entry_names_the_expense_entry(
    bought, place, people, flour, water, fundraiser
):
    movements = StockMovement.objects.count()
    delivery = services.delivery_plan_from_expense(
        expense=bought, place=place, by=people["treasurer"]
    )
    assert delivery.hub is None and delivery.expense == bought
    assert sorted((line.item.slug, line.quantity) for line in delivery.lines.all()) == [
        ("flour", Decimal("100")), ("water", Decimal("50")),
    ]  # fmt: skip
    carry(delivery, people["volunteer"])
    index = services.delivery_verify(delivery=delivery, coordinator=people["coordinator"])

    payload = payload_of(index)
    assert payload["expense"] == bought.ledger_index
    assert "hub" not in payload
    assert payload["fundraisers"] == [fundraiser.ledger_ref()]
    assert payload["confirmed_by_recipient"] is True and payload["people"] == 80
    assert LedgerEntry.objects.get(index=bought.ledger_index).kind == "expense"
    assert StockMovement.objects.count() == movements  # no hub stock moved at any step
    assert not LedgerEntry.objects.filter(kind="dispatch").exists()
    delivery.refresh_from_db()
    assert delivery.status == S.VERIFIED and delivery.ledger_index == index


def test_part_of_a_purchase_then_the_rest_and_never_more_than_it_bought(
    bought, place, people, flour, water
):
    by = people["organiser"]
    first = services.delivery_plan_from_expense(
        expense=bought, place=place, by=by, lines=[(flour, Decimal("60"))]
    )
    with pytest.raises(ValidationError, match="40 of Flour left to deliver, not 41") as refused:
        services.delivery_plan_from_expense(
            expense=bought, place=place, by=by, lines=[(flour, Decimal("41"))]
        )
    assert refused.value.code == "too_much"
    rest = services.delivery_plan_from_expense(expense=bought, place=place, by=by)
    assert {line.item.slug: line.quantity for line in rest.lines.all()} == {
        "flour": Decimal("40"), "water": Decimal("50"),
    }  # fmt: skip
    with pytest.raises(ValidationError, match="already on a delivery") as refused:
        services.delivery_plan_from_expense(expense=bought, place=place, by=by)
    assert refused.value.code == "already_delivered"
    assert set(Delivery.objects.values_list("pk", flat=True)) == {first.pk, rest.pk}


@pytest.mark.parametrize("returned", [False, True])
def test_a_failed_or_returned_purchase_delivery_frees_its_goods(
    bought, place, people, flour, returned
):
    by, volunteer = people["coordinator"], people["volunteer"]
    movements = StockMovement.objects.count()
    delivery = services.delivery_plan_from_expense(expense=bought, place=place, by=by)
    services.delivery_claim(delivery=delivery, volunteer=volunteer)
    services.delivery_dispatch(delivery=delivery, volunteer=volunteer)
    services.delivery_fail(delivery=delivery, by=volunteer, reason="road closed", returned=returned)
    assert services.purchase_goods_left([bought.pk])[bought.pk][flour.pk] == Decimal("100")
    again = services.delivery_plan_from_expense(expense=bought, place=place, by=by)
    assert again.lines.count() == 2
    assert StockMovement.objects.count() == movements


def test_a_volunteer_named_at_planning_has_it_to_carry(bought, place, people):
    delivery = services.delivery_plan_from_expense(
        expense=bought, place=place, by=people["organiser"], volunteer=people["volunteer"]
    )
    assert (delivery.status, delivery.volunteer) == (S.CLAIMED, people["volunteer"])
    services.delivery_dispatch(delivery=delivery, volunteer=people["volunteer"])
    delivery.refresh_from_db()
    assert delivery.status == S.DISPATCHED


def refusal(name, bought, place, people, flour, fundraiser):
    """The arguments of each bad plan, and what made it bad."""
    plan = {"expense": bought, "place": place, "by": people["organiser"]}
    if name == "outsider":
        plan["by"] = people["outsider"]
    elif name == "volunteer_plans":
        plan["by"] = people["volunteer"]
    elif name == "reversed":
        donation_services.correction_record(row=bought, reason="typed twice", by=None)
    elif name == "into_a_hub":
        hub = HubFactory(group=fundraiser.group)
        plan["expense"] = purchase(fundraiser, [(flour, Decimal("5"))], hub=hub)
    elif name == "no_goods":
        plan["expense"] = purchase(fundraiser, [])
    elif name == "not_bought":
        plan["lines"] = [(ItemFactory(slug="rice", name="Rice"), Decimal("1"))]
    elif name == "carrier_outside":
        plan["volunteer"] = people["outsider"]
    elif name == "gone_place":
        plan["place"] = PlaceFactory(slug="gone")
        plan["place"].delete()
        plan["place"].pk = 10_000
    return plan


REFUSALS = {
    "outsider": "Only an organiser, treasurer or coordinator of Batken volunteers",
    "volunteer_plans": "Only an organiser, treasurer or coordinator of Batken volunteers",
    "reversed": "This purchase was reversed in the ledger",
    "into_a_hub": "went into the stock of",
    "no_goods": "This purchase lists no goods to deliver",
    "not_bought": "has 0 of Rice left to deliver, not 1",
    "carrier_outside": "Only a member of Batken volunteers can carry its purchases",
    "gone_place": "That place does not exist",
}


@pytest.mark.parametrize("name", sorted(REFUSALS))
def test_a_bad_plan_from_a_purchase_is_refused_and_writes_nothing(
    name, bought, place, people, flour, fundraiser
):
    plan = refusal(name, bought, place, people, flour, fundraiser)
    entries, movements = LedgerEntry.objects.count(), StockMovement.objects.count()
    with pytest.raises(ValidationError, match=REFUSALS[name]):
        services.delivery_plan_from_expense(**plan)
    assert not Delivery.objects.exists()
    assert (LedgerEntry.objects.count(), StockMovement.objects.count()) == (entries, movements)


def test_only_members_of_the_group_claim_and_only_its_coordinators_verify(bought, place, people):
    delivery = services.delivery_plan_from_expense(
        expense=bought, place=place, by=people["organiser"]
    )
    hub_volunteer = UserFactory(username="hub-volunteer")
    with pytest.raises(ValidationError, match="You are not a volunteer of Batken volunteers"):
        services.delivery_claim(delivery=delivery, volunteer=people["outsider"])
    with pytest.raises(ValidationError, match="not a volunteer"):
        services.delivery_claim(delivery=delivery, volunteer=hub_volunteer)
    carry(delivery, people["volunteer"], confirm=False)
    for who in ("treasurer", "volunteer", "outsider"):
        with pytest.raises(ValidationError):
            services.delivery_verify(delivery=delivery, coordinator=people[who])
    with pytest.raises(ValidationError, match="Only a coordinator of Batken volunteers"):
        services.delivery_reject(delivery=delivery, coordinator=people["outsider"], reason="no")
    delivery.refresh_from_db()
    assert delivery.status == S.DELIVERED
    assert services.delivery_verify(delivery=delivery, coordinator=people["organiser"]) >= 0


def test_the_carrier_cannot_verify_their_own_purchase_delivery(bought, place, people):
    coordinator = people["coordinator"]
    delivery = services.delivery_plan_from_expense(expense=bought, place=place, by=coordinator)
    carry(delivery, coordinator, confirm=False)
    with pytest.raises(ValidationError, match="Someone other than the volunteer"):
        services.delivery_verify(delivery=delivery, coordinator=coordinator)


def test_a_delivery_names_a_hub_or_a_purchase_never_both_nor_neither(bought, place, flour):
    hub = HubFactory()
    for fields in ({"hub": hub, "expense": bought}, {}):
        with pytest.raises(IntegrityError), transaction.atomic():
            Delivery.objects.create(slug=f"bad-{len(fields)}", place=place, **fields)


DELIVERY = {
    "delivery": "isfana-1a2b3c",
    "place": {"id": "isfana", "name": "Isfana", "region": "Batken"},
    "items": [{"item": "flour", "name": "Flour", "quantity": "10", "unit": "kg"}],
    "people": 5,
    "delivered_at": "2022-09-20T10:00:00Z",
    "confirmed_by_recipient": False,
    "evidence": ["a" * 64],
}


@pytest.mark.parametrize(
    ("source", "sound"),
    [
        ({"hub": {"id": "sports-palace", "name": "Sports Palace"}}, True),
        ({"expense": 12}, True),
        ({"hub": {"id": "sports-palace", "name": "Sports Palace"}, "expense": 12}, False),
        ({}, False),
        ({"expense": "12"}, False),
    ],
)
def test_a_delivery_payload_names_exactly_one_of_hub_and_expense(source, sound):
    payload = DELIVERY | source
    if sound:
        assert validate_payload("delivery", payload) == payload
    else:
        with pytest.raises(PayloadError):
            validate_payload("delivery", payload)


# ---- pages ----------------------------------------------------------------------------------


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)


def deliver_url(expense):
    return reverse("deliveries:plan_purchase", args=[expense.pk])


def plan_post(place, lines, **fields):
    data = {"place": place.pk, "volunteer": "", "vehicle_note": "", **fields}
    data |= {"lines-TOTAL_FORMS": len(lines), "lines-INITIAL_FORMS": 0}
    for n, (item, quantity) in enumerate(lines):
        data |= {f"lines-{n}-item": item.pk, f"lines-{n}-quantity": quantity}
    return data


def test_the_manage_page_offers_to_deliver_a_purchase_until_its_goods_are_all_on_the_way(
    client, bought, place, people, fundraiser
):
    in_hub = purchase(fundraiser, [(ItemFactory(slug="rice", name="Rice"), Decimal("3"))],
                      hub=HubFactory(group=fundraiser.group), vendor="Osh bazaar")  # fmt: skip
    login(client, people["organiser"])
    manage = f"/fundraisers/{fundraiser.slug}/manage/"
    page = client.get(manage).text
    assert deliver_url(bought) in page and "Deliver these goods" in page
    assert deliver_url(in_hub) not in page  # its goods are in a hub's stock
    services.delivery_plan_from_expense(expense=bought, place=place, by=people["organiser"])
    assert deliver_url(bought) not in client.get(manage).text


def test_the_plan_form_starts_with_what_is_left_and_plans_a_delivery(
    client, bought, place, people, flour, water
):
    services.delivery_plan_from_expense(
        expense=bought, place=place, by=people["organiser"], lines=[(flour, Decimal("30"))]
    )
    login(client, people["coordinator"])
    form = client.get(deliver_url(bought))
    assert form.status_code == 200
    left = [(row["item"].slug, row["quantity"]) for row in form.context["lines"].initial]
    assert left == [("flour", Decimal("70")), ("water", Decimal("50"))]
    volunteers = form.context["form"].fields["volunteer"].queryset
    assert people["volunteer"] in volunteers and people["outsider"] not in volunteers

    response = client.post(
        deliver_url(bought),
        plan_post(place, [(flour, "70"), (water, "20")], volunteer=people["volunteer"].pk),
    )
    delivery = Delivery.objects.get(lines__quantity=Decimal("20"))
    assert response.status_code == 302 and response["Location"] == delivery.get_absolute_url()
    assert (delivery.expense, delivery.volunteer, delivery.status) == (
        bought, people["volunteer"], S.CLAIMED,
    )  # fmt: skip

    too_much = client.post(deliver_url(bought), plan_post(place, [(water, "31")]))
    assert too_much.status_code == 400
    assert "This purchase has 30 of Drinking water left to deliver, not 31." in too_much.text
    assert Delivery.objects.count() == 2


@pytest.mark.parametrize("who", ["volunteer", "outsider"])
def test_the_plan_form_is_a_404_to_who_may_not_plan(client, bought, place, people, who):
    login(client, people[who])
    assert client.get(deliver_url(bought)).status_code == 404
    assert client.post(deliver_url(bought), plan_post(place, [])).status_code == 404
    assert not Delivery.objects.exists()


def test_volunteers_see_the_purchase_as_where_it_comes_from_and_carry_it_from_their_pages(
    client, bought, place, people
):
    delivery = services.delivery_plan_from_expense(
        expense=bought, place=place, by=people["organiser"]
    )
    login(client, people["volunteer"])
    mine = client.get(reverse("deliveries:mine"))
    assert delivery in mine.context["free"]
    assert "Batken market purchase → Isfana" in mine.text
    assert client.get(delivery.get_absolute_url()).status_code == 200
    client.post(reverse("deliveries:claim", args=[delivery.slug]))
    client.post(reverse("deliveries:dispatch", args=[delivery.slug]))
    delivery.refresh_from_db()
    assert (delivery.status, delivery.volunteer) == (S.DISPATCHED, people["volunteer"])
    login(client, people["outsider"])
    assert client.get(delivery.get_absolute_url()).status_code == 404


def test_the_coordinator_verifies_it_on_its_page_and_the_entries_link_to_each_other(
    client, bought, place, people
):
    delivery = carry(
        services.delivery_plan_from_expense(expense=bought, place=place, by=people["organiser"]),
        people["volunteer"],
    )
    login(client, people["coordinator"])
    awaiting = client.get(reverse("deliveries:awaiting"))
    assert "Batken market purchase → Isfana" in awaiting.text
    client.post(reverse("deliveries:verify", args=[delivery.slug]), {"approve": "1"})
    delivery.refresh_from_db()
    assert delivery.status == S.VERIFIED

    entry = client.get(reverse("ledger:entry", args=[delivery.ledger_index])).text
    assert "Bought with" in entry
    assert f'href="{reverse("ledger:entry", args=[bought.ledger_index])}"' in entry
    purchase_page = client.get(reverse("ledger:entry", args=[bought.ledger_index])).text
    assert "Delivered by" in purchase_page
    assert f'href="{reverse("ledger:entry", args=[delivery.ledger_index])}"' in purchase_page


def test_the_api_tells_a_purchase_delivery_with_its_expense_and_no_hub(
    client, bought, place, people
):
    delivery = carry(
        services.delivery_plan_from_expense(expense=bought, place=place, by=people["organiser"]),
        people["volunteer"],
    )
    services.delivery_verify(delivery=delivery, coordinator=people["coordinator"])
    listed = client.get("/api/v1/deliveries/").json()["results"]
    one = client.get(f"/api/v1/deliveries/{delivery.slug}/").json()
    for found in (listed[0], one):
        assert found["slug"] == delivery.slug
        assert found["hub"] is None and found["expense"] == bought.ledger_index


def test_needs_and_gaps_count_a_purchase_delivery_and_it_answers_the_request(
    client, bought, place, people, flour
):
    hub = HubFactory(group=bought.fundraiser.group)
    request = hub_services.request_create(hub=hub, place=place, lines=[(flour, 30)], by=None)
    login(client, people["organiser"])
    client.post(deliver_url(bought), plan_post(place, [(flour, "30")], requests=[request.pk]))
    delivery = Delivery.objects.get()
    assert list(delivery.requests.all()) == [request]
    assert hub_queries.on_the_way([place.pk])[place.pk].planned == 1
    needs = client.get(reverse("hubs:needs")).context
    line = next(r for r in needs["requests"] if r.pk == request.pk).lines.all()[0]
    assert (line.on_the_way, line.still_needed) == (Decimal("30"), Decimal("0"))
    carry(delivery, people["volunteer"], confirm=False)
    assert hub_queries.on_the_way([place.pk])[place.pk].reported == 1
    services.delivery_verify(delivery=delivery, coordinator=people["coordinator"])
    request.refresh_from_db()
    assert request.status == request.Status.FULFILLED
    assert hub_queries.on_the_way([place.pk])[place.pk].any is False


def test_the_groups_organisers_and_coordinators_get_the_daily_summary_of_its_purchase_deliveries(
    bought, place, people, django_capture_on_commit_callbacks, mailoutbox
):
    for who in ("organiser", "coordinator", "treasurer", "volunteer"):
        people[who].email = f"{people[who].username}@aidhub.example"
        people[who].save(update_fields=["email"])
    delivery = services.delivery_plan_from_expense(
        expense=bought, place=place, by=people["organiser"]
    )
    carry(delivery, people["volunteer"], confirm=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.coordinator_digest() == 2
    with django_capture_on_commit_callbacks(execute=True):
        assert services.coordinator_digest() == 0  # once a day
    assert sorted(m.to[0] for m in mailoutbox) == ["aigerim@aidhub.example", "aziz@aidhub.example"]
    digest = mailoutbox[-1]
    assert digest.subject == "Daily summary for Batken volunteers"
    assert "Deliveries awaiting verification: 1" in digest.body


def test_the_admin_lists_a_purchase_delivery_to_its_groups_coordinators_only(
    client, bought, place, people
):
    HubFactory(
        group=bought.fundraiser.group
    )  # the group runs a hub: its coordinators use the admin
    other = MemberFactory(
        group=HubFactory().group, user=UserFactory(username="other", is_staff=True),
        role=R.COORDINATOR,
    ).user  # fmt: skip
    delivery = services.delivery_plan_from_expense(
        expense=bought, place=place, by=people["organiser"]
    )
    coordinator = people["coordinator"]
    coordinator.is_staff = True
    coordinator.save(update_fields=["is_staff"])
    login(client, coordinator)
    listed = client.get("/admin/deliveries/delivery/")
    assert delivery in listed.context["cl"].result_list
    assert "Batken market purchase" in listed.text
    login(client, other)
    assert delivery not in client.get("/admin/deliveries/delivery/").context["cl"].result_list
    change = f"/admin/deliveries/delivery/{delivery.pk}/change/"
    assert client.get(change).status_code in (302, 403, 404)
