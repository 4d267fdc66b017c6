"""How an entry reads to a person: labels and one-line summaries, translated."""

from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar

from django.conf import settings
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from aidhub.pagecache import version_cached, version_forget, version_token

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
    "money_transfer": _("Money passed to another group"),
    "fundraiser_handover": _("Fundraiser handed over"),
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

# The role of the second person who approved money out (an entry's "approved_by"), one whole
# phrase per role so that each language words it freely.
APPROVAL_TEXTS = {
    "organiser": _("approved by a second person (organiser)"),
    "treasurer": _("approved by a second person (treasurer)"),
}

# A role named in an entry ("accepted_by"), in the reader's language.
ROLE_TEXTS = {"organiser": pgettext_lazy("role", "organiser"),
              "treasurer": pgettext_lazy("role", "treasurer")}  # fmt: skip

HANDOVER_ROLE_TEXTS = {**ROLE_TEXTS, "site_administrator": _("site administrator")}

UNIT_LABELS = {
    "piece": pgettext_lazy("unit", "pcs"),
    "kg": pgettext_lazy("unit", "kg"),
    "litre": pgettext_lazy("unit", "l"),
    "box": pgettext_lazy("unit", "boxes"),
    "pack": pgettext_lazy("unit", "packs"),
}


# Names in the reader's language ---------------------------------------------------------------
# A payload names items, hubs and places, and titles fundraisers, in English, as signed (exports
# keep that). The app that owns them registers a source of translations, since the ledger imports
# no domain app: source(language) -> {public id: name} for the rows translated into that
# language. Within a request each source is asked once per language, however many entries the
# page shows, and the tables are kept in the cache under a version that every edit of a name
# forgets (names_changed: the owning apps call it when a row is saved or deleted). What is drawn
# from an entry (its row on the ledger page) is kept under that version too.
NAMES_VERSION_KEY = "ledger:names:version"
NAMES_SECONDS = 60  # how long another process's local-memory cache may keep an old name
NameSource = Callable[[str], Mapping[str, str]]
# "item" (a line's "item"), "hub", "place", "fundraiser" (a ref's "id"; as LedgerRef.scope)
NAME_SOURCES: dict[str, NameSource] = {}
_request_names: ContextVar[dict | None] = ContextVar("ledger_request_names", default=None)


def names_register(subject: str, source: NameSource) -> None:
    NAME_SOURCES[subject] = source


def names_request_started(**kwargs) -> None:
    _request_names.set({})


def names_request_finished(**kwargs) -> None:
    _request_names.set(None)


def names_version() -> str:
    """Changes whenever a translated name, title or their canonical form is edited."""
    return version_token(NAMES_VERSION_KEY, seconds=NAMES_SECONDS)


def names_changed(update_fields: Iterable[str] | None = None, **kwargs: object) -> None:
    """A name was written (a signal receiver, or called by a service). A save of other fields
    only (a fundraiser's totals) changes no name."""
    if update_fields is not None and not any(
        field.startswith(("name", "title")) for field in update_fields
    ):
        return
    version_forget(NAMES_VERSION_KEY)


def _names(subject: str, language: str, source: NameSource) -> Mapping[str, str]:
    key = f"ledger:names:{names_version()}:{subject}:{language}"
    return version_cached(key, lambda: dict(source(language)), seconds=NAMES_SECONDS)


def local_name(subject: str, public_id: str, canonical: str) -> str:
    """What the reader calls `public_id`: its translation into the active language, or the
    canonical name the payload holds."""
    language = (get_language() or settings.LANGUAGE_CODE).split("-")[0]
    source = NAME_SOURCES.get(subject)
    if source is None or language == settings.LANGUAGE_CODE.split("-")[0]:
        return canonical
    cache = _request_names.get()
    if cache is None:  # outside a request: nothing tells when to forget, so do not keep it
        names = source(language)
    elif (subject, language) in cache:
        names = cache[subject, language]
    else:
        names = cache[subject, language] = _names(subject, language, source)
    return names.get(public_id) or canonical


def _ref_name(subject: str, ref: dict) -> str:
    return local_name(subject, ref.get("id", ""), ref["name"])


def fundraiser_title(ref: dict) -> str:
    """A payload's fundraiser ({"id", "title"}) titled in the reader's language."""
    return local_name("fundraiser", ref.get("id", ""), ref["title"])


def _line_text(line: dict, name: str) -> str:
    return f"{name} {line['quantity']} {UNIT_LABELS.get(line['unit'], line['unit'])}"


def items_text(items: list[dict]) -> str:
    """The lines with their canonical names, as signed (exports)."""
    return ", ".join(_line_text(line, line["name"]) for line in items)


def local_items_text(items: list[dict]) -> str:
    """The lines with their names in the reader's language (pages)."""
    return ", ".join(
        _line_text(line, local_name("item", line.get("item", ""), line["name"])) for line in items
    )


def money_text(money: dict) -> str:
    return f"{money['amount']} {money['currency']}"


def approval_text(p: dict) -> str:
    """Who approved an expense or a change to the ways to pay, by role; "" for an entry from
    before approvals."""
    role = p.get("approved_by")
    return str(APPROVAL_TEXTS.get(role, role)) if role else ""


def summary(kind: str, p: dict) -> str:
    """One line saying what the entry records, for lists and feeds."""
    text = _summary(kind, p)
    approval = approval_text(p)
    return f"{text} · {approval}" if approval else text


def _summary(kind: str, p: dict) -> str:
    if kind == "fundraiser_handover":
        return _(
            "“%(fundraiser)s” handed to a new organiser (%(name)s), proposed by its group's "
            "%(proposed)s and agreed by a second person (%(approved)s)"
        ) % {
            "fundraiser": fundraiser_title(p["fundraiser"]),
            "name": p.get("public_name") or _("not named"),
            "proposed": HANDOVER_ROLE_TEXTS.get(p["proposed_by"], p["proposed_by"]),
            "approved": HANDOVER_ROLE_TEXTS.get(p["approved_by"], p["approved_by"]),
        }
    if kind == "donation":
        who = p.get("public_name") or _("anonymous")
        return _("%(money)s to “%(fundraiser)s” from %(who)s, by %(channel)s") % {
            "money": money_text(p["money"]),
            "fundraiser": fundraiser_title(p["fundraiser"]),
            "who": who,
            "channel": CHANNEL_LABELS[p["channel"]],
        }
    if kind == "expense":
        text = _("%(money)s paid to %(vendor)s for “%(fundraiser)s”") % {
            "money": money_text(p["money"]),
            "vendor": p["vendor"],
            "fundraiser": fundraiser_title(p["fundraiser"]),
        }
        return f"{text}: {local_items_text(p['items'])}" if p.get("items") else text
    if kind == "intake":
        return _("At %(hub)s: %(items)s") % {
            "hub": _ref_name("hub", p["hub"]),
            "items": local_items_text(p["items"]),
        }
    if kind == "dispatch":
        return _("From %(hub)s to %(place)s: %(items)s") % {
            "hub": _ref_name("hub", p["hub"]),
            "place": _ref_name("place", p["place"]),
            "items": local_items_text(p["items"]),
        }
    if kind == "delivery":
        return _("Delivered to %(place)s for %(people)s people: %(items)s") % {
            "place": _ref_name("place", p["place"]),
            "people": p["people"],
            "items": local_items_text(p["items"]),
        }
    if kind == "transfer":
        return _("From %(from)s to %(to)s: %(items)s") % {
            "from": _ref_name("hub", p["from_hub"]),
            "to": _ref_name("hub", p["to_hub"]),
            "items": local_items_text(p["items"]),
        }
    if kind == "adjustment":
        return _("At %(hub)s: %(items)s (%(reason)s)") % {
            "hub": _ref_name("hub", p["hub"]),
            "items": local_items_text(p["items"]),
            "reason": p["reason"],
        }
    if kind == "correction":
        return _("Reverses entry %(index)s: %(reason)s") % {
            "index": p["reverses"],
            "reason": p["reason"],
        }
    if kind == "money_transfer":
        return _(
            "%(money)s sent from “%(from)s” (%(from_group)s) to “%(to)s” (%(to_group)s), "
            "received as %(converted)s, accepted by the receiving group (%(accepted)s)"
        ) % {
            "money": money_text(p["money"]),
            "from": fundraiser_title(p["from_fundraiser"]),
            "from_group": p["from_group"]["name"],
            "to": fundraiser_title(p["to_fundraiser"]),
            "to_group": p["to_group"]["name"],
            "converted": money_text(p["converted"]),
            "accepted": ROLE_TEXTS.get(p["accepted_by"], p["accepted_by"]),
        }
    if kind == "payment_details":
        if not p["methods"]:
            return _("“%(fundraiser)s” now lists no way to pay") % {
                "fundraiser": fundraiser_title(p["fundraiser"])
            }
        return _("Ways to pay “%(fundraiser)s” are now: %(methods)s") % {
            "fundraiser": fundraiser_title(p["fundraiser"]),
            "methods": "; ".join(payment_method_text(m) for m in p["methods"]),
        }
    return kind


def payment_method_text(method: dict) -> str:
    kind = PAYMENT_KIND_LABELS.get(method["kind"], method["kind"])
    return f"{method['label']} ({kind}, {method['currency']}): {method['details']}"
