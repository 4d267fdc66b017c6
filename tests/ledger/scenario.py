"""A small ledger with every kind of entry, for page, API and verifier tests."""

from ledger import services

from .factories import FLOUR, FUNDRAISER, HUB, HUB2, PLACE, delivery, donation, expense, jpeg_bytes


def build() -> dict:
    receipt = services.evidence_store(data=jpeg_bytes((250, 250, 240)), content_type="image/jpeg")
    photos = [
        services.evidence_store(data=jpeg_bytes(color), content_type="image/jpeg")
        for color in [(90, 120, 60), (60, 90, 120)]
    ]
    first = services.append(kind="donation", payload=donation("5000.00", "KZT"))
    services.append(kind="donation", payload=donation("25.00", "USD", public_name="Aibek"))
    services.append(kind="expense", payload=expense([receipt.sha256]))
    services.append(kind="intake", payload={
        "hub": HUB, "items": [FLOUR], "received_at": "2022-09-18T12:00:00Z",
        "public_name": "Sewing workshop in Kazakhstan",
    })  # fmt: skip
    services.append(kind="transfer", payload={"from_hub": HUB, "to_hub": HUB2, "items": [FLOUR]})
    services.append(kind="dispatch", payload={
        "hub": HUB, "place": PLACE, "delivery": "d-1", "items": [FLOUR],
        "fundraisers": [FUNDRAISER],
    })  # fmt: skip
    services.append(kind="delivery", payload=delivery([p.sha256 for p in photos]))
    services.append(kind="adjustment", payload={
        "hub": HUB, "items": [{**FLOUR, "quantity": "-2"}], "reason": "two sacks got wet",
    })  # fmt: skip
    correction = services.append(
        kind="correction", payload={"reverses": first.index, "reason": "recorded twice"}
    )
    code = services.receipt_code_issue(entry=first)
    checkpoint = services.checkpoint_sign()
    return {
        "receipt": receipt,
        "photos": photos,
        "first": first,
        "correction": correction,
        "code": code,
        "checkpoint": checkpoint,
    }
