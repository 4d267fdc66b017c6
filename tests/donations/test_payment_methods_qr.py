"""A way to pay's QR code must pay the details shown beside it (donations.qrcheck): AidHub reads
the uploaded picture and refuses one without a readable QR code, or whose QR code pays
someone else, on the site and in the admin, and writes nothing."""

import io
import random

import pytest
import segno
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image, ImageDraw

from aidhub.uploads import clean_image
from donations import services
from donations.models import PaymentMethod, PaymentMethodProposal
from donations.qrcheck import detail_numbers, qr_pays
from ledger.models import Evidence, LedgerEntry
from tests.factories import PASSWORD, payment_method_approved, second_approves

pytestmark = [pytest.mark.django_db, pytest.mark.clock]

KASPI = {"kind": "e_wallet", "label": "Kaspi", "details": "+7 701 555 01 22", "currency": "KZT",
         "recipient_name": "Dana O."}  # fmt: skip
KASPI_QR = "https://kaspi.kz/pay/dana?phone=%2B77015550122"
OTHER_ACCOUNT_QR = "https://kaspi.kz/pay/dana?phone=%2B77019990000"
CHECKED = "AidHub read the QR code: it pays these details."


def qr_png(text: str) -> bytes:
    out = io.BytesIO()
    segno.make(text, error="l").save(out, kind="png", scale=10, border=4)
    return out.getvalue()


def photo_without_qr() -> bytes:
    """A plain photo: a sky-and-field picture with some noise, and no QR code in it."""
    image = Image.new("RGB", (320, 240), (120, 170, 230))
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 150, 320, 240], fill=(90, 150, 60))
    rng = random.Random(7)
    for _ in range(400):
        x, y = rng.randrange(320), rng.randrange(240)
        draw.point((x, y), fill=(rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def corrupted_qr() -> bytes:
    """Kaspi's QR code with half of its data modules scrambled: its three finder squares are
    intact, so it is found, but no error correction can read it."""
    symbol = segno.make(KASPI_QR, error="l")
    size = symbol.symbol_size(scale=1, border=0)[0]
    image = Image.open(io.BytesIO(qr_png(KASPI_QR))).convert("RGB")
    draw = ImageDraw.Draw(image)
    rng = random.Random(1)
    for y in range(size):
        for x in range(size):
            finder = (x < 9 and y < 9) or (x >= size - 9 and y < 9) or (x < 9 and y >= size - 9)
            if finder or x == 6 or y == 6 or rng.random() >= 0.5:
                continue
            colour = rng.choice([(0, 0, 0), (255, 255, 255)])
            draw.rectangle([(4 + x) * 10, (4 + y) * 10, (5 + x) * 10 - 1, (5 + y) * 10 - 1],
                           fill=colour)  # fmt: skip
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def add(fundraiser, **fields):
    """Proposed by the organiser, approved by the treasurer."""
    return payment_method_approved(
        services.payment_method_add(
            fundraiser=fundraiser, by=fundraiser.organiser, **(KASPI | fields)
        )
    )


def entries() -> int:
    return LedgerEntry.objects.filter(kind="payment_details").count()


def page_url(fundraiser, tail: str = "") -> str:
    return reverse("donations:fundraiser", args=[fundraiser.slug]) + tail


def login(client, user):
    user.is_staff = True  # the admin tests; the site's pages do not need it
    user.save()
    assert client.login(username=user.username, password=PASSWORD)


# The rule, per kind.


@pytest.mark.parametrize(
    ("kind", "details", "payload", "pays"),
    [
        ("e_wallet", "+7 701 555 01 22", KASPI_QR, True),
        ("e_wallet", "+7 701 555 01 22", "https://kaspi.kz/pay?phone=87015550122", True),
        ("e_wallet", "+7 701 555 01 22", OTHER_ACCOUNT_QR, False),
        (
            "e_wallet",
            "+996 555 010 203",
            "https://app.mbank.kg/qr/#00020101021132..0555010203",
            True,
        ),
        ("e_wallet", "+996 555 010 203", "https://app.mbank.kg/qr/#0002010102113205550102", False),
        # EMVCo: tag-length-value digits with the account inside.
        (
            "bank_transfer",
            "KG12 1234 5678 9012 3456",
            "00020101021126240120KG1212345678901234565303417",
            True,
        ),
        # The same digits in one EMVCo field, but inside a longer account, are someone else's.
        (
            "bank_transfer",
            "KG12 1234 5678 9012 3456",
            "00020101021126250121KG12123456789012345675303417",
            False,
        ),
        # A number inside a longer one is another account (review of issue 15).
        (
            "bank_transfer",
            "Account 1234567890 BIC 123456",
            "ST00012|PersonalAcc=91234567890123|BIC=1234567",
            False,
        ),
        ("card_to_card", "4400 4301 2345 6789", "card:44004301234567891", False),
        ("e_wallet", "+7 701 555 01 22", "https://kaspi.kz/pay?phone=99997015550122", False),
        (
            "bank_transfer",
            "Account 1234 5678 9012, BIC 109018",
            "ST00012|ACC=123456789012|BIC=109018",
            True,
        ),
        (
            "bank_transfer",
            "Account 1234 5678 9012, BIC 109018",
            "ST00012|ACC=123456789012|BIC=109099",
            False,
        ),
        ("card_to_card", "4169-5853-0000-0001", "card:4169585300000001", True),
        ("card_to_card", "4169 5853 0000 0001", "card:4169585300000002", False),
        (
            "cash_at_hub",
            "Sports Palace, Bishkek, 09:00–21:00",
            "Sports Palace, Bishkek 09:00-21:00",
            True,
        ),
        (
            "cash_at_hub",
            "Sports Palace, Bishkek, 09:00–21:00",
            "https://2gis.kg/bishkek/geo/1",
            False,
        ),
    ],
)
def test_what_a_qr_payload_must_contain_for_each_kind(kind, details, payload, pays):
    assert qr_pays(kind=kind, details=details, payload=payload) is pays


def test_a_phone_number_is_its_digits_and_words_are_not_numbers():
    assert detail_numbers("+7 701 555-01-22") == ["77015550122"]
    assert detail_numbers("Account 1234 5678 9012, BIC 109018") == ["123456789012", "109018"]
    assert detail_numbers("Sports Palace, desk 3, 09:00–21:00") == []


# The service: site and admin both write through it.


def test_a_qr_code_that_pays_the_details_is_published_and_marked_checked(client, fundraiser, media):
    method = add(fundraiser, qr=clean_image(qr_png(KASPI_QR)))
    assert method.qr_sha256 and method.qr_checked
    assert Evidence.objects.filter(sha256=method.qr_sha256, published=True).exists()
    page = client.get(page_url(fundraiser)).text
    assert f"/ledger/evidence/{method.qr_sha256}" in page and CHECKED in page


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (lambda: qr_png(OTHER_ACCOUNT_QR), "This QR code pays other details than"),
        (photo_without_qr, "No QR code was found in this picture."),
        (corrupted_qr, "The QR code in this picture cannot be read."),
    ],
    ids=["another account", "a photo without a qr code", "a corrupted qr code"],
)
def test_a_qr_image_that_does_not_pay_the_details_is_refused_and_nothing_written(
    fundraiser, media, image, message
):
    with pytest.raises(ValidationError) as refused:
        add(fundraiser, qr=clean_image(image()))
    assert message in " ".join(refused.value.message_dict["qr"])
    assert not PaymentMethod.objects.exists() and entries() == 0
    assert not Evidence.objects.exists()


def test_changing_the_details_under_a_kept_qr_code_is_refused(fundraiser, media):
    method = add(fundraiser, qr=clean_image(qr_png(KASPI_QR)))
    with pytest.raises(ValidationError) as refused:
        services.payment_method_change(
            method=method, by=fundraiser.organiser, details="+7 701 999 00 00"
        )
    assert "The QR code on file does not pay these details." in str(refused.value)
    assert PaymentMethod.objects.get().details == KASPI["details"] and entries() == 1


def test_new_details_with_their_own_qr_code_are_accepted(fundraiser, media):
    method = add(fundraiser, qr=clean_image(qr_png(KASPI_QR)))
    approved = second_approves(services.payment_method_change(
        method=method, by=fundraiser.organiser, details="+7 701 999 00 00",
        qr=clean_image(qr_png(OTHER_ACCOUNT_QR)),
    ))  # fmt: skip
    assert approved.ledger_index is not None
    method.refresh_from_db()
    assert method.details == "+7 701 999 00 00" and method.qr_checked and entries() == 2


def test_a_qr_code_kept_from_before_the_check_is_not_shown_as_checked(client, fundraiser, media):
    method = add(fundraiser, qr=clean_image(qr_png(KASPI_QR)))
    PaymentMethod.objects.filter(pk=method.pk).update(qr_checked=False)  # as migrated
    page = client.get(page_url(fundraiser)).text
    assert f"/ledger/evidence/{method.qr_sha256}" in page and CHECKED not in page


# The organiser's forms.


def test_the_site_form_refuses_a_qr_code_of_another_account_with_a_message(
    client, fundraiser, media
):
    login(client, fundraiser.organiser)
    url = page_url(fundraiser, "payment-methods/new/")
    form = client.get(url).text
    assert "stay there forever" in form  # the notice above the form
    response = client.post(url, {
        **KASPI, "active": "on",
        "qr": SimpleUploadedFile("qr.png", qr_png(OTHER_ACCOUNT_QR), content_type="image/png"),
    })  # fmt: skip
    assert response.status_code == 200
    assert "This QR code pays other details than" in response.text
    assert not PaymentMethod.objects.exists() and entries() == 0


def test_the_site_form_refuses_a_photo_without_a_qr_code_in_russian(client, fundraiser, media):
    login(client, fundraiser.organiser)
    response = client.post(page_url(fundraiser, "payment-methods/new/"), {
        **KASPI, "active": "on",
        "qr": SimpleUploadedFile("qr.jpg", photo_without_qr(), content_type="image/jpeg"),
    }, HTTP_ACCEPT_LANGUAGE="ru")  # fmt: skip
    assert response.status_code == 200
    assert response.context["form"].errors["qr"]
    assert not PaymentMethod.objects.exists() and entries() == 0


def test_the_admin_refuses_a_qr_code_of_another_account_and_says_what_is_public(
    client, fundraiser, media
):
    login(client, fundraiser.organiser)
    url = reverse("admin:donations_paymentmethod_add")
    assert "stay there forever" in client.get(url).text
    response = client.post(url, {
        "fundraiser": fundraiser.pk, **KASPI, "order": 1, "active": "on",
        "qr": SimpleUploadedFile("qr.png", qr_png(OTHER_ACCOUNT_QR), content_type="image/png"),
    })  # fmt: skip
    assert response.status_code == 200
    assert "This QR code pays other details than" in response.text
    assert not PaymentMethod.objects.exists() and entries() == 0


def test_the_admin_adds_a_qr_code_that_pays_the_details(client, fundraiser, media):
    login(client, fundraiser.organiser)
    response = client.post(reverse("admin:donations_paymentmethod_add"), {
        "fundraiser": fundraiser.pk, **KASPI, "order": 1, "active": "on",
        "qr": SimpleUploadedFile("qr.png", qr_png(KASPI_QR), content_type="image/png"),
    })  # fmt: skip
    assert response.status_code == 302
    second_approves(PaymentMethodProposal.objects.get(status="pending"))
    assert PaymentMethod.objects.get().qr_checked and entries() == 1
