from decimal import Decimal

import pytest

from aidhub.models import AuditEvent
from hubs import services
from tests.factories import PASSWORD, HubFactory, ItemFactory, PlaceFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_coordinators_actions_are_recorded_with_who_and_what():
    aigerim = UserFactory(username="aigerim")
    hub, flour = HubFactory(name="Sports Palace"), ItemFactory()
    services.hub_receive_goods(hub=hub, lines=[(flour, Decimal(5))], by=aigerim)
    services.stock_adjust(hub=hub, item=flour, delta=Decimal(-1), reason="wet sack", by=aigerim)
    request = services.request_create(hub=hub, place=PlaceFactory(), lines=[(flour, 2)], by=aigerim)
    services.request_cancel(request=request, reason="filed twice", by=aigerim)
    services.request_cancel(request=request, reason="again", by=aigerim)  # nothing happens
    actions = list(AuditEvent.objects.order_by("id").values_list("actor__username", "action"))
    assert actions == [
        ("aigerim", "goods received"),
        ("aigerim", "stock adjusted"),
        ("aigerim", "request filed"),
        ("aigerim", "request cancelled"),
    ]
    adjusted = AuditEvent.objects.get(action="stock adjusted")
    assert adjusted.detail == {"item": "flour", "change": "-1", "reason": "wet sack"}


def test_an_action_that_fails_leaves_no_audit_event():
    hub, flour = HubFactory(), ItemFactory()
    with pytest.raises(services.StockError):
        services.stock_adjust(hub=hub, item=flour, delta=Decimal(-3), reason="x", by=UserFactory())
    assert not AuditEvent.objects.exists()


def test_the_audit_trail_is_for_superusers_only_and_read_only(client):
    coordinator = UserFactory(username="aigerim", is_staff=True)
    assert client.login(username="aigerim", password=PASSWORD)
    assert client.get("/admin/aidhub/auditevent/").status_code == 403
    UserFactory(username="root", is_staff=True, is_superuser=True)
    client.logout()
    assert client.login(username="root", password=PASSWORD)
    assert client.get("/admin/aidhub/auditevent/").status_code == 200
    assert client.get("/admin/aidhub/auditevent/add/").status_code == 403
    assert coordinator.pk
