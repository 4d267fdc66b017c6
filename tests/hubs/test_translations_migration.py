"""hubs 0003 and 0004 turn the hand-made name_xx columns into modeltranslation's, keeping
every value."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("hubs", "0002_unit_labels")]
AFTER = [("hubs", "0004_translated_names_english")]


@pytest.fixture
def migrator(transactional_db):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    executor.loader.build_graph()
    yield executor
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_migration_keeps_the_translated_names_and_fills_english(migrator):
    old = migrator.loader.project_state(BEFORE).apps
    region = old.get_model("hubs", "Region").objects.create(slug="batken", name="Batken")
    old.get_model("hubs", "Item").objects.create(
        slug="flour", name="Flour", name_ru="Мука", name_ky="Ун", name_kk="", name_uz="Un",
        name_tg="Орд", category="food", unit="kg",
    )  # fmt: skip
    old.get_model("hubs", "Place").objects.create(slug="isfana", name="Isfana", region=region)
    old.get_model("hubs", "Hub").objects.create(
        slug="palace", name="Sports Palace", kind="central", region=region,
        address="Togolok Moldo St 40", opening_hours="08:00–22:00",
    )  # fmt: skip

    migrator.loader.build_graph()
    migrator.migrate(AFTER)
    new = migrator.loader.project_state(AFTER).apps
    item = new.get_model("hubs", "Item").objects.get(slug="flour")
    assert (item.name_en, item.name_ru, item.name_ky, item.name_kk, item.name_uz, item.name_tg) == (
        "Flour", "Мука", "Ун", "", "Un", "Орд",
    )  # fmt: skip
    assert new.get_model("hubs", "Place").objects.get().name_en == "Isfana"
    hub = new.get_model("hubs", "Hub").objects.get()
    assert (hub.name_en, hub.address_en, hub.opening_hours_en) == (
        "Sports Palace", "Togolok Moldo St 40", "08:00–22:00",
    )  # fmt: skip

    migrator.loader.build_graph()
    migrator.migrate(BEFORE)  # and back, with the translations still there
    item = migrator.loader.project_state(BEFORE).apps.get_model("hubs", "Item").objects.get()
    assert (item.name, item.name_ru, item.name_kk) == ("Flour", "Мука", "")
