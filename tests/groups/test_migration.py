"""groups 0002 gives every hub and fundraiser that existed before groups one group, and the
people who ran them their roles in it."""

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [
    ("groups", "0001_initial"),
    ("hubs", "0005_hub_group"),
    ("donations", "0008_fundraiser_group"),
]
AFTER = [
    ("groups", "0002_default_group"),
    ("hubs", "0006_hub_group_required"),
    ("donations", "0009_fundraiser_group_required"),
]


@pytest.fixture
def migrator(transactional_db):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    executor.loader.build_graph()
    yield executor
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


def _migrate(migrator, targets):
    migrator.loader.build_graph()
    migrator.migrate(targets)
    return migrator.loader.project_state(targets).apps


def test_existing_hubs_and_fundraisers_get_one_group_and_their_people_roles(migrator):
    old = migrator.loader.project_state(BEFORE).apps
    users = old.get_model("auth", "User").objects
    dana, aigerim, bakyt = (users.create(username=n) for n in ("dana", "aigerim", "bakyt"))
    region = old.get_model("hubs", "Region").objects.create(slug="batken", name="Batken")
    hub = old.get_model("hubs", "Hub").objects.create(
        slug="palace", name="Sports Palace", name_en="Sports Palace", kind="central",
        region=region, address="Togolok Moldo St 40",
    )  # fmt: skip
    memberships = old.get_model("hubs", "Membership").objects
    memberships.create(user=aigerim, hub=hub, role="coordinator")
    memberships.create(user=bakyt, hub=hub, role="volunteer")
    old.get_model("donations", "Fundraiser").objects.create(
        slug="almaty", title="Almaty for Batken", title_en="Almaty for Batken", organiser=dana,
        goal_amount=100, currency="KZT", starts_on=datetime.date(2026, 11, 1),
    )  # fmt: skip

    new = _migrate(migrator, AFTER)
    group = new.get_model("groups", "Group").objects.get()
    assert (group.slug, group.country, group.name_en) == ("default", "KG", "AidHub")
    assert new.get_model("hubs", "Hub").objects.get().group_id == group.pk
    assert new.get_model("donations", "Fundraiser").objects.get().group_id == group.pk
    roles = new.get_model("groups", "Member").objects.filter(group=group)
    assert sorted(roles.values_list("user__username", "role")) == [
        ("aigerim", "coordinator"),
        ("bakyt", "volunteer"),
        ("dana", "organiser"),
    ]
    # Hub-level memberships stay: a coordinator of one hub keeps that hub.
    assert new.get_model("hubs", "Membership").objects.count() == 2

    old = _migrate(migrator, BEFORE)  # and back: the group is gone, the rows stay
    assert not old.get_model("groups", "Group").objects.exists()
    assert old.get_model("hubs", "Hub").objects.get().group_id is None


def test_an_empty_site_gets_no_group(migrator):
    new = _migrate(migrator, AFTER)
    assert not new.get_model("groups", "Group").objects.exists()
