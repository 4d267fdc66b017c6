"""What each kind of ledger entry may say, and what it may never say.

Schemas are closed: a field that is not listed is refused, so nothing personal slips in under a
new name. Free text is scanned for contact details and account numbers as a second guard; names
of people appear only as `public_name`, which the person chose to make public.
"""

import re
import unicodedata
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .money import MINOR_UNITS, format_amount, parse_amount

KINDS = ("donation", "expense", "intake", "dispatch", "delivery", "transfer", "adjustment",
         "correction", "payment_details", "money_transfer", "fundraiser_handover")  # fmt: skip
CHANNELS = ("bank_transfer", "card", "cash", "e_wallet", "other")
PAYMENT_KINDS = ("bank_transfer", "card_to_card", "e_wallet", "cash_at_hub", "other")
UNITS = ("piece", "kg", "litre", "box", "pack")
CATEGORIES = ("food", "water", "clothing", "medical", "hygiene", "baby", "shelter", "other")

# Field names that mean personal data. They are refused with their own message, anywhere.
PERSONAL_FIELDS = {
    "email", "phone", "telephone", "mobile", "contact", "donor", "donor_name", "donor_contact",
    "first_name", "last_name", "full_name", "volunteer", "recipient", "recipient_name",
    "beneficiary", "account", "account_number", "iban", "card", "card_number", "bank_reference",
    "passport", "address", "telegram", "username", "user",
}  # fmt: skip

PERSONAL_PATTERNS = [
    (re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+"), gettext_lazy("an e-mail address")),
    (re.compile(r"(?<!\w)@[A-Za-z0-9_]{4,}"), gettext_lazy("a Telegram or social-media handle")),
    (re.compile(r"\b[A-Z]{2}\d{2}[A-Z0-9]{10,30}\b"), gettext_lazy("an IBAN")),
]
DIGIT_RUN = re.compile(r"\+?\d[\d ()\-]{7,}\d")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}\Z")
# Payment details the organiser publishes: letters, digits, spaces and the punctuation of
# accounts, cards, phones and opening hours; no control characters or markup.
PAYMENT_DETAILS = re.compile(r"^[\w +\-.,:;/()#№'’–—]{1,200}\Z")
# What a donor types into a bank app: ASCII letters and digits only, so a look-alike digit
# (𝟏, １, ٣) or a foreign letter that reads like a Latin one cannot pass as the real account.
PAYMENT_DETAILS_PLAIN = re.compile(r"^[A-Za-z0-9 +\-.,:;/()#№'’–—]{1,200}\Z")
CURRENCY = re.compile(r"^[A-Z]{3}\Z")
# Characters that are not seen as what they are: format (bidi overrides such as U+202E, zero
# widths), control, line and paragraph separators, private use, and the Hangul fillers that
# render as blank letters. A reader could not see what they say, so the ledger takes none.
HIDDEN_CATEGORIES = {"Cf", "Cc", "Zl", "Zp", "Co"}
HANGUL_FILLERS = {"\u115f", "\u1160", "\u3164", "\uffa0"}


def has_hidden_characters(value: str, *, controls: bool = True) -> bool:
    """Whether `value` holds a character a reader cannot see for what it is. `controls=False`
    lets control characters (Cc) through: a reason or note may have line breaks, and exports
    and e-mail headers already neutralise them; bidi overrides and zero widths stay refused."""
    hidden = HIDDEN_CATEGORIES if controls else HIDDEN_CATEGORIES - {"Cc"}
    return any(c in HANGUL_FILLERS or unicodedata.category(c) in hidden for c in value)


def _has_long_number(value: str) -> bool:
    """Nine or more digits in a row (spaces and dashes allowed): a phone, card or account.
    Dates such as 2022-09-19 are not numbers of a person."""
    return any(
        sum(c.isdigit() for c in run) >= 9 and not DATE.match(run)
        for run in DIGIT_RUN.findall(value)
    )


REF = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}\Z")
SHA256_HEX = re.compile(r"^[0-9a-f]{64}\Z")
TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z\Z")


class PayloadError(ValidationError):
    """A payload that breaks its kind's schema or carries personal data."""


def _fail(path: str, message: str) -> PayloadError:
    return PayloadError(f"{path}: {message}", code="ledger_payload")


def check_text(value: Any, path: str, *, limit: int = 500) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, _("must be non-empty text"))
    if len(value) > limit:
        raise _fail(path, _("is too long (at most %(limit)s characters)") % {"limit": limit})
    if has_hidden_characters(value, controls=False):
        raise _fail(path, _("holds invisible or control characters"))
    found = [what for pattern, what in PERSONAL_PATTERNS if pattern.search(value)]
    if not found and _has_long_number(value):
        found = [gettext_lazy("a phone, card or account number")]
    if found:
        raise _fail(path, _("looks like %(what)s; personal data never enters the public ledger")
                    % {"what": found[0]})  # fmt: skip
    return value


def check_label(value: Any, path: str) -> str:
    return check_text(value, path, limit=200)


def check_ref(value: Any, path: str) -> str:
    if not isinstance(value, str) or not REF.match(value):
        raise _fail(path, _("must be a public id (lowercase letters, digits, '.', '_', '-')"))
    return value


def check_time(value: Any, path: str) -> str:
    if not isinstance(value, str) or not TIME.match(value):
        raise _fail(path, _("must be a UTC time like 2022-09-18T10:00:00Z"))
    try:
        datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        raise _fail(path, _("is not a real date and time")) from None
    return value


def check_count(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 10_000_000:
        raise _fail(path, _("must be a whole number from 0"))
    return value


def check_index(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _fail(path, _("must be the index of an entry"))
    return value


def check_bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise _fail(path, _("must be true or false"))
    return value


def check_decimal_string(value: Any, path: str, *, signed: bool = False) -> Decimal:
    if not isinstance(value, str) or not re.match(r"^-?\d{1,15}(\.\d{1,12})?\Z", value):
        raise _fail(path, _('must be a decimal number written as a string, like "12.5"'))
    number = Decimal(value)
    if (number <= 0 and not signed) or number == 0:
        raise _fail(path, _("must be more than zero") if not signed else _("cannot be zero"))
    return number


def check_money(value: Any, path: str) -> dict:
    _object(value, path, {"amount", "currency"}, {"amount", "currency"})
    currency, amount = value["currency"], value["amount"]
    if not isinstance(amount, str) or not isinstance(currency, str):
        raise _fail(path, _("amount and currency must be strings"))
    try:
        parsed = parse_amount(amount, currency)
    except (ValidationError, InvalidOperation) as exc:
        raise _fail(path, " ".join(getattr(exc, "messages", [str(exc)]))) from None
    if format_amount(parsed, currency) != amount:
        example = format_amount(parsed, currency)
        raise _fail(path, _("write the amount with the currency's decimals, e.g. %(example)s")
                    % {"example": example})  # fmt: skip
    return value


def check_payment_details(value: Any, path: str) -> str:
    """The account, card, wallet phone or hub a fundraiser is paid through. These are meant to
    be public (the organiser publishes them so donors can pay, and the ledger keeps each
    version so a swapped number is seen), so the number scan of `check_text` is not applied.
    No "@": e-mail addresses and handles are not ways to pay."""
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, _("must be non-empty text"))
    if not PAYMENT_DETAILS_PLAIN.match(value):
        raise _fail(path, _("may hold only letters, digits, spaces and . , : ; / ( ) - + #"))
    return value


def check_currency(value: Any, path: str) -> str:
    if not isinstance(value, str) or not CURRENCY.match(value) or value not in MINOR_UNITS:
        raise _fail(path, _("must be an ISO 4217 currency code, like KGS"))
    return value


def check_sha256(value: Any, path: str) -> str:
    if not isinstance(value, str) or not SHA256_HEX.match(value):
        raise _fail(path, _("must be a lowercase hex SHA-256"))
    return value


def check_evidence(value: Any, path: str, *, low: int = 1, high: int = 5) -> list:
    if not isinstance(value, list) or not low <= len(value) <= high:
        raise _fail(path, _("must list from %(low)s to %(high)s file hashes")
                    % {"low": low, "high": high})  # fmt: skip
    for i, digest in enumerate(value):
        if not isinstance(digest, str) or not SHA256_HEX.match(digest):
            raise _fail(f"{path}[{i}]", _("must be a lowercase hex SHA-256"))
    if len(set(value)) != len(value):
        raise _fail(path, _("lists the same file twice"))
    return value


def _object(value: Any, path: str, required: set[str], allowed: set[str]) -> dict:
    if not isinstance(value, dict):
        raise _fail(path, _("must be an object"))
    for key in value:
        if key in PERSONAL_FIELDS:
            raise _fail(f"{path}.{key}", _("is personal data and never enters the public ledger"))
        if key not in allowed:
            raise _fail(f"{path}.{key}", _("is not a field of this entry"))
    missing = sorted(required - value.keys())
    if missing:
        raise _fail(f"{path}.{missing[0]}", _("is required"))
    return value


def _entity(**fields: Callable) -> Callable:
    required = {name for name, check in fields.items() if not getattr(check, "optional", False)}

    def check(value: Any, path: str) -> dict:
        _object(value, path, required, set(fields))
        for name, field_check in fields.items():
            if name in value:
                field_check(value[name], f"{path}.{name}")
        return value

    return check


def optional(check: Callable) -> Callable:
    def wrapper(value: Any, path: str) -> Any:
        return check(value, path)

    wrapper.optional = True  # type: ignore[attr-defined]
    return wrapper


def list_of(check: Callable, *, low: int = 1, high: int = 200) -> Callable:
    def wrapper(value: Any, path: str) -> list:
        if not isinstance(value, list) or not low <= len(value) <= high:
            raise _fail(path, _("must list from %(low)s to %(high)s")
                        % {"low": low, "high": high})  # fmt: skip
        for i, element in enumerate(value):
            check(element, f"{path}[{i}]")
        return value

    return wrapper


def _enum(choices: tuple[str, ...]) -> Callable:
    def check(value: Any, path: str) -> str:
        if value not in choices:
            raise _fail(path, _("must be one of: %(choices)s") % {"choices": ", ".join(choices)})
        return value

    return check


def _item(*, signed: bool) -> Callable:
    return _entity(
        item=check_ref,
        name=check_label,
        quantity=lambda v, p: check_decimal_string(v, p, signed=signed),
        unit=_enum(UNITS),
        category=optional(_enum(CATEGORIES)),
    )


FUNDRAISER = _entity(id=check_ref, title=check_label)
GROUP = _entity(id=check_ref, name=check_label)
HUB = _entity(id=check_ref, name=check_label)
PLACE = _entity(id=check_ref, name=check_label, region=check_label,
                district=optional(check_label))  # fmt: skip
ITEMS = list_of(_item(signed=False))
SIGNED_ITEMS = list_of(_item(signed=True))
MONEY_IN_OUT = {
    "fundraiser": FUNDRAISER,
    "money": check_money,
    "converted": check_money,
    "rate": check_decimal_string,
    "rate_source": check_label,
}

# Who approves money out, as groups.models.Role names them (the ledger imports no domain app).
APPROVER_ROLES = ("organiser", "treasurer")
HANDOVER_ROLES = (*APPROVER_ROLES, "site_administrator")

PAYMENT_METHOD = _entity(
    kind=_enum(PAYMENT_KINDS),
    label=check_label,
    details=check_payment_details,
    currency=check_currency,
    qr=optional(check_sha256),
)

SCHEMAS: dict[str, dict[str, Callable]] = {
    "donation": {
        **MONEY_IN_OUT,
        "channel": _enum(CHANNELS),
        "received_at": check_time,
        "public_name": optional(check_label),
        "evidence": optional(lambda v, p: check_evidence(v, p, high=3)),
    },
    "expense": {
        **MONEY_IN_OUT,
        "vendor": check_label,
        "paid_at": check_time,
        "items": optional(ITEMS),
        "hub": optional(HUB),
        "evidence": check_evidence,
        # The role (never the name) of the second person who approved it; older entries,
        # published before approval existed, have none.
        "approved_by": optional(_enum(APPROVER_ROLES)),
    },
    "intake": {
        "hub": HUB,
        "items": ITEMS,
        "received_at": check_time,
        "public_name": optional(check_label),
        "fundraiser": optional(FUNDRAISER),
        "evidence": optional(check_evidence),
    },
    "dispatch": {
        "hub": HUB,
        "place": PLACE,
        "delivery": check_ref,
        "items": ITEMS,
        "fundraisers": optional(list_of(FUNDRAISER, high=20)),
    },
    # From a hub's stock ("hub") or straight from a purchase ("expense": the index of its
    # expense entry), exactly one of the two (ONE_OF).
    "delivery": {
        "delivery": check_ref,
        "hub": optional(HUB),
        "expense": optional(check_index),
        "place": PLACE,
        "items": ITEMS,
        "people": check_count,
        "households": optional(check_count),
        "delivered_at": check_time,
        "confirmed_by_recipient": check_bool,
        "fundraisers": optional(list_of(FUNDRAISER, low=0, high=20)),
        "evidence": check_evidence,
    },
    "transfer": {"from_hub": HUB, "to_hub": HUB, "items": ITEMS},
    "adjustment": {"hub": HUB, "items": SIGNED_ITEMS, "reason": check_text},
    "correction": {
        "reverses": check_index,
        "reason": check_text,
        "fundraiser": optional(FUNDRAISER),
    },
    # The full list of ways to pay after a change (empty when the last was removed). No
    # recipient name: the ledger cannot forget a person's name, the fundraiser page can.
    "payment_details": {
        "fundraiser": FUNDRAISER,
        "methods": list_of(PAYMENT_METHOD, low=0, high=20),
        "evidence": optional(lambda v, p: check_evidence(v, p, high=20)),
        "approved_by": optional(_enum(APPROVER_ROLES)),
    },
    # Money one group's fundraiser passed to another group's, written only once the receiving
    # group accepted it: the amount in the sender's currency, converted into the receiver's;
    # the roles (never the names) of the sender's second person and of who accepted.
    # A fundraiser whose organisers are gone, handed to another member of its group: the roles
    # of who proposed and who agreed (a site administrator only when one person was left),
    # never names; the new organiser's public name only if they chose to be named.
    "fundraiser_handover": {
        "fundraiser": FUNDRAISER,
        "proposed_by": _enum(HANDOVER_ROLES),
        "approved_by": _enum(HANDOVER_ROLES),
        "to_role": _enum(("organiser",)),
        "public_name": optional(check_label),
    },
    "money_transfer": {
        "from_fundraiser": FUNDRAISER,
        "to_fundraiser": FUNDRAISER,
        "from_group": GROUP,
        "to_group": GROUP,
        "money": check_money,
        "converted": check_money,
        "rate": check_decimal_string,
        "rate_source": check_label,
        "approved_by": _enum(APPROVER_ROLES),
        "accepted_by": _enum(APPROVER_ROLES),
    },
}


# Fields of which a payload of the kind holds exactly one.
ONE_OF: dict[str, tuple[str, ...]] = {"delivery": ("hub", "expense")}


def validate_payload(kind: str, payload: Any) -> dict:
    """Raise PayloadError naming the first field that is wrong; return the payload if sound."""
    if kind not in SCHEMAS:
        raise PayloadError(_("Unknown ledger entry kind “%(kind)s”.") % {"kind": kind})
    fields = SCHEMAS[kind]
    required = {name for name, check in fields.items() if not getattr(check, "optional", False)}
    _object(payload, kind, required, set(fields))
    if kind in ONE_OF and sum(name in payload for name in ONE_OF[kind]) != 1:
        names = ONE_OF[kind]
        raise _fail(f"{kind}.{names[0]}", _("give exactly one of: %(fields)s")
                    % {"fields": ", ".join(names)})  # fmt: skip
    for name, check in fields.items():
        if name in payload:
            check(payload[name], f"{kind}.{name}")
    return payload
