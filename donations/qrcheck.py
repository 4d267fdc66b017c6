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
  spaces, hyphens and "+" first, standing alone: no digit right after it and none right before
  (1234567890 is not in 91234567890123, a longer account of someone else). An EMVCo payload is
  read as its tag-length-value fields and a number must stand alone in one of them. Every
  such number must appear: bank transfer (account or IBAN, and a BIC or bank code of six
  digits or more), card to card (the card number), other.
- E-wallet: a phone written with its country code (ten digits or more) may appear in the
  payload without it, as 0… or 8…: its last nine digits must appear, with at most three digits
  before them and none after.
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


# EMV QRCPS templates whose value is itself tag-length-value: merchant account information
# (26–51), additional data (62), language template (64) and the unreserved ones (80–99).
_EMV_NESTED = {*range(26, 52), 62, 64, *range(80, 100)}


def _emv_values(text: str) -> list[str] | None:
    """Every value of an EMVCo merchant-presented payload (two-digit tag, two-digit length,
    value; templates nest), or None when `text` is not one. Its values sit digit against digit,
    so a number is matched against each value whole, not against the string."""

    def parse(chunk: str) -> list[str] | None:
        values, at = [], 0
        while at < len(chunk):
            tag, length = chunk[at : at + 2], chunk[at + 2 : at + 4]
            if not (tag.isdigit() and length.isdigit()) or at + 4 + int(length) > len(chunk):
                return None
            value = chunk[at + 4 : at + 4 + int(length)]
            values.append(value)
            if int(tag) in _EMV_NESTED:
                values.extend(parse(value) or [])
            at += 4 + int(length)
        return values

    return parse(text) if text.startswith("000201") else None


def _fields(payload: str) -> list[str]:
    """The payload as the texts a number must stand alone in: an EMVCo payload's values (also
    one carried in a URL's fragment, as MBank's are), or else the whole payload."""
    for candidate in (payload, payload.partition("#")[2]):
        values = _emv_values(candidate)
        if values is not None:
            return [_PAYLOAD_DROP.sub("", _upper(value)) for value in values]
    return [_PAYLOAD_DROP.sub("", _upper(unquote(payload)))]


def _stands_alone(number: str, fields: list[str], *, leading_digits: int = 0) -> bool:
    """Whether `number` is in one of `fields` with no digit after it and at most
    `leading_digits` digits before it: 1234567890 is not in account 91234567890123."""
    pattern = re.compile(rf"(?<!\d)\d{{0,{leading_digits}}}{re.escape(number)}(?!\d)")
    return any(pattern.search(field) for field in fields)


def qr_pays(*, kind: str, details: str, payload: str) -> bool:
    """Whether the decoded `payload` contains the way to pay's `details`: each of their numbers
    standing alone, not inside a longer one (see the module's note)."""
    fields = _fields(payload)
    numbers = detail_numbers(details)
    if not numbers:
        key = _NOT_ALNUM.sub("", _upper(details))
        return bool(key) and any(key in _NOT_ALNUM.sub("", field) for field in fields)
    for number in numbers:
        if _stands_alone(number, fields):
            continue
        phone = kind == "e_wallet" and number.isdigit() and len(number) > WALLET_PHONE_DIGITS
        # The subscriber number with a country code, 0 or 8 of at most three digits before it.
        suffix = number[-WALLET_PHONE_DIGITS:]
        if not (phone and _stands_alone(suffix, fields, leading_digits=3)):
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
