"""Payloads of every kind, valid by default; tests change one field to break one rule."""

import io

from PIL import Image

FUNDRAISER = {"id": "batken-2022", "title": "Aid for Batken evacuees"}
HUB = {"id": "sports-palace", "name": "Sports Palace"}
HUB2 = {"id": "osh-warehouse", "name": "Osh warehouse"}
PLACE = {"id": "isfana", "name": "Isfana", "region": "Batken", "district": "Leilek"}
FLOUR = {"item": "flour", "name": "Flour", "quantity": "50", "unit": "kg", "category": "food"}


def donation(amount="5000.00", currency="KZT", **extra) -> dict:
    return {
        "fundraiser": FUNDRAISER,
        "money": {"amount": amount, "currency": currency},
        "converted": {"amount": amount, "currency": currency},
        "rate": "1",
        "rate_source": "same currency",
        "channel": "card",
        "received_at": "2022-09-18T10:00:00Z",
        **extra,
    }


def expense(evidence: list[str], amount="1200.00", currency="KGS", **extra) -> dict:
    return {
        "fundraiser": FUNDRAISER,
        "money": {"amount": amount, "currency": currency},
        "converted": {"amount": "6540.00", "currency": "KZT"},
        "rate": "5.45",
        "rate_source": "nbkr:2022-09-19",
        "vendor": "Dordoi market stall 14",
        "paid_at": "2022-09-19T08:30:00Z",
        "items": [FLOUR],
        "hub": HUB,
        "evidence": evidence,
        **extra,
    }


def delivery(evidence: list[str], **extra) -> dict:
    return {
        "delivery": "d-1",
        "hub": HUB,
        "place": PLACE,
        "items": [FLOUR],
        "people": 120,
        "households": 30,
        "delivered_at": "2022-09-20T15:00:00Z",
        "confirmed_by_recipient": True,
        "fundraisers": [FUNDRAISER],
        "evidence": evidence,
        **extra,
    }


def jpeg_bytes(color=(200, 30, 30), size=(64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG", quality=80)
    return out.getvalue()
