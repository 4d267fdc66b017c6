import csv
import io
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ledger import services

from . import scenario
from .factories import donation

pytestmark = pytest.mark.django_db


@pytest.fixture
def ledger(media):
    return scenario.build()


def test_ledger_page_lists_entries_newest_first_with_totals(client, ledger):
    response = client.get("/ledger/")
    assert response.status_code == 200
    text = response.text
    assert text.index("#8 ") < text.index("#0 ")
    assert "25.00 USD to “Aid for Batken evacuees” from Aibek, by card" in text
    totals = {t["currency"]: t for t in response.context["totals"]}
    assert totals["KZT"]["money_in"] == 0  # 5000 in, then reversed by the correction
    assert totals["USD"]["money_in"] == 25
    assert totals["KGS"]["money_out"] == 1200


def test_ledger_page_filters_by_place_and_kind(client, ledger):
    response = client.get("/ledger/?place=isfana")
    assert [v.kind for v in response.context["entries"]] == ["delivery", "dispatch"]
    assert "Isfana ✕" in response.text
    response = client.get("/ledger/?kind=donation")
    assert [v.index for v in response.context["entries"]] == [1, 0]


def test_ledger_page_filters_by_fundraiser_and_date(client, ledger):
    response = client.get("/ledger/?fundraiser=batken-2022&since=2000-01-01&until=2100-01-01")
    kinds = {v.kind for v in response.context["entries"]}
    assert kinds == {"donation", "expense", "dispatch", "delivery", "correction"}
    response = client.get("/ledger/?since=2100-01-01")
    assert response.context["entries"] == []


def test_ledger_page_ignores_filters_it_cannot_read(client, ledger):
    response = client.get("/ledger/?kind=bogus&since=yesterday&place=Not a Slug")
    assert response.status_code == 200
    assert "were not understood" in response.text


def test_ledger_page_is_keyset_paginated(client, ledger, settings):
    settings.LEDGER_PAGE_SIZE = 4
    first = client.get("/ledger/")
    assert [v.index for v in first.context["entries"]] == [8, 7, 6, 5]
    assert first.context["older"] == "?before=5"
    second = client.get("/ledger/?before=5")
    assert [v.index for v in second.context["entries"]] == [4, 3, 2, 1]


def test_ledger_page_makes_the_same_number_of_queries_for_more_entries(client, ledger):
    with CaptureQueriesContext(connection) as few:
        client.get("/ledger/")
    for n in range(30):
        services.append(kind="donation", payload=donation(amount=f"{n + 1}.00"))
    with CaptureQueriesContext(connection) as many:
        client.get("/ledger/")
    assert len(many) == len(few)


def test_entry_page_shows_the_bytes_the_hash_and_a_proof(client, ledger):
    response = client.get("/ledger/6/")
    assert response.status_code == 200
    assert "Isfana" in response.text and "120" in response.text
    assert "handover confirmed by the recipient" in response.text
    assert response.context["view"].leaf_text in response.text.replace("&quot;", '"')
    assert len(response.context["proof"]) == 4
    assert "api/ledger/proof/inclusion?index=6&amp;size=9" in response.text


def test_entry_page_links_a_reversed_entry_to_its_correction(client, ledger):
    response = client.get("/ledger/0/")
    assert response.context["view"].reversed_by.index == 8
    assert "reversed" in client.get("/ledger/").text


def test_entry_newer_than_the_checkpoint_says_its_proof_comes_later(client, ledger):
    services.append(kind="donation", payload=donation())
    response = client.get("/ledger/9/")
    assert not response.context["has_proof"]
    assert "newer than the latest signed checkpoint" in response.text


def test_missing_entry_is_404(client, ledger):
    assert client.get("/ledger/99/").status_code == 404


def test_receipt_code_leads_the_donor_to_their_entry(client, ledger):
    code = ledger["code"]
    response = client.get(f"/ledger/receipt/{code}/")
    assert response.status_code == 200
    assert response.context["view"].index == 0
    assert code in response.text
    response = client.get(f"/ledger/receipt/?code={code.lower()}")
    assert response.status_code == 302
    assert client.get("/ledger/receipt/AAAAA-BBBBB/").status_code == 404
    assert "No donation has this code" in client.get("/ledger/receipt/?code=nope").text


def test_a_donation_entry_lists_no_goods_and_an_intake_lists_its_own(client, ledger):
    donation_page = client.get("/ledger/0/").text
    assert "Goods" not in donation_page
    assert "<li>:" not in donation_page
    intake = client.get("/ledger/3/").text
    assert "Goods" in intake and "Flour" in intake


def test_the_receipt_page_shows_what_the_fundraiser_did_since_and_what_is_checked(client, ledger):
    response = client.get(f"/ledger/receipt/{ledger['code']}/")
    since = [e.index for e in response.context["since"]]
    # The expense, the dispatch, the delivery and the correction concern the fundraiser; the
    # second donation, the intake, the transfer and the adjustment do not count as spending.
    assert since == [8, 6, 5, 2]
    page = response.text
    assert "money has done since" in page
    assert "What is checked, and by whom" in page
    assert "covered by a signed checkpoint of 9 entries" in page
    for photo in ledger["photos"]:
        assert f'href="/ledger/evidence/{photo.sha256}"' in page
    # In each currency as recorded; the donation of 5,000 KZT was reversed (#8), so KZT is 0.
    assert "Received 25.00 USD, spent 0.00 USD." in page
    assert "spent 1,200.00 KGS." in page
    assert "KZT, spent" not in page


def test_the_receipt_page_marks_a_reversed_purchase_as_reversed_with_a_link(client, ledger):
    services.append(kind="correction", payload={"reverses": 2, "reason": "wrong receipt"})
    page = client.get(f"/ledger/receipt/{ledger['code']}/").text
    since = page[page.index("money has done since") :]
    assert '(<a href="/ledger/9/">reversed by #9</a>)' in since
    assert since.count("reversed by #") == 1  # the dispatch and the delivery stand


def test_an_entry_page_without_a_receipt_code_does_not_speak_to_a_donor(client, ledger):
    page = client.get("/ledger/0/").text
    assert "What is checked, and by whom" not in page
    assert "money has done since" not in page


@pytest.mark.parametrize(
    "typed",
    [
        lambda c: c.replace("-", ""),  # without its hyphen
        lambda c: c.lower().replace("-", " "),  # lower case, a space instead
        lambda c: f"  {c[:5]}\u2013{c[6:]} ",  # an en dash, padded
        lambda c: c.replace("-", "").translate(str.maketrans("ABEKMHPCTXY", "авекмнрстху")),
    ],
    ids=["no-hyphen", "lower-space", "en-dash", "cyrillic-lookalikes"],
)
def test_receipt_code_is_found_however_the_donor_types_it(client, ledger, typed):
    code = ledger["code"]
    response = client.get("/ledger/receipt/", {"code": typed(code)})
    assert response.status_code == 302
    assert response["Location"] == f"/ledger/receipt/{code}/"
    assert client.get(f"/ledger/receipt/{typed(code).strip()}/").status_code == 200


def test_a_code_that_is_not_one_is_not_found_and_kept_short(client, ledger):
    response = client.get("/ledger/receipt/", {"code": "X" * 500})
    assert response.status_code == 200
    assert response.context["not_found"]
    assert response.context["code"] == "X" * 32


def test_csv_export_has_every_entry(client, ledger):
    response = client.get("/ledger/export.csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r["index"] for r in rows] == [str(i) for i in range(9)]
    assert rows[2]["direction"] == "out" and rows[2]["amount"] == "1200.00"
    assert rows[6]["place"] == "Isfana" and rows[6]["region"] == "Batken"
    assert rows[6]["reached"] == "120"


def test_json_export_of_one_fundraiser(client, ledger):
    response = client.get("/ledger/export.json?fundraiser=batken-2022")
    data = json.loads(b"".join(response.streaming_content))
    assert {e["kind"] for e in data} == {
        "donation",
        "expense",
        "dispatch",
        "delivery",
        "correction",
    }
    assert all(len(e["leaf_hash"]) == 64 for e in data)


def test_hxl_export_is_read_by_libhxl(client, ledger, tmp_path):
    import hxl

    body = b"".join(client.get("/ledger/export.hxl.csv").streaming_content).decode()
    path = tmp_path / "ledger.hxl.csv"
    path.write_text(body, encoding="utf-8")
    dataset = hxl.data(str(path), hxl.InputOptions(allow_local=True))
    tags = [column.display_tag for column in dataset.columns]
    for tag in ["#date", "#org+name", "#adm1+name", "#adm2+name", "#sector", "#item+name",
                "#value", "#currency", "#reached", "#meta+id"]:  # fmt: skip
        assert tag in tags
    rows = list(dataset)
    assert len(rows) == 9
    assert rows[6].get("#adm1") == "Batken"
    assert rows[6].get("#reached") == "120"


def test_atom_feed_lists_new_entries(client, ledger):
    response = client.get("/ledger/feed.atom")
    assert response["Content-Type"].startswith("application/atom+xml")
    assert response.text.count("<entry>") == 9


def test_verify_page_shows_the_command_and_the_key(client, ledger):
    from ledger.keys import signer

    response = client.get("/ledger/verify/")
    assert signer().verifier_key in response.text
    assert "python3 verify.py http://testserver --key" in response.text
    script = client.get("/ledger/verify.py")
    assert b"def verify_inclusion" in script.content


def test_a_new_entry_shows_at_once_although_the_list_is_cached(client, ledger):
    assert "#9 " not in client.get("/ledger/").text
    services.append(kind="donation", payload=donation(amount="77.00"))
    assert "77.00 KZT" in client.get("/ledger/").text
