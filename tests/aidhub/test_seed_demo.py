import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

pytestmark = [pytest.mark.django_db, pytest.mark.clock]


def test_seed_demo_creates_demo_users_and_prints_their_logins(capsys):
    call_command("seed_demo")
    out = capsys.readouterr().out
    for username in ["coordinator", "volunteer", "volunteer2", "organizer"]:
        assert username in out
        assert get_user_model().objects.get(username=username).check_password("aidhub-demo")
    assert "password: aidhub-demo" in out


def test_seed_demo_twice_changes_nothing():
    call_command("seed_demo")
    before = list(get_user_model().objects.values_list("id", "username", "password"))
    call_command("seed_demo")
    after = list(get_user_model().objects.values_list("id", "username", "password"))
    assert before == after


def test_seed_demo_refuses_production(settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        call_command("seed_demo")
    assert not get_user_model().objects.exists()


def test_seed_demo_builds_hubs_places_requests_and_a_signed_ledger(client, media, monkeypatch):
    from hubs.models import Hub, Place, SupplyRequest
    from ledger import exportfiles
    from ledger.models import Checkpoint, LedgerEntry

    monkeypatch.setattr(exportfiles, "REQUEST_ENTRIES", 0)  # as for a large ledger,
    monkeypatch.setattr(exportfiles, "_enqueue", lambda: None)  # with no worker running yet

    call_command("seed_demo")
    assert Hub.objects.get(slug="sports-palace").kind == "central"
    assert Hub.objects.filter(kind="collection_point").count() == 3
    assert Place.objects.count() == 10
    assert Place.objects.filter(region__slug__in=["batken", "osh"]).count() == 10
    assert SupplyRequest.objects.get(place__slug="isfana").status == "fulfilled"
    gaps = [gap.place.slug for gap in client.get("/gaps/").context["gaps"]]
    assert "isfana" not in gaps and "ak-sai" in gaps
    assert Checkpoint.objects.get().size == LedgerEntry.objects.count()
    entries = LedgerEntry.objects.count()
    export = client.get("/ledger/export.json")  # written by seed_demo, served at once
    assert export.status_code == 200 and export["X-Ledger-Size"] == str(entries)
    call_command("seed_demo")
    assert LedgerEntry.objects.count() == entries


def test_seed_demo_fundraiser_takes_four_currencies_and_reconciles(client, media):
    from donations.models import Donation, Fundraiser
    from donations.reconcile import reconcile

    call_command("seed_demo")
    fundraiser = Fundraiser.objects.get(slug="almaty-for-batken-2022")
    assert fundraiser.goal_amount == 10_500_000 and fundraiser.currency == "KZT"
    live = Donation.objects.filter(corrected_by_index__isnull=True)
    assert set(live.values_list("currency", flat=True)) == {"KZT", "KGS", "USD", "GBP"}
    assert fundraiser.expenses.count() == 3
    assert reconcile(fundraiser).ok
    assert client.get(fundraiser.get_absolute_url()).status_code == 200


def test_seed_demo_passes_money_from_the_almaty_group_to_the_batken_group(
    client, media, monkeypatch
):
    from donations.models import Fundraiser, MoneyTransfer
    from donations.reconcile import reconcile
    from ledger import exportfiles

    monkeypatch.setattr(exportfiles, "REQUEST_ENTRIES", 0)
    monkeypatch.setattr(exportfiles, "_enqueue", lambda: None)
    call_command("seed_demo")
    export = client.get("/ledger/export.json")
    entries = [e for e in _export_entries(export) if e["kind"] == "money_transfer"]
    assert len(entries) == 1
    payload = entries[0]["payload"]
    assert payload["from_group"]["id"] == "almaty-initiative"
    assert payload["to_group"]["id"] == "batken-volunteers"
    assert payload["money"] == {"amount": "1500000.00", "currency": "KZT"}
    assert payload["converted"]["currency"] == "KGS"
    assert payload["approved_by"] == "treasurer" and payload["accepted_by"] == "organiser"
    transfer = MoneyTransfer.objects.get()
    assert transfer.acceptance == "accepted"
    for fundraiser in Fundraiser.objects.all():
        assert reconcile(fundraiser).ok, reconcile(fundraiser).problems


def test_seed_demo_delivers_the_batken_purchase_straight_to_kulundu_with_its_expense_index(
    client, media, monkeypatch
):
    from deliveries.models import Delivery
    from hubs.models import StockMovement
    from ledger import exportfiles

    monkeypatch.setattr(exportfiles, "REQUEST_ENTRIES", 0)
    monkeypatch.setattr(exportfiles, "_enqueue", lambda: None)
    call_command("seed_demo")
    entries = _export_entries(client.get("/ledger/export.json"))
    by_index = {e["index"]: e for e in entries}
    direct = [e for e in entries if e["kind"] == "delivery" and "expense" in e["payload"]]
    assert len(direct) == 1
    payload = direct[0]["payload"]
    assert "hub" not in payload
    bought = by_index[payload["expense"]]
    assert bought["kind"] == "expense" and bought["payload"]["approved_by"] == "treasurer"
    assert bought["payload"]["fundraiser"]["id"] == "isfana-villages-2022"
    assert "hub" not in bought["payload"]
    assert payload["place"]["id"] == "kulundu" and payload["confirmed_by_recipient"] is True
    assert len(payload["evidence"]) == 2
    assert payload["fundraisers"] == [bought["payload"]["fundraiser"]]
    delivery = Delivery.objects.get(ledger_index=direct[0]["index"])
    assert delivery.hub is None and delivery.verified_by != delivery.volunteer
    moved = StockMovement.objects.filter(reference=delivery.slug)
    assert not moved.exists()  # nothing left a hub's stock for it


def _export_entries(response) -> list[dict]:
    import json

    body = b"".join(response.streaming_content) if response.streaming else response.content
    data = json.loads(body)
    return data["entries"] if isinstance(data, dict) else data
