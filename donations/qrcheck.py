"""Does a way to pay's QR code pay the details the page shows beside it?

An organiser could show account A as text and upload a QR code that pays account B: a donor who
scans pays B while the ledger lists A. So the QR image is decoded by its content (OpenCV's QR
detectors, on the re-encoded bytes that are published, i.e. what donors will scan) and its
payload must contain the details.

What "contains" means. Bank and wallet QR payloads are URLs (Kaspi, MBank: a phone or account in
the path or query, perhaps percent-encoded) or EMVCo strings (tag-length-value digits with the
phone, account or IBAN inside), so the payload is compared loosely, the details strictly:

- The details' numbers are what identifies where money goes: each run of letters and digits
  that holds a digit, with the spaces, hyphens and "+" inside it removed ("+7 701 555 01 22" is
  77015550122, "KZ86 125K ZT50 0410 0100" is KZ86125KZT5004100100, "4400-4301-2345-6789" is one
  card number); words without digits ("account", "BIC") are not numbers. A number of at least
  six digits must appear in the payload, which is percent-decoded, upper-cased and stripped of
  spaces, hyphens and "+" first. Every such number must appear: bank transfer (account or IBAN,
  and a BIC or bank code of six digits or more), card to card (the card number), other.
- E-wallet: a phone written with its country code (ten digits or more) may appear in the
  payload without it, as 0… or 8…: its last nine digits must appear.
- Details without such a number (cash at a hub: "Sports Palace, Bishkek, 09:00–21:00"): the
  payload must hold the details' letters and digits in order, ignoring case, spaces and
  punctuation. A map link does not; a QR code of the address text does.

What this does not catch: a QR code that names the details somewhere (a comment field) but pays
another account. Every QR code is also published as evidence, so anyone can scan and compare.
"""

import re
import unicodedata
from urllib.parse import unquote

import cv2
import numpy as np
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MIN_DIGITS = 6  # an account, a card, a phone or a six-digit BIC; not a desk number or an hour
WALLET_PHONE_DIGITS = 9  # the subscriber number without +996 / +7, 0 or 8
_SEGMENT_BREAK = re.compile(r"[^0-9A-Za-z\s+\-]+")
_PAYLOAD_DROP = re.compile(r"[\s+\-]+")
_NOT_ALNUM = re.compile(r"[^0-9A-Z]+")


def _upper(text: str) -> str:
    return unicodedata.normalize("NFKC", text).upper()


def detail_numbers(details: str) -> list[str]:
    """The numbers of `details` that the QR payload must contain (see the module's note)."""
    numbers = []
    for segment in _SEGMENT_BREAK.split(_upper(details)):
        run: list[str] = []
        for token in [*segment.split(), ""]:  # "" ends the last run
            token = token.replace("+", "").replace("-", "")
            if token and any(c.isdigit() for c in token):
                run.append(token)
                continue
            number = "".join(run)
            if sum(c.isdigit() for c in number) >= MIN_DIGITS:
                numbers.append(number)
            run = []
    return numbers


def qr_pays(*, kind: str, details: str, payload: str) -> bool:
    """Whether the decoded `payload` contains the way to pay's `details`."""
    text = _PAYLOAD_DROP.sub("", _upper(unquote(payload)))
    numbers = detail_numbers(details)
    if not numbers:
        key = _NOT_ALNUM.sub("", _upper(details))
        return bool(key) and key in _NOT_ALNUM.sub("", text)
    for number in numbers:
        if number in text:
            continue
        phone = kind == "e_wallet" and number.isdigit() and len(number) > WALLET_PHONE_DIGITS
        if not (phone and number[-WALLET_PHONE_DIGITS:] in text):
            return False
    return True


def qr_payloads(data: bytes) -> list[str]:
    """The texts of the QR codes in the image `data` (already checked and re-encoded by
    aidhub.uploads.clean_image). A clear error if there is none, or none can be read."""
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    seen = False
    if image is not None:
        for detector in (cv2.QRCodeDetector(), cv2.QRCodeDetectorAruco()):
            try:
                found, texts, points, _codes = detector.detectAndDecodeMulti(image)
            except cv2.error:
                continue
            seen = seen or (found and points is not None and len(points) > 0)
            readable = [text for text in texts if text] if found else []
            if readable:
                return readable
    if seen:
        raise ValidationError(
            {"qr": _("The QR code in this picture cannot be read. Upload a sharp, whole picture "
                     "of it, e.g. a screenshot from the bank's app.")},
            code="qr_unreadable",
        )  # fmt: skip
    raise ValidationError(
        {"qr": _("No QR code was found in this picture. Upload the QR code from the bank's or "
                 "wallet's app.")},
        code="qr_missing",
    )  # fmt: skip


def qr_check(*, kind: str, details: str, data: bytes) -> None:
    """Refuse a QR image that holds no readable QR code, or one that does not pay `details`
    (every QR code in the picture must)."""
    for payload in qr_payloads(data):
        if not qr_pays(kind=kind, details=details, payload=payload):
            raise ValidationError(
                {"qr": _("This QR code pays other details than “%(details)s”: a donor who "
                         "scans it would pay someone else. Upload the QR code of these "
                         "details.") % {"details": details}},
                code="qr_mismatch",
            )  # fmt: skip
