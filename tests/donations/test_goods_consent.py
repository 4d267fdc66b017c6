"""Goods for another group's hub enter its stock only when one of its coordinators accepts
them; a delivery credits another group's fundraiser only once its hub accepted that
fundraiser's goods. Every refusal says why and writes nothing."""

import json
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from aidhub.uploads import CleanFile
from deliveries import services as deliveries
from donations import services
from donations.models import Fundraiser, GoodsOffer
from hubs.models import StockLevel
from ledger.models import LedgerEntry
from tests.factories import (
    PASSWORD,
    GroupFactory,
    HubFactory,
    MemberFactory,
    MembershipFactory,
    PlaceFactory,
    UserFactory,
    expense_approved,
    organised_by,
)
from tests.ledger.factories import jpeg_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.clock]


@pytest.fixture
def batken(db):
    return GroupFactory(slug="batken-volunteers", name="Batken volunteers")


@pytest.fixture
def their_hub(batken, fundraiser):
    """A hub of another group, linked to the fundraiser (so a purchase may name it)."""
    hub = HubFactory(slug="batken-hub", name="Batken hub", group=batken)
    fundraiser.hubs.add(hub)
    return hub


@pytest.fixture
def their_coordinator(their_hub):
    return MembershipFactory(
        hub=their_hub, role="coordinator", user=UserFactory(username="nurlan")
    ).user


def bought(fundraiser, hub, flour, kg="40"):
    return expense_approved(
        fundraiser=fundraiser, vendor="Batken market", amount="5000.00", currency="KGS",
        paid_at=timezone.now(), receipt=CleanFile(jpeg_bytes(), "image/jpeg"),
        lines=[(flour, Decimal(kg))], hub=hub,
    )  # fmt: skip


def stock(hub, item) -> Decimal:
    row = StockLevel.objects.filter(hub=hub, item=item).first()
    return row.quantity if row else Decimal(0)


def test_goods_for_another_groups_hub_wait_for_its_coordinator(
    fundraiser, rates, their_hub, their_coordinator, flour, media
):
    expense = bought(fundraiser, their_hub, flour)
    offer = GoodsOffer.objects.get(expense=expense)
    assert offer.status == "pending" and stock(their_hub, flour) == 0
    assert not LedgerEntry.objects.filter(kind="intake").exists()
    index = services.goods_accept(offer=offer, by=their_coordinator)
    offer.refresh_from_db()
    assert offer.status == "accepted" and offer.intake_index == index
    assert stock(their_hub, flour) == Decimal("40")
    intake = LedgerEntry.objects.get(index=index)
    payload = json.loads(bytes(intake.leaf))["payload"]
    assert intake.kind == "intake" and payload["fundraiser"] == fundraiser.ledger_ref()


def test_goods_for_the_groups_own_hub_go_into_stock_at_approval(fundraiser, rates, flour, media):
    own = HubFactory(slug="own-hub", group=fundraiser.group)
    bought(fundraiser, own, flour)
    assert stock(own, flour) == Decimal("40") and not GoodsOffer.objects.exists()


def test_only_a_coordinator_of_that_hub_decides_and_only_once(
    fundraiser, rates, their_hub, their_coordinator, flour, media
):
    offer = GoodsOffer.objects.get(expense=bought(fundraiser, their_hub, flour))
    elsewhere = MembershipFactory(hub=HubFactory(slug="elsewhere"), role="coordinator").user
    superuser = UserFactory(username="root", is_superuser=True)
    for by in (fundraiser.organiser, elsewhere, superuser):
        with pytest.raises(ValidationError, match="Only a coordinator of Batken hub"):
            services.goods_accept(offer=offer, by=by)
    with pytest.raises(ValidationError, match="Say why"):
        services.goods_decline(offer=offer, by=their_coordinator, reason=" ")
    offer.refresh_from_db()
    assert offer.status == "pending" and stock(their_hub, flour) == 0
    services.goods_decline(offer=offer, by=their_coordinator, reason="No room")
    with pytest.raises(ValidationError, match="already declined"):
        services.goods_accept(offer=offer, by=their_coordinator)
    assert stock(their_hub, flour) == 0


def test_declined_goods_may_go_straight_to_a_place(
    fundraiser, rates, their_hub, their_coordinator, flour, media
):
    expense = bought(fundraiser, their_hub, flour)
    with pytest.raises(ValidationError, match="stock of Batken hub"):
        deliveries.delivery_plan_from_expense(
            expense=expense, place=PlaceFactory(), by=fundraiser.organiser
        )
    services.goods_decline(offer=expense.goods_offer, by=their_coordinator, reason="No room")
    delivery = deliveries.delivery_plan_from_expense(
        expense=expense, place=PlaceFactory(), by=fundraiser.organiser
    )
    assert delivery.expense == expense and delivery.hub is None


def test_reversing_a_purchase_whose_goods_wait_withdraws_them_and_moves_no_stock(
    fundraiser, rates, their_hub, flour, media
):
    expense = bought(fundraiser, their_hub, flour)
    services.correction_record(row=expense, reason="Wrong receipt", by=fundraiser.organiser)
    assert GoodsOffer.objects.get(expense=expense).status == "withdrawn"
    assert stock(their_hub, flour) == 0


def test_a_delivery_credits_another_groups_fundraiser_only_after_its_goods_were_accepted(
    fundraiser, rates, their_hub, their_coordinator, flour, media
):
    place = PlaceFactory()
    own = Fundraiser.objects.create(
        slug="batken-own", title="Batken's own", currency="KGS", goal_amount=100,
        starts_on=timezone.localdate(), **organised_by(UserFactory(username="b")),
    )  # fmt: skip
    own.group = their_hub.group
    own.save()
    offer = GoodsOffer.objects.get(expense=bought(fundraiser, their_hub, flour))
    with pytest.raises(ValidationError, match="cannot credit “Almaty for Batken”"):
        deliveries.delivery_plan(
            hub=their_hub,
            place=place,
            lines=[(flour, Decimal(5))],
            by=their_coordinator,
            fundraisers=[fundraiser],
        )
    services.goods_accept(offer=offer, by=their_coordinator)
    delivery = deliveries.delivery_plan(
        hub=their_hub, place=place, lines=[(flour, Decimal(5))], by=their_coordinator,
        fundraisers=[fundraiser, own],
    )  # fmt: skip
    assert set(delivery.fundraisers.all()) == {fundraiser, own}


def test_the_coordinator_accepts_on_the_page_and_outsiders_get_404(
    client, fundraiser, rates, their_hub, their_coordinator, flour, media
):
    offer = GoodsOffer.objects.get(expense=bought(fundraiser, their_hub, flour))
    url = f"/fundraisers/goods/incoming/{offer.pk}/"
    outsider = UserFactory(username="outsider")
    MemberFactory(group=fundraiser.group, user=outsider, role="coordinator")
    assert client.login(username="outsider", password=PASSWORD)
    assert "Batken hub" not in client.get("/fundraisers/goods/incoming/").text
    assert client.post(url, {"decision": "approve"}).status_code == 404
    assert stock(their_hub, flour) == 0
    client.logout()
    assert client.login(username="nurlan", password=PASSWORD)
    page = client.get("/fundraisers/goods/incoming/")
    assert "Batken hub" in page.text and "Almaty for Batken" in page.text
    declined = client.post(url, {"decision": "reject", "reason": ""}, follow=True)
    assert "Say why" in declined.text
    client.post(url, {"decision": "approve"})
    assert stock(their_hub, flour) == Decimal("40")
