"""deliveries 0004: a delivery that named a purchase never took goods from its hub's stock
(dispatch and return skipped the stock for it), so it keeps the purchase and names no hub;
0005 then holds every delivery to exactly one of the two."""

import datetime

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("deliveries", "0003_idempotent_submission_moved_to_aidhub")]
AFTER = [("deliveries", "0005_delivery_from_hub_or_purchase")]


@pytest.fixture
def migrator(transactional_db):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    executor.loader.build_graph()
    yield executor
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_a_delivery_that_named_a_purchase_comes_from_it_and_not_from_its_hub(migrator):
    # Every other app as it is now; deliveries before 0004.
    others = [n for n in migrator.loader.graph.leaf_nodes() if n[0] != "deliveries"]
    old = migrator.loader.project_state([*others, *BEFORE]).apps
    dana = old.get_model("auth", "User").objects.create(username="dana")
    group = old.get_model("groups", "Group").objects.create(
        slug="batken", name="Batken volunteers", name_en="Batken volunteers", country="KG"
    )
    region = old.get_model("hubs", "Region").objects.create(slug="batken", name="Batken")
    hub = old.get_model("hubs", "Hub").objects.create(
        slug="palace", name="Sports Palace", name_en="Sports Palace", kind="central",
        region=region, address="Togolok Moldo St 40", group=group,
    )  # fmt: skip
    place = old.get_model("hubs", "Place").objects.create(
        slug="isfana", name="Isfana", name_en="Isfana", region=region
    )
    fundraiser = old.get_model("donations", "Fundraiser").objects.create(
        slug="almaty", title="Almaty for Batken", title_en="Almaty for Batken", organiser=dana,
        group=group, goal_amount=100, currency="KGS", starts_on=datetime.date(2026, 11, 1),
    )  # fmt: skip
    expense = old.get_model("donations", "Expense").objects.create(
        fundraiser=fundraiser, amount=10, currency="KGS", rate=1, rate_source="same currency",
        converted_amount=10, ledger_index=7, vendor="Batken market",
        paid_at=datetime.datetime(2026, 11, 2, tzinfo=datetime.UTC), receipt_sha256="a" * 64,
    )  # fmt: skip
    deliveries = old.get_model("deliveries", "Delivery").objects
    deliveries.create(slug="from-purchase", hub=hub, expense=expense, place=place)
    deliveries.create(slug="from-hub", hub=hub, place=place)

    new = _migrate(migrator, [*others, *AFTER])
    rows = new.get_model("deliveries", "Delivery").objects
    assert rows.values_list("slug", "hub_id", "expense_id").order_by("slug")[::1] == [
        ("from-hub", hub.pk, None), ("from-purchase", None, expense.pk),
    ]  # fmt: skip
    with pytest.raises(IntegrityError), transaction.atomic():
        rows.filter(slug="from-hub").update(expense_id=expense.pk)


def _migrate(migrator, targets):
    migrator.loader.build_graph()
    migrator.migrate(targets)
    return migrator.loader.project_state(targets).apps
