"""One-time tokens are per account (aidhub/idempotency.py): a key another account chose first
is not refused, does not tell that it was used, and does not block its owner."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from aidhub.models import IdempotentSubmission
from deliveries import services as delivery_services
from deliveries.models import ProofOfDelivery
from hubs.models import Membership, StockLevel
from tests.api.conftest import login, plan_delivery
from tests.api.test_report import post, report
from tests.factories import HubFactory, ItemFactory, MembershipFactory, UserFactory

from .test_idempotency import RECEIVE, received

pytestmark = pytest.mark.django_db

KEY = "0f7c2e9a-offline-1"


@pytest.fixture
def hub():
    return HubFactory(slug="sports-palace", name="Sports Palace", accepts=["hygiene", "food"])


@pytest.fixture
def coordinator(hub):
    user = UserFactory(username="aigerim", is_staff=True)
    MembershipFactory(hub=hub, user=user, role=Membership.Role.COORDINATOR)
    return user


def volunteer_on_the_way(hub, coordinator, username: str, place: str):
    user = UserFactory(username=username)
    MembershipFactory(hub=hub, user=user, role=Membership.Role.VOLUNTEER)
    delivery = plan_delivery(hub, ItemFactory(), coordinator, place)
    delivery_services.delivery_claim(delivery=delivery, volunteer=user)
    delivery_services.delivery_dispatch(delivery=delivery, volunteer=user)
    return user, delivery


def test_a_key_another_volunteer_sent_first_is_accepted_and_writes_the_report(
    client, hub, coordinator, media
):
    bakyt, his = volunteer_on_the_way(hub, coordinator, "bakyt", "isfana")
    nurlan, theirs = volunteer_on_the_way(hub, coordinator, "nurlan", "kadamjay")
    login(client, bakyt)
    assert post(client, his, key=KEY).status_code == 201
    client.logout()
    login(client, nurlan)
    response = post(client, theirs, report(people="7"), key=KEY)
    assert response.status_code == 201 and "Idempotent-Replayed" not in response
    assert theirs.proofs.get().people == 7 and his.proofs.get().people == 42
    assert IdempotentSubmission.objects.filter(key=f"api:{KEY}").count() == 2


def test_each_account_repeating_its_key_gets_its_own_first_answer(client, hub, coordinator, media):
    bakyt, his = volunteer_on_the_way(hub, coordinator, "bakyt", "isfana")
    nurlan, theirs = volunteer_on_the_way(hub, coordinator, "nurlan", "kadamjay")
    answers = {}
    for user, delivery in [(bakyt, his), (nurlan, theirs), (bakyt, his), (nurlan, theirs)]:
        client.logout()
        login(client, user)
        response = post(client, delivery, key=KEY)
        assert response.status_code == 201
        assert answers.setdefault(user.username, response.json()) == response.json()
    assert answers["bakyt"]["delivery"] == his.slug
    assert answers["nurlan"]["delivery"] == theirs.slug
    assert ProofOfDelivery.objects.count() == 2


def test_the_same_account_reusing_its_key_with_another_body_is_still_a_409(
    client, hub, coordinator, media
):
    bakyt, his = volunteer_on_the_way(hub, coordinator, "bakyt", "isfana")
    nurlan, theirs = volunteer_on_the_way(hub, coordinator, "nurlan", "kadamjay")
    login(client, nurlan)
    assert post(client, theirs, key=KEY).status_code == 201  # the key is taken elsewhere too
    client.logout()
    login(client, bakyt)
    assert post(client, his, key=KEY).status_code == 201
    response = post(client, his, report(people="7"), key=KEY)
    assert response.status_code == 409
    assert "Idempotency-Key" in response.json()["detail"]
    assert his.proofs.get().people == 42


def test_a_form_token_another_coordinator_used_first_records_for_this_one(client, hub):
    soap = ItemFactory(slug="soap", name="Soap", category="hygiene", unit="piece")
    token = "d2a1c3e4b5f60718293a4b5c6d7e8f90"
    for username in ("aigerim", "timur"):
        user = UserFactory(username=username, is_staff=True)
        MembershipFactory(hub=hub, user=user, role=Membership.Role.COORDINATOR)
        client.force_login(user)
        response = client.post(RECEIVE, received(soap, "7", idempotency_key=token))
        assert response.status_code == 302
    assert StockLevel.objects.get(hub=hub, item=soap).quantity == Decimal(14)


def test_the_database_allows_one_key_per_account_and_the_same_key_for_another():
    first, second = UserFactory(), UserFactory()
    IdempotentSubmission.objects.create(key=KEY, user=first, result="/a")
    IdempotentSubmission.objects.create(key=KEY, user=second, result="/b")
    with pytest.raises(IntegrityError), transaction.atomic():
        IdempotentSubmission.objects.create(key=KEY, user=first, result="/c")
    assert IdempotentSubmission.objects.filter(key=KEY).count() == 2
