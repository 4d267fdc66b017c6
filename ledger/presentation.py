"""How an entry reads to a person: labels and one-line summaries, translated."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

KIND_LABELS = {
    "donation": _("Donation"),
    "expense": _("Expense"),
    "intake": _("Goods received"),
    "dispatch": _("Goods dispatched"),
    "delivery": _("Delivery"),
    "transfer": _("Transfer between hubs"),
    "adjustment": _("Stock adjustment"),
    "correction": _("Correction"),
    "payment_details": _("Payment details"),
}

PAYMENT_KIND_LABELS = {
    "bank_transfer": _("bank transfer"),
    "card_to_card": _("card to card"),
    "e_wallet": _("e-wallet"),
    "cash_at_hub": _("cash at a hub"),
    "other": _("other"),
}


CHANNEL_LABELS = {
    "bank_transfer": _("bank transfer"),
    "card": _("card"),
    "cash": _("cash"),
    "e_wallet": _("e-wallet"),
    "other": _("other"),
}

UNIT_LABELS = {
    "piece": pgettext_lazy("unit", "pcs"),
    "kg": pgettext_lazy("unit", "kg"),
    "litre": pgettext_lazy("unit", "l"),
    "box": pgettext_lazy("unit", "boxes"),
    "pack": pgettext_lazy("unit", "packs"),
}


def items_text(items: list[dict]) -> str:
    return ", ".join(
        f"{line['name']} {line['quantity']} {UNIT_LABELS.get(line['unit'], line['unit'])}"
        for line in items
    )


def money_text(money: dict) -> str:
    return f"{money['amount']} {money['currency']}"


def summary(kind: str, p: dict) -> str:
    """One line saying what the entry records, for lists and feeds."""
    if kind == "donation":
        who = p.get("public_name") or _("anonymous")
        return _("%(money)s to “%(fundraiser)s” from %(who)s, by %(channel)s") % {
            "money": money_text(p["money"]),
            "fundraiser": p["fundraiser"]["title"],
            "who": who,
            "channel": CHANNEL_LABELS[p["channel"]],
        }
    if kind == "expense":
        text = _("%(money)s paid to %(vendor)s for “%(fundraiser)s”") % {
            "money": money_text(p["money"]),
            "vendor": p["vendor"],
            "fundraiser": p["fundraiser"]["title"],
        }
        return f"{text}: {items_text(p['items'])}" if p.get("items") else text
    if kind == "intake":
        return _("At %(hub)s: %(items)s") % {
            "hub": p["hub"]["name"],
            "items": items_text(p["items"]),
        }
    if kind == "dispatch":
        return _("From %(hub)s to %(place)s: %(items)s") % {
            "hub": p["hub"]["name"],
            "place": p["place"]["name"],
            "items": items_text(p["items"]),
        }
    if kind == "delivery":
        return _("Delivered to %(place)s for %(people)s people: %(items)s") % {
            "place": p["place"]["name"],
            "people": p["people"],
            "items": items_text(p["items"]),
        }
    if kind == "transfer":
        return _("From %(from)s to %(to)s: %(items)s") % {
            "from": p["from_hub"]["name"],
            "to": p["to_hub"]["name"],
            "items": items_text(p["items"]),
        }
    if kind == "adjustment":
        return _("At %(hub)s: %(items)s (%(reason)s)") % {
            "hub": p["hub"]["name"],
            "items": items_text(p["items"]),
            "reason": p["reason"],
        }
    if kind == "correction":
        return _("Reverses entry %(index)s: %(reason)s") % {
            "index": p["reverses"],
            "reason": p["reason"],
        }
    if kind == "payment_details":
        if not p["methods"]:
            return _("“%(fundraiser)s” now lists no way to pay") % {
                "fundraiser": p["fundraiser"]["title"]
            }
        return _("Ways to pay “%(fundraiser)s” are now: %(methods)s") % {
            "fundraiser": p["fundraiser"]["title"],
            "methods": "; ".join(payment_method_text(m) for m in p["methods"]),
        }
    return kind


def payment_method_text(method: dict) -> str:
    kind = PAYMENT_KIND_LABELS.get(method["kind"], method["kind"])
    return f"{method['label']} ({kind}, {method['currency']}): {method['details']}"
