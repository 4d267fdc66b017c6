"""Ways to pay as data: each change is a public ledger entry with the full list, shown on the
fundraiser's page with a copy button and the warning; one organiser or treasurer proposes a
change and a second one approves it (tests/donations/test_two_people.py tests that rule)."""

import io
import json

import pytest
import segno
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from PIL import Image

from aidhub.models import AuditEvent
from aidhub.uploads import clean_image
from donations import services
from donations.models import PaymentMethod, PaymentMethodProposal
from ledger.models import Evidence, LedgerEntry
from ledger.schemas import PAYMENT_KINDS, PayloadError, validate_payload
from tests.aidhub.test_uploads import GPS_IFD
from tests.factories import PASSWORD, UserFactory, payment_method_approved, second_approves

pytestmark = [pytest.mark.django_db, pytest.mark.clock]

KASPI = {"kind": "e_wallet", "label": "Kaspi", "details": "+7 701 555 01 22", "currency": "KZT",
         "recipient_name": "Dana O."}  # fmt: skip
MBANK = {"kind": "e_wallet", "label": "MBank", "details": "+996 555 010 203", "currency": "KGS"}


def add(fundraiser, **fields):
    """Proposed by the organiser, approved by the treasurer."""
    return payment_method_approved(
        services.payment_method_add(
            fundraiser=fundraiser, by=fundraiser.organiser, **(KASPI | fields)
        )
    )


def change(method, **fields):
    proposal = services.payment_method_change(
        method=method, by=method.fundraiser.organiser, **fields
    )
    return proposal and second_approves(proposal)


def remove(method):
    return second_approves(
        services.payment_method_remove(method=method, by=method.fundraiser.organiser)
    )


def last_payload() -> dict:
    entry = LedgerEntry.objects.filter(kind="payment_details").latest("index")
    return json.loads(bytes(entry.leaf))["payload"]


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)


def page_url(fundraiser, tail=""):
    return f"/fundraisers/{fundraiser.slug}/{tail}"


def test_the_model_kinds_are_the_ledger_kinds():
    assert tuple(PaymentMethod.Kind.values) == PAYMENT_KINDS


def test_adding_a_way_to_pay_appends_the_full_list_to_the_ledger(fundraiser):
    add(fundraiser)
    add(fundraiser, **MBANK)
    assert LedgerEntry.objects.filter(kind="payment_details").count() == 2
    payload = last_payload()
    assert payload["fundraiser"] == {"id": fundraiser.slug, "title": fundraiser.title}
    assert payload["methods"] == [
        {"kind": "e_wallet", "label": "Kaspi", "details": "+7 701 555 01 22", "currency": "KZT"},
        {"kind": "e_wallet", "label": "MBank", "details": "+996 555 010 203", "currency": "KGS"},
    ]


def test_a_swapped_account_number_is_visible_in_the_ledger(fundraiser, treasurer):
    method = add(fundraiser)
    assert change(method, details="+7 777 000 99 88")
    entries = LedgerEntry.objects.filter(kind="payment_details").order_by("index")
    lists = [json.loads(bytes(e.leaf))["payload"]["methods"] for e in entries]
    assert [m[0]["details"] for m in lists] == ["+7 701 555 01 22", "+7 777 000 99 88"]
    assert json.loads(bytes(entries[1].leaf))["payload"]["approved_by"] == "treasurer"
    proposed = AuditEvent.objects.get(action="payment method change proposed")
    event = AuditEvent.objects.get(action="payment method changed")
    assert proposed.actor == fundraiser.organiser and event.actor == treasurer
    assert event.detail["ledger"] == str(entries[1].index)


def test_a_change_that_changes_nothing_appends_nothing(fundraiser):
    method = add(fundraiser)
    assert not services.payment_method_change(
        method=method, by=fundraiser.organiser, label=" Kaspi ", details="+7  701 555 01 22"
    )
    assert LedgerEntry.objects.filter(kind="payment_details").count() == 1
    assert PaymentMethodProposal.objects.filter(status="pending").count() == 0


def test_hiding_and_removing_leave_an_entry_listing_what_is_left(fundraiser):
    kaspi, mbank = add(fundraiser), add(fundraiser, **MBANK)
    change(mbank, active=False)
    assert [m["label"] for m in last_payload()["methods"]] == ["Kaspi"]
    remove(kaspi)
    assert last_payload()["methods"] == []
    assert AuditEvent.objects.filter(action="payment method removed").count() == 1
    assert LedgerEntry.objects.filter(kind="payment_details").count() == 4


def test_the_recipient_name_stays_out_of_the_ledger(fundraiser):
    add(fundraiser)
    entry = LedgerEntry.objects.get(kind="payment_details")
    assert b"Dana" not in bytes(entry.leaf)
    with pytest.raises(PayloadError, match="personal data"):
        validate_payload("payment_details", {
            "fundraiser": fundraiser.ledger_ref(),
            "methods": [{**last_payload()["methods"][0], "recipient_name": "Dana O."}],
        })  # fmt: skip


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"label": ""}, "label", "Name the bank, wallet or hub"),
        ({"label": "Kaspi +7 701 555 01 22"}, "label", "Put numbers in the details"),
        ({"details": "  "}, "details", "Give the account, card number"),
        ({"details": "pay@example.org"}, "details", "no e-mail addresses or links"),
        ({"details": "<script>x</script>"}, "details", "only letters, digits"),
        ({"currency": "XYZ"}, "currency", "Choose the currency"),
        ({"kind": "crypto"}, "kind", "Choose how donors pay"),
    ],
)
def test_bad_details_are_refused_with_a_clear_message(fundraiser, fields, field, message):
    with pytest.raises(ValidationError) as caught:
        add(fundraiser, **fields)
    assert message in " ".join(caught.value.message_dict[field])
    assert not PaymentMethod.objects.exists() and not LedgerEntry.objects.exists()


def test_the_same_details_twice_are_refused(fundraiser):
    add(fundraiser)
    with pytest.raises(ValidationError, match="already listed"):
        add(fundraiser, label="Kaspi Gold")
    assert LedgerEntry.objects.filter(kind="payment_details").count() == 1


def test_the_database_refuses_an_unknown_currency_or_kind(fundraiser):
    row = {"fundraiser": fundraiser, "label": "X", "details": "1"}
    for bad in ({"kind": "e_wallet", "currency": "XXQ"}, {"kind": "crypto", "currency": "KZT"}):
        with pytest.raises(IntegrityError), transaction.atomic():
            PaymentMethod.objects.create(**row, **bad)


def test_only_the_organiser_can_change_the_details(fundraiser):
    method = add(fundraiser)
    stranger = UserFactory(username="mallory")
    refused = "Only an active organiser or treasurer"
    with pytest.raises(ValidationError, match=refused):
        services.payment_method_add(fundraiser=fundraiser, by=stranger, **MBANK)
    with pytest.raises(ValidationError, match=refused):
        services.payment_method_change(method=method, by=stranger, details="4400 0000 0000 0001")
    with pytest.raises(ValidationError, match=refused):
        services.payment_method_remove(method=method, by=stranger)
    assert not PaymentMethodProposal.objects.filter(status="pending").exists()
    assert PaymentMethod.objects.get().details == KASPI["details"]
    assert LedgerEntry.objects.filter(kind="payment_details").count() == 1


def qr_jpeg_with_gps(text: str = "https://kaspi.kz/pay?phone=%2B77015550122") -> bytes:
    """A phone's photo of a QR code that pays Kaspi's details, with GPS in its EXIF."""
    png = io.BytesIO()
    segno.make(text, error="m").save(png, kind="png", scale=8, border=4)
    exif = Image.Exif()
    exif[GPS_IFD] = {1: "N", 2: (39.0, 50.0, 24.0), 3: "E", 4: (69.0, 31.0, 48.0)}
    out = io.BytesIO()
    Image.open(png).convert("RGB").save(out, "JPEG", exif=exif)
    assert Image.open(io.BytesIO(out.getvalue())).getexif().get_ifd(GPS_IFD)
    return out.getvalue()


def test_a_qr_code_is_published_as_evidence_without_its_metadata(fundraiser, media):
    add(fundraiser, qr=clean_image(qr_jpeg_with_gps()))
    method = PaymentMethod.objects.get()
    payload = last_payload()
    assert payload["methods"][0]["qr"] == method.qr_sha256
    assert payload["evidence"] == [method.qr_sha256]
    stored = Evidence.objects.get(sha256=method.qr_sha256)
    assert stored.published
    image = Image.open(io.BytesIO(stored.file.read()))
    assert not image.getexif() and not image.getexif().get_ifd(GPS_IFD)


def test_the_fundraiser_page_shows_the_ways_to_pay_the_warning_and_what_is_checked(
    client, fundraiser, media
):
    add(fundraiser, qr=clean_image(qr_jpeg_with_gps()))
    add(fundraiser, **MBANK)
    entry = LedgerEntry.objects.filter(kind="payment_details").latest("index")
    page = client.get(page_url(fundraiser)).text
    assert "+7 701 555 01 22" in page and "+996 555 010 203" in page
    assert "KZT" in page and "KGS" in page and "Recipient: Dana O." in page
    assert 'data-copy-target="pay-details-' in page and "js/copy-details.js" in page
    assert "user-select-all" in page  # selectable without JavaScript; the buttons start hidden
    assert "AidHub never asks for your card number, CVV or SMS codes." in page
    assert f'href="{reverse("ledger:entry", args=[entry.index])}"' in page
    assert "What is checked" in page and 'href="/ledger/verify/"' in page
    qr = PaymentMethod.objects.get(label="Kaspi").qr_sha256
    assert f"/ledger/evidence/{qr}" in page
    assert "Kaspi card, ask in our channel" not in page  # the unledgered free text is not


def test_the_follow_box_names_the_telegram_bot_when_configured(client, fundraiser, settings):
    settings.TELEGRAM_BOT_NAME = "aidhub_demo_bot"
    page = client.get(page_url(fundraiser)).text
    assert 'href="https://t.me/aidhub_demo_bot"' in page and "@aidhub_demo_bot" in page


def test_the_follow_box_names_no_bot_when_none_is_configured(client, fundraiser, settings):
    settings.TELEGRAM_BOT_NAME = ""
    assert "t.me/" not in client.get(page_url(fundraiser)).text


def test_the_ledger_entry_page_reads_the_list(client, fundraiser):
    add(fundraiser)
    entry = LedgerEntry.objects.get(kind="payment_details")
    page = client.get(f"/ledger/{entry.index}/").text
    assert "Payment details" in page
    assert "Kaspi (e-wallet, KZT): +7 701 555 01 22" in page  # the summary
    assert (
        "Ways to pay from now on" in page
        and '<code><bdi dir="ltr">+7 701 555 01 22</bdi></code>' in page
    )


def approve_on_the_manage_page(client, fundraiser, treasurer) -> None:
    """The treasurer signs in, finds the proposal on the manage page and approves it there."""
    proposal = PaymentMethodProposal.objects.get(status="pending")
    login(client, treasurer)
    manage = client.get(page_url(fundraiser, "manage/")).text
    decide = reverse("donations:payment_decide", args=[fundraiser.slug, proposal.pk])
    assert f'action="{decide}"' in manage
    token = manage.split('name="idempotency_key" value="')[1].split('"')[0]
    response = client.post(decide, {"decision": "approve", "idempotency_key": token})
    assert response.status_code == 302
    login(client, fundraiser.organiser)


def test_the_organiser_adds_changes_and_removes_through_the_manage_page(
    client, fundraiser, treasurer, media
):
    login(client, fundraiser.organiser)
    qr = io.BytesIO()
    segno.make("card:4169000000000001", error="m").save(qr, kind="png", scale=6)
    response = client.post(page_url(fundraiser, "payment-methods/new/"), {
        "kind": "card_to_card", "label": "Optima", "details": "4169 0000 0000 0001",
        "currency": "KGS", "recipient_name": "", "active": "on",
        "qr": SimpleUploadedFile("qr.png", qr.getvalue(), content_type="image/png"),
    })  # fmt: skip
    assert response.status_code == 302
    assert not PaymentMethod.objects.exists() and not LedgerEntry.objects.exists()
    approve_on_the_manage_page(client, fundraiser, treasurer)
    method = PaymentMethod.objects.get()
    assert method.qr_sha256 and method.order == 1
    manage = client.get(page_url(fundraiser, "manage/")).text
    assert "4169 0000 0000 0001" in manage
    response = client.post(page_url(fundraiser, f"payment-methods/{method.pk}/"), {
        "kind": "card_to_card", "label": "Optima", "details": "4169 0000 0000 0002",
        "currency": "KGS", "order": "1", "active": "on", "qr_remove": "on",  # it pays ...0001
    })  # fmt: skip
    assert response.status_code == 302
    approve_on_the_manage_page(client, fundraiser, treasurer)
    assert last_payload()["methods"][0]["details"] == "4169 0000 0000 0002"
    assert "qr" not in last_payload()["methods"][0]
    response = client.post(page_url(fundraiser, f"payment-methods/{method.pk}/remove/"))
    assert response.status_code == 302 and PaymentMethod.objects.exists()
    approve_on_the_manage_page(client, fundraiser, treasurer)
    assert not PaymentMethod.objects.exists()
    assert LedgerEntry.objects.filter(kind="payment_details").count() == 3


def test_the_manage_form_shows_a_refusal_beside_its_field(client, fundraiser):
    login(client, fundraiser.organiser)
    response = client.post(page_url(fundraiser, "payment-methods/new/"), {
        "kind": "e_wallet", "label": "Kaspi", "details": "pay@example.org", "currency": "KZT",
    })  # fmt: skip
    assert response.status_code == 200
    assert "no e-mail addresses or links" in response.text
    assert not LedgerEntry.objects.exists()


def test_outsiders_get_404_on_the_payment_pages(client, fundraiser):
    method = add(fundraiser)
    login(client, UserFactory(username="mallory"))
    for tail in ("payment-methods/new/", f"payment-methods/{method.pk}/",
                 f"payment-methods/{method.pk}/remove/"):  # fmt: skip
        assert client.get(page_url(fundraiser, tail)).status_code == 404
        assert client.post(page_url(fundraiser, tail), {**MBANK}).status_code == 404
    assert PaymentMethod.objects.get().details == KASPI["details"]
    assert LedgerEntry.objects.filter(kind="payment_details").count() == 1


def test_signed_out_visitors_are_sent_to_sign_in(client, fundraiser):
    response = client.post(page_url(fundraiser, "payment-methods/new/"), MBANK)
    assert response.status_code == 302 and "login" in response["Location"]
    assert not PaymentMethod.objects.exists()


def approve_in_the_admin(client, fundraiser, treasurer) -> None:
    proposal = PaymentMethodProposal.objects.get(status="pending")
    login(client, treasurer)
    response = client.post("/admin/donations/paymentmethodproposal/", {
        "action": "approve", "_selected_action": [proposal.pk], "index": "0",
    })  # fmt: skip
    assert response.status_code == 302
    proposal.refresh_from_db()
    assert proposal.status == "approved", proposal
    login(client, fundraiser.organiser)


def test_the_admin_writes_through_the_service(client, fundraiser, treasurer):
    for user in (fundraiser.organiser, treasurer):
        user.is_staff = True
        user.save()
    login(client, fundraiser.organiser)
    response = client.post("/admin/donations/paymentmethod/add/", {
        "fundraiser": fundraiser.pk, "order": "0", "active": "on", **MBANK,
    })  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == "/admin/donations/paymentmethodproposal/"
    assert not PaymentMethod.objects.exists()
    approve_in_the_admin(client, fundraiser, treasurer)
    assert last_payload()["methods"][0]["label"] == "MBank"
    method = PaymentMethod.objects.get()
    response = client.post(f"/admin/donations/paymentmethod/{method.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert PaymentMethod.objects.exists()
    approve_in_the_admin(client, fundraiser, treasurer)
    assert last_payload()["methods"] == []


def test_the_admin_refuses_bad_details_beside_the_field(client, fundraiser):
    fundraiser.organiser.is_staff = True
    fundraiser.organiser.save()
    login(client, fundraiser.organiser)
    response = client.post("/admin/donations/paymentmethod/add/", {
        "fundraiser": fundraiser.pk, "order": "0", "active": "on", **(MBANK | {"label": ""}),
    })  # fmt: skip
    assert response.status_code == 200 and not PaymentMethod.objects.exists()


def test_the_demo_seeds_kaspi_mbank_and_cash_through_the_service(client, media):
    from django.core.management import call_command

    call_command("seed_demo", stdout=io.StringIO())
    methods = PaymentMethod.objects.order_by("order")
    assert [(m.label, m.kind, m.currency) for m in methods] == [
        ("Kaspi", "e_wallet", "KZT"),
        ("MBank", "e_wallet", "KGS"),
        ("Sports Palace desk", "cash_at_hub", "KGS"),
    ]
    assert methods[0].qr_sha256  # the Kaspi QR, published as evidence
    assert [m["label"] for m in last_payload()["methods"]] == [m.label for m in methods]
    assert LedgerEntry.objects.filter(kind="payment_details").count() == 3
    page = client.get(methods[0].fundraiser.get_absolute_url()).text
    assert "Sports Palace, Bishkek, 09:00–21:00" in page


@pytest.mark.parametrize(
    ("method", "message"),
    [
        ({"details": "4400 0000 0000 0001\n"}, "only letters, digits"),  # \Z, not $
        ({"currency": "KZT\n"}, "ISO 4217"),
        ({"qr": "A" * 64}, "lowercase hex SHA-256"),
        ({"kind": "crypto"}, "must be one of"),
        ({"label": "Kaspi +7 701 555 01 22"}, "personal data"),
    ],
)
def test_the_ledger_schema_refuses_a_bad_payment_method(fundraiser, method, message):
    line = {"kind": "e_wallet", "label": "Kaspi", "details": "+7 701 555 01 22",
            "currency": "KZT"}  # fmt: skip
    validate_payload("payment_details", {"fundraiser": fundraiser.ledger_ref(), "methods": [line]})
    with pytest.raises(PayloadError, match=message):
        validate_payload(
            "payment_details", {"fundraiser": fundraiser.ledger_ref(), "methods": [line | method]}
        )
