"""Factories for tests. The demo and the app itself use services, never these."""

from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from groups.models import Group, Member
from hubs.models import Hub, Item, Membership, Place, Region, StockLevel

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password(PASSWORD)


class GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Group
        django_get_or_create = ["slug"]

    slug = factory.Sequence(lambda n: f"group-{n}")
    name = factory.Sequence(lambda n: f"Group {n}")
    country = "KG"


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member

    group = factory.SubFactory(GroupFactory)
    user = factory.SubFactory(UserFactory)
    role = Member.Role.ORGANISER


def organised_by(user) -> dict:
    """Fields for a fundraiser that `user` started and organises: its group is theirs (one
    group per account, made on first use, with them as its organiser)."""
    group = GroupFactory(slug=f"group-of-{user.username}", name=f"{user.username}'s group")
    Member.objects.get_or_create(group=group, user=user, role=Member.Role.ORGANISER)
    return {"organiser": user, "group": group}


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ["slug"]

    slug = "batken"
    name = "Batken"


class PlaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Place

    slug = factory.Sequence(lambda n: f"village-{n}")
    name = factory.Sequence(lambda n: f"Village {n}")
    region = factory.SubFactory(RegionFactory)
    district = "Leilek"


class ItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Item
        django_get_or_create = ["slug"]

    slug = "flour"
    name = "Flour"
    name_ru = "Мука"
    category = "food"
    unit = "kg"


class HubFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Hub

    slug = factory.Sequence(lambda n: f"hub-{n}")
    name = factory.Sequence(lambda n: f"Hub {n}")
    kind = Hub.Kind.COLLECTION_POINT
    region = factory.LazyFunction(lambda: RegionFactory(slug="bishkek", name="Bishkek city"))
    group = factory.SubFactory(GroupFactory)
    address = "Somewhere in Bishkek"
    accepts = ["food"]


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    hub = factory.SubFactory(HubFactory)
    role = Membership.Role.COORDINATOR


def stock(hub: Hub, item: Item, quantity: str) -> StockLevel:
    level, _ = StockLevel.objects.update_or_create(
        hub=hub, item=item, defaults={"quantity": Decimal(quantity)}
    )
    return level


def money_person(group: Group, *, username: str = "", role: str = Member.Role.TREASURER):
    """A second active money person of `group`: its treasurer unless `role` says otherwise."""
    user = UserFactory(username=username or f"treasurer-of-{group.slug}")
    if not user.email:
        user.email = f"{user.username}@example.org"
        user.save(update_fields=["email"])
    Member.objects.get_or_create(group=group, user=user, role=role)
    return user


def second_person(group: Group, proposer_id: int | None):
    """An active money person of `group` other than the proposer: the first there is, else a
    new treasurer (`money_person`)."""
    from groups.queries import money_people

    other = money_people(group).exclude(pk=proposer_id).order_by("pk").first()
    return other or money_person(group)


def second_approves(proposal, *, by=None):
    """What a proposal becomes once a second money person of its group approves it (`by`, else
    `second_person`): a proposed expense its Expense, a proposed change to the ways to pay the
    approved proposal. Money out needs two people; this is the one way tests take the second
    step."""
    from donations import services
    from donations.models import ExpenseProposal

    by = by or second_person(proposal.fundraiser.group, proposal.proposed_by_id)
    if isinstance(proposal, ExpenseProposal):
        return services.expense_approve(proposal=proposal, by=by)
    return services.payment_proposal_approve(proposal=proposal, by=by)


def expense_approved(*, fundraiser, by=None, approver=None, **fields):
    """An expense proposed by `by` (the fundraiser's organiser) and approved by a second money
    person (`approver`, else `second_person`): what `expense_record` once did in one step."""
    from donations import services

    by = by or fundraiser.organiser
    approver = approver or second_person(fundraiser.group, by.pk)  # first: a proposal needs two
    proposal = services.expense_propose(fundraiser=fundraiser, by=by, **fields)
    return second_approves(proposal, by=approver)


def payment_method_approved(proposal, *, by=None):
    """The way to pay a proposal added or changed, once a second money person approved it."""
    approved = second_approves(proposal, by=by)
    return approved.method
