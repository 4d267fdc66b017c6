"""Who may open what: every named view and every admin model, for every role.

The matrix is built from the URL patterns and the admin registry. A new view or admin model
without a rule here fails `test_every_view_and_admin_model_has_a_rule`, so nobody adds a page
without deciding who may see it.
"""

from decimal import Decimal

import pytest
from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from aidhub.uploads import CleanFile
from deliveries import services as deliveries
from donations import services as donations
from donations.models import Fundraiser
from hubs import services as hubs
from hubs.models import Membership
from ledger import services as ledger
from notifications.models import Subscription
from tests.factories import (
    PASSWORD,
    GroupFactory,
    HubFactory,
    ItemFactory,
    MemberFactory,
    MembershipFactory,
    PlaceFactory,
    UserFactory,
    expense_approved,
    money_person,
    organised_by,
    payment_method_approved,
)
from tests.ledger.factories import jpeg_bytes

ROLES = [
    "anonymous",
    "donor",
    "volunteer",
    "other_volunteer",
    "coordinator",
    "other_coordinator",
    "organiser",
    # A second money person of the organiser's group.
    "treasurer",
    # A coordinator of hub-a's group, with no membership of the hub itself.
    "group_coordinator",
    # The organiser of another group, with nothing of this world's.
    "other_organiser",
    "superuser",
]
EVERYONE = frozenset(ROLES)
SIGNED_IN = EVERYONE - {"anonymous"}
COORDINATOR = frozenset({"coordinator", "group_coordinator", "superuser"})
ANY_COORDINATOR = frozenset({"coordinator", "other_coordinator", "group_coordinator", "superuser"})
OWN_VOLUNTEER = frozenset({"volunteer", "superuser"})
DELIVERY_SEERS = frozenset({"volunteer", "coordinator", "group_coordinator", "superuser"})
ORGANISER = frozenset({"organiser", "treasurer", "superuser"})
FUNDRAISER_READERS = frozenset({"organiser", "treasurer", "superuser"})
# Who manages a group's members: its organisers (each sees only their own group).
GROUP_ORGANISERS = frozenset({"organiser", "other_organiser", "superuser"})
SUPERUSER = frozenset({"superuser"})
NOBODY = frozenset()

# name: (method, who is allowed, url kwargs by key in the world)
SITE = {
    "home": ("GET", EVERYONE, {}),
    "healthz": ("GET", EVERYONE, {}),
    "service_worker": ("GET", EVERYONE, {}),
    "manifest": ("GET", EVERYONE, {}),
    "login": ("GET", EVERYONE, {}),
    "start": ("GET", SIGNED_IN, {}),
    "two_factor": ("GET", SIGNED_IN, {}),
    # Checked before signing in too (it says only whether the link is good), so the token
    # never travels in the sign-in page's ?next=.
    "two_factor_setup": ("GET", EVERYONE, {"token": "wrong"}),
    "logout": ("POST", EVERYONE, {}),
    "set_language": ("POST", EVERYONE, {}),
    "search": ("GET", EVERYONE, {}),
    "deliveries:mine": ("GET", SIGNED_IN, {}),
    "deliveries:awaiting": ("GET", SIGNED_IN, {}),
    "deliveries:detail": ("GET", DELIVERY_SEERS, {"slug": "delivery"}),
    "deliveries:claim": ("POST", DELIVERY_SEERS, {"slug": "delivery"}),
    "deliveries:dispatch": ("POST", DELIVERY_SEERS, {"slug": "delivery"}),
    "deliveries:fail": ("POST", DELIVERY_SEERS, {"slug": "delivery"}),
    "deliveries:report": ("GET", frozenset({"volunteer"}), {"slug": "delivery"}),
    "deliveries:handover": ("GET", DELIVERY_SEERS, {"slug": "delivery"}),
    "deliveries:verify": ("GET", COORDINATOR, {"slug": "delivery"}),
    "deliveries:photo": ("GET", DELIVERY_SEERS, {"slug": "delivery", "sha256": "photo"}),
    "deliveries:confirm": ("GET", EVERYONE, {"slug": "delivery"}),
    "deliveries:plan": ("GET", COORDINATOR, {"hub_slug": "hub"}),
    # The organiser's group bought the expense; the hub's coordinator is of another group.
    "deliveries:plan_purchase": ("GET", ORGANISER, {"pk": "expense"}),
    "hubs:list": ("GET", EVERYONE, {}),
    "hubs:hub": ("GET", EVERYONE, {"slug": "hub"}),
    "hubs:manage": ("GET", COORDINATOR, {"slug": "hub"}),
    "hubs:receive": ("GET", COORDINATOR, {"slug": "hub"}),
    "hubs:transfer": ("GET", COORDINATOR, {"slug": "hub"}),
    "hubs:adjust": ("GET", COORDINATOR, {"slug": "hub"}),
    "hubs:request_new": ("GET", COORDINATOR, {"slug": "hub"}),
    "hubs:request_edit": ("GET", COORDINATOR, {"pk": "request"}),
    "hubs:request_cancel": ("GET", COORDINATOR, {"pk": "request"}),
    "hubs:needs": ("GET", EVERYONE, {}),
    "hubs:gaps": ("GET", EVERYONE, {}),
    "hubs:place": ("GET", EVERYONE, {"slug": "place"}),
    # An invitation names its account: anyone signed in is told whether it is theirs.
    "hubs:invitation": ("GET", SIGNED_IN, {"token": "wrong"}),
    "donations:list": ("GET", EVERYONE, {}),
    "donations:fundraiser": ("GET", EVERYONE, {"slug": "fundraiser"}),
    "donations:preview": ("GET", EVERYONE, {"slug": "fundraiser"}),
    "donations:manage": ("GET", ORGANISER, {"slug": "fundraiser"}),
    "donations:donation_new": ("GET", ORGANISER, {"slug": "fundraiser"}),
    "donations:expense_new": ("GET", ORGANISER, {"slug": "fundraiser"}),
    "donations:correct_donation": ("GET", ORGANISER, {"slug": "fundraiser", "pk": "donation"}),
    "donations:correct_expense": ("GET", ORGANISER, {"slug": "fundraiser", "pk": "expense"}),
    "donations:statement": ("GET", ORGANISER, {"slug": "fundraiser"}),
    "donations:payment_method_new": ("GET", ORGANISER, {"slug": "fundraiser"}),
    "donations:payment_method_edit": ("GET", ORGANISER, {"slug": "fundraiser", "pk": "method"}),
    "donations:payment_method_remove": ("GET", ORGANISER, {"slug": "fundraiser", "pk": "method"}),
    # What waits for a second person: only the fundraiser's money people see and decide it.
    "donations:pending_receipt": (
        "GET",
        ORGANISER,
        {"slug": "fundraiser", "pk": "expense_proposal"},
    ),
    "donations:expense_decide": (
        "POST",
        ORGANISER,
        {"slug": "fundraiser", "pk": "expense_proposal"},
    ),
    "donations:payment_decide": (
        "POST",
        ORGANISER,
        {"slug": "fundraiser", "pk": "payment_proposal"},
    ),
    # Money passed to another group: the sending fundraiser's money people propose and
    # decide it; the receiving fundraiser's money people answer it.
    "donations:transfer_new": ("GET", ORGANISER, {"slug": "fundraiser"}),
    "donations:transfer_decide": ("POST", ORGANISER, {"slug": "fundraiser", "pk": "transfer"}),
    # (Another group's, whose money people are not among these roles: everyone here is an
    # outsider to it but the superuser; tests/donations/test_transfer_views.py lets its own
    # organiser answer.)
    "donations:transfer_answer": (
        "POST",
        SUPERUSER,
        {"slug": "receiving_fundraiser", "pk": "incoming_transfer"},
    ),
    # Coordinators of a hub the fundraiser supplies may check its books too.
    "donations:reconcile": (
        "GET",
        ORGANISER | {"coordinator", "group_coordinator"},
        {"slug": "fundraiser"},
    ),
    # Goods another group bought for a hub: its coordinators see and decide them.
    "donations:goods_incoming": ("GET", SIGNED_IN, {}),
    "donations:goods_decide": ("POST", COORDINATOR, {"pk": "goods_offer"}),
    # Only the person a hand-over names opens it; this world hands nothing to anyone.
    "donations:handover_answer": ("GET", NOBODY, {"pk": "expense"}),
    "groups:group": ("GET", EVERYONE, {"slug": "group"}),
    "groups:invitation": ("GET", SIGNED_IN, {"token": "wrong"}),
    "notifications:mine": ("GET", SIGNED_IN, {}),
    "notifications:subscribe": ("POST", EVERYONE, {}),
    "notifications:confirm": ("GET", EVERYONE, {"token": "subscription"}),
    "notifications:unsubscribe": ("GET", EVERYONE, {"token": "subscription"}),
    "notifications:telegram": ("POST", NOBODY, {"secret": "wrong"}),
    "ledger:list": ("GET", EVERYONE, {}),
    "ledger:entry": ("GET", EVERYONE, {"index": "entry"}),
    "ledger:receipt_lookup": ("GET", EVERYONE, {}),
    "ledger:receipt": ("GET", EVERYONE, {"code": "receipt"}),
    "ledger:evidence": ("GET", EVERYONE, {"sha256": "receipt_sha"}),
    "ledger:thumbnail": ("GET", EVERYONE, {"sha256": "receipt_sha"}),
    "ledger:export": ("GET", EVERYONE, {"fmt": "csv"}),
    "ledger:feed": ("GET", EVERYONE, {}),
    "ledger:verify": ("GET", EVERYONE, {}),
    "ledger:verifier_script": ("GET", EVERYONE, {}),
    "ledger_api:api_checkpoint": ("GET", EVERYONE, {}),
    "ledger_api:api_key": ("GET", EVERYONE, {}),
    "ledger_api:api_entries": ("GET", EVERYONE, {}),
    "ledger_api:api_inclusion": ("GET", EVERYONE, {}),
    "ledger_api:api_consistency": ("GET", EVERYONE, {}),
    "api:schema": ("GET", EVERYONE, {}),
    "api:docs": ("GET", EVERYONE, {}),
    "api:hubs": ("GET", EVERYONE, {}),
    "api:hub": ("GET", EVERYONE, {"slug": "hub"}),
    "api:places": ("GET", EVERYONE, {}),
    "api:place": ("GET", EVERYONE, {"slug": "place"}),
    "api:requests": ("GET", EVERYONE, {}),
    "api:fundraisers": ("GET", EVERYONE, {}),
    "api:fundraiser": ("GET", EVERYONE, {"slug": "fundraiser"}),
    "api:deliveries": ("GET", EVERYONE, {}),
    # Public only once verified; this world's delivery is still awaiting verification.
    "api:delivery": ("GET", NOBODY, {"slug": "delivery"}),
    "api:delivery-report": ("POST", frozenset({"volunteer"}), {"slug": "delivery"}),
    "api:ledger-entries": ("GET", EVERYONE, {}),
    "api:ledger-entry": ("GET", EVERYONE, {"index": "entry"}),
}
QUERY = {
    "ledger_api:api_entries": "?start=0",
    "ledger_api:api_inclusion": "?index=0&size=1",
    "ledger_api:api_consistency": "?old=1&new=1",
}

ADMIN = {
    "auth.user": SUPERUSER,
    "groups.group": GROUP_ORGANISERS,
    "groups.member": GROUP_ORGANISERS,
    # Changes to a group's organisers wait there for a second organiser.
    "groups.organiserchange": GROUP_ORGANISERS,
    "aidhub.auditevent": SUPERUSER,
    "axes.accessattempt": SUPERUSER,
    "axes.accessfailurelog": SUPERUSER,
    "axes.accesslog": SUPERUSER,
    "otp_totp.totpdevice": SUPERUSER,
    "notifications.subscription": SUPERUSER,
    "notifications.notification": SUPERUSER,
    "hubs.region": ANY_COORDINATOR,
    "hubs.place": ANY_COORDINATOR,
    "hubs.item": ANY_COORDINATOR,
    "hubs.hub": ANY_COORDINATOR,
    "hubs.membership": ANY_COORDINATOR,
    "hubs.supplyrequest": ANY_COORDINATOR,
    "hubs.stockmovement": ANY_COORDINATOR,
    "donations.fundraiser": FUNDRAISER_READERS,
    "donations.donation": FUNDRAISER_READERS,
    "donations.expense": FUNDRAISER_READERS,
    "donations.paymentmethod": FUNDRAISER_READERS,
    "donations.expenseproposal": FUNDRAISER_READERS,
    "donations.paymentmethodproposal": FUNDRAISER_READERS,
    "donations.fundraiserhandover": FUNDRAISER_READERS,
    "donations.giftinkind": SUPERUSER,
    "donations.exchangerate": SUPERUSER,
    "deliveries.delivery": ANY_COORDINATOR,
    "deliveries.proofofdelivery": ANY_COORDINATOR,
}
# Admin's own plumbing and the catch-all routes need no rule of ours.
IGNORED = {
    "admin:index",
    "admin:login",
    "admin:logout",
    "admin:password_change",
    "admin:password_change_done",
    "admin:autocomplete",
    "admin:jsi18n",
    "admin:view_on_site",
    "admin:app_list",
}


def named_views() -> set[str]:
    names: set[str] = set()

    def walk(patterns, namespace=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, inner)
            elif isinstance(pattern, URLPattern) and pattern.name:
                names.add(f"{namespace}{pattern.name}")

    walk(get_resolver().url_patterns)
    return {n for n in names if not n.startswith("admin:") or n in IGNORED}


def test_every_view_and_admin_model_has_a_rule():
    missing = named_views() - set(SITE) - IGNORED
    assert not missing, f"views without a permission rule: {sorted(missing)}"
    registered = {model._meta.label_lower for model in admin.site._registry}
    assert registered - set(ADMIN) == set(), "admin models without a permission rule"


@pytest.fixture
def world(db, media, rates, settings, django_capture_on_commit_callbacks):
    settings.TELEGRAM_WEBHOOK_SECRET = "right"
    with django_capture_on_commit_callbacks(execute=True):  # thumbnails are made on commit
        return _build_world()


def _build_world() -> dict:
    hub_group = GroupFactory(slug="batken-volunteers")
    hub, other_hub = HubFactory(slug="hub-a", group=hub_group), HubFactory(slug="hub-b")
    flour = ItemFactory()
    place = PlaceFactory(slug="isfana")
    users = {
        "donor": UserFactory(username="donor"),
        "superuser": UserFactory(username="root", is_staff=True, is_superuser=True),
    }
    for role, where, kind in [
        ("volunteer", hub, "volunteer"),
        ("other_volunteer", other_hub, "volunteer"),
        ("coordinator", hub, "coordinator"),
        ("other_coordinator", other_hub, "coordinator"),
    ]:
        users[role] = MembershipFactory(
            hub=where, role=kind, user=UserFactory(username=role, is_staff=kind == "coordinator")
        ).user
    users["organiser"] = UserFactory(username="organiser", is_staff=True)
    for role, group, kind in [
        ("treasurer", organised_by(users["organiser"])["group"], "treasurer"),
        ("group_coordinator", hub_group, "coordinator"),
        ("other_organiser", GroupFactory(slug="elsewhere"), "organiser"),
    ]:
        user = UserFactory(username=role, is_staff=True)
        users[role] = MemberFactory(group=group, user=user, role=kind).user
    fundraiser = Fundraiser.objects.create(
        slug="batken",
        title="Batken",
        **organised_by(users["organiser"]),
        goal_amount=1000,
        currency="KZT",
        starts_on=timezone.localdate(),
    )
    fundraiser.hubs.add(hub)
    hubs.hub_receive_goods(hub=hub, lines=[(flour, Decimal(50))], by=None)
    request = hubs.request_create(hub=hub, place=place, lines=[(flour, 5)], by=None)
    delivery = deliveries.delivery_plan(
        hub=hub, place=place, lines=[(flour, Decimal(5))], by=users["coordinator"]
    )
    deliveries.delivery_claim(delivery=delivery, volunteer=users["volunteer"])
    deliveries.delivery_dispatch(delivery=delivery, volunteer=users["volunteer"])
    proof = deliveries.delivery_report(
        delivery=delivery,
        volunteer=users["volunteer"],
        people=3,
        photos=[CleanFile(jpeg_bytes(), "image/jpeg")],
    )
    donation = donations.donation_record(
        fundraiser=fundraiser,
        amount="100.00",
        currency="KZT",
        received_at=timezone.now(),
        channel="cash",
        by=None,
    )
    # The group's second money person approves what the organiser proposes; one proposal of
    # each kind still waits.
    money_person(fundraiser.group, username="treasurer")
    expense = expense_approved(
        fundraiser=fundraiser,
        vendor="Shop",
        amount="50.00",
        currency="KZT",
        paid_at=timezone.now(),
        receipt=CleanFile(jpeg_bytes((9, 9, 9)), "image/jpeg"),
    )
    # Goods for hub-a, of another group than the fundraiser's: they wait for its coordinators.
    goods = expense_approved(
        fundraiser=fundraiser, vendor="Market", amount="30.00", currency="KZT",
        paid_at=timezone.now(), receipt=CleanFile(jpeg_bytes((7, 7, 7)), "image/jpeg"),
        lines=[(flour, Decimal(10))], hub=hub,
    )  # fmt: skip
    method = payment_method_approved(donations.payment_method_add(
        fundraiser=fundraiser, by=users["organiser"], kind="cash_at_hub", label="Hub A",
        details="Hub A desk, 09:00-18:00", currency="KZT",
    ))  # fmt: skip
    expense_proposal = donations.expense_propose(
        fundraiser=fundraiser, vendor="Shop", amount="20.00", currency="KZT",
        paid_at=timezone.now(), receipt=CleanFile(jpeg_bytes((8, 8, 8)), "image/jpeg"),
        by=users["organiser"],
    )  # fmt: skip
    payment_proposal = donations.payment_method_remove(method=method, by=users["organiser"])
    receiving = Fundraiser.objects.create(
        slug="receiving", title="Receiving", **organised_by(UserFactory(username="receiver")),
        goal_amount=1000, currency="KZT", starts_on=timezone.localdate(),
    )  # fmt: skip
    transfer = donations.transfer_propose(
        fundraiser=fundraiser, to_fundraiser=receiving, amount="20.00", by=users["organiser"]
    )
    incoming = donations.transfer_approve(
        transfer=donations.transfer_propose(
            fundraiser=fundraiser, to_fundraiser=receiving, amount="10.00", by=users["organiser"]
        ),
        by=users["treasurer"],
    )
    ledger.checkpoint_sign()
    subscription = Subscription.objects.create(
        channel="email", address="d@example.org", scope="fundraiser", ref="batken"
    )
    return {
        "users": users,
        "hub": hub.slug,
        "place": place.slug,
        "delivery": delivery.slug,
        "photo": proof.photos.get().evidence_sha256,
        "request": request.pk,
        "fundraiser": fundraiser.slug,
        "group": fundraiser.group.slug,
        "donation": donation.pk,
        "expense": expense.pk,
        "method": method.pk,
        "expense_proposal": expense_proposal.pk,
        "payment_proposal": payment_proposal.pk,
        "receiving_fundraiser": receiving.slug,
        "transfer": transfer.pk,
        "incoming_transfer": incoming.pk,
        "entry": donation.ledger_index,
        "receipt": donation.receipt_code,
        "receipt_sha": expense.receipt_sha256,
        "subscription": subscription.token,
        "goods_offer": goods.goods_offer.pk,
        "csv": "csv",
        "wrong": "wrong",
    }


@pytest.fixture
def rates():
    return None


def _client_as(client, world, role):
    client.logout()
    if role != "anonymous":
        assert client.login(username=world["users"][role].username, password=PASSWORD)
    return client


def _allowed(response) -> bool:
    if response.status_code in (403, 404, 405):
        return False
    location = response.get("Location", "")
    return not (response.status_code == 302 and "login" in location)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_site_views_allow_and_deny_by_role(client, world, role):
    _client_as(client, world, role)
    wrong = []
    for name, (method, allowed, kwargs) in SITE.items():
        url = reverse(name, kwargs={k: world.get(v, v) for k, v in kwargs.items()})
        url += QUERY.get(name, "")
        if name == "logout":
            continue  # logging out would end this role's session for the rest of the loop
        response = client.get(url) if method == "GET" else client.post(url, {})
        if _allowed(response) != (role in allowed):
            wrong.append(f"{name} {method} {url} → {response.status_code}")
        if name == "set_language":
            _client_as(client, world, role)  # keep the session as it was
    assert not wrong, f"{role}: " + "; ".join(wrong)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_admin_models_allow_and_deny_by_role(client, world, role):
    _client_as(client, world, role)
    wrong = []
    for label, allowed in ADMIN.items():
        app, model = label.split(".")
        response = client.get(reverse(f"admin:{app}_{model}_changelist"))
        if _allowed(response) != (role in allowed):
            wrong.append(f"{label} → {response.status_code}")
    assert not wrong, f"{role}: " + "; ".join(wrong)


def test_roles_are_what_they_say(world):
    users = world["users"]
    assert Membership.objects.get(user=users["other_coordinator"]).hub.slug == "hub-b"
    assert not users["donor"].memberships.exists()
    assert not users["group_coordinator"].memberships.exists()
    assert users["treasurer"].group_roles.get().group.slug == f"group-of-{users['organiser']}"
