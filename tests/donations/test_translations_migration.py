"""donations 0005 and 0006 add modeltranslation's columns to the fundraiser and fill the English
ones from the texts it had, keeping every value."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("donations", "0004_payment_method")]
AFTER = [("donations", "0006_translated_texts_english")]


@pytest.fixture
def migrator(transactional_db):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    executor.loader.build_graph()
    yield executor
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_migration_keeps_the_fundraisers_texts_as_english(migrator):
    old = migrator.loader.project_state(BEFORE).apps
    organiser = old.get_model("auth", "User").objects.create(username="dana")
    old.get_model("donations", "Fundraiser").objects.create(
        slug="almaty-for-batken", title="Almaty for Batken", story="We drive food to Isfana.",
        how_to_donate="Kaspi card", organiser=organiser, goal_amount=100, currency="KZT",
        starts_on="2022-09-16",
    )  # fmt: skip

    migrator.loader.build_graph()
    migrator.migrate(AFTER)
    new = migrator.loader.project_state(AFTER).apps
    fundraiser = new.get_model("donations", "Fundraiser").objects.get()
    assert (fundraiser.title_en, fundraiser.story_en, fundraiser.how_to_donate_en) == (
        "Almaty for Batken", "We drive food to Isfana.", "Kaspi card",
    )  # fmt: skip
    assert (fundraiser.title_ru, fundraiser.story_ky) == (None, None)
    fundraiser.title_en = "Almaty for Batken 2022"
    fundraiser.save()

    migrator.loader.build_graph()
    migrator.migrate(BEFORE)  # and back, with the English text edited since
    old = migrator.loader.project_state(BEFORE).apps
    fundraiser = old.get_model("donations", "Fundraiser").objects.get()
    assert (fundraiser.title, fundraiser.story) == (
        "Almaty for Batken 2022",
        "We drive food to Isfana.",
    )
