"""The words of each notification, in the subscriber's language, short enough for a phone's
preview. Contexts hold only public facts (no donor, volunteer or recipient is named)."""

from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.utils import formats, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext


def _link(path: str) -> str:
    return f"{settings.SITE_URL}{path}" if path else ""


# One whole sentence per urgency (SupplyRequest.Urgency: 1 critical, 2 high, 3 normal), keyed
# by the raw value, so that each language can word the subject freely.
REQUEST_SUBJECT = {
    1: gettext_lazy("Critical need in %(place)s"),
    2: gettext_lazy("High need in %(place)s"),
    3: gettext_lazy("Normal need in %(place)s"),
}
REQUEST_SUBJECT_OTHER = gettext_lazy("Need in %(place)s")

# The confirmation e-mail: one whole sentence per subject of a subscription (Scope), keyed by the
# raw scope, with the subject's own name (a fundraiser's title, a hub's or region's name) or the
# translated urgency slotted in, never an English label or a raw public id.
CONFIRM_TEXT = {
    "fundraiser": gettext_lazy(
        "Open this link to start receiving updates about the fundraiser “%(label)s”:"
    ),
    "hub": gettext_lazy("Open this link to start receiving updates about the hub “%(label)s”:"),
    "region": gettext_lazy(
        "Open this link to start receiving updates about requests in the region %(label)s:"
    ),
    "urgency": gettext_lazy(
        "Open this link to start receiving updates about requests of urgency “%(label)s” or higher:"
    ),
    "ledger": gettext_lazy(
        "Open this link to start receiving updates about new signed ledger checkpoints:"
    ),
}
CONFIRM_TEXT_OTHER = gettext_lazy("Open this link to confirm your subscription:")


# The language of canonical names (hubs.models.CanonicalName): what a webhook's data carries.
CANONICAL_LANGUAGE = "en"


def in_languages(text: Callable[[], object]) -> dict[str, str]:
    """{language: text()} for every UI language, `text` called with that language active: a
    name (a place's, a hub's, a fundraiser's title) put in a notification's context, so that
    each reader gets it in their own language when it is sent, whoever wrote the event."""
    texts = {}
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            texts[language] = str(text())
    return texts


def canonical(context: dict) -> dict:
    """The context with canonical (English) names: what a webhook's JSON data carries."""
    return localized(context, CANONICAL_LANGUAGE)


def _number(value) -> str:
    """A whole amount in the active language's format (1,000 / 1 000); text left as it is."""
    try:
        return formats.number_format(Decimal(str(value)), 0, use_l10n=True, force_grouping=True)
    except (InvalidOperation, ValueError, TypeError):
        return str(value)


def localized(context: dict, language: str) -> dict:
    """Values given per language ({"en": …, "ru": …}) resolved to the subscriber's one."""
    resolved = {}
    for key, value in context.items():
        if isinstance(value, dict) and "en" in value:
            value = value.get(language) or value["en"]
        resolved[key] = value
    return resolved


def _count(value) -> int:
    """A count from a context value (an int, or a number stored as text); 0 if it is neither."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def render(kind: str, context: dict, language: str) -> tuple[str, str]:
    """(subject, text) for a notification kind."""
    with translation.override(language):
        c = localized(context, language)
        if kind == "request":
            urgency = _count(c.get("urgency"))
            subject = str(REQUEST_SUBJECT.get(urgency, REQUEST_SUBJECT_OTHER)) % c
            text = _("%(place)s (%(region)s) asks for: %(items)s.") % c
        elif kind == "hub_needs":
            subject = _("%(hub)s: needs changed") % c
            text = _("%(hub)s now needs: %(items)s.") % c
        elif kind == "delivery":
            subject = _("Your donation reached %(place)s") % c
            text = (
                ngettext(
                    "%(people)s person in %(place)s received goods bought by “%(fundraiser)s”. "
                    "See the proof:",
                    "%(people)s people in %(place)s received goods bought by “%(fundraiser)s”. "
                    "See the proof:",
                    _count(c.get("people")),
                )
                % c
            )
        elif kind == "milestone":
            subject = _("“%(fundraiser)s” reached %(percent)s%%") % c
            amounts = {key: _number(c.get(key, "")) for key in ("raised", "goal")}
            text = _("%(raised)s of %(goal)s %(currency)s raised. Thank you.") % (c | amounts)
        elif kind == "checkpoint":
            subject = (
                ngettext(
                    "New ledger checkpoint: %(size)s entry",
                    "New ledger checkpoint: %(size)s entries",
                    _count(c.get("size")),
                )
                % c
            )
            text = c.get("note", "")
        elif kind == "digest":
            subject = _("Daily summary for %(hub)s") % c
            text = "\n".join(_digest_lines(c)) or _("Nothing needs your attention today.")
        elif kind == "approval":
            # Money out needs two people (donations.services): a second one is asked.
            if c.get("what") == "transfer":
                subject = _("“%(fundraiser)s”: money for another group waits for you") % c
                text = (
                    _(
                        "Another organiser or treasurer proposed passing money of "
                        "“%(fundraiser)s” to another group's fundraiser. Check the amount and "
                        "the receiver, then approve or reject it:"
                    )
                    % c
                )
            elif c.get("what") == "transfer_incoming":
                subject = _("“%(fundraiser)s”: another group is sending you money") % c
                text = (
                    _(
                        "Another group wants to pass money to “%(fundraiser)s”. Nothing is in "
                        "your books until one of your group's organisers or treasurers accepts "
                        "it. Accept or decline it here:"
                    )
                    % c
                )
            elif c.get("what") == "payment_details":
                subject = _("“%(fundraiser)s”: a change to the ways to pay waits for you") % c
                text = (
                    _(
                        "Another organiser or treasurer proposed a change to the ways to pay "
                        "“%(fundraiser)s”. Compare the old and new details, then approve or "
                        "reject it:"
                    )
                    % c
                )
            else:
                subject = _("“%(fundraiser)s”: an expense waits for your approval") % c
                text = (
                    _(
                        "Another organiser or treasurer recorded an expense of “%(fundraiser)s”. "
                        "See the receipt, then approve or reject it:"
                    )
                    % c
                )
        elif kind == "confirm":
            subject = _("Confirm your AidHub subscription")
            text = _confirm_text(c)
        else:
            subject, text = kind, ""
        link = _link(c.get("path", ""))
        return subject, f"{text}\n{link}".strip()


def _confirm_text(c: dict) -> str:
    """The confirmation sentence for the subscription's scope, in the active language. A scope
    it does not know, or a subject without a name, gets the plain sentence."""
    scope = c.get("scope", "")
    if scope == "ledger":
        return str(CONFIRM_TEXT[scope])  # names no subject
    if scope == "urgency":
        from hubs.models import SupplyRequest

        urgency = _count(c.get("ref"))
        label = SupplyRequest.Urgency(urgency).label if urgency in SupplyRequest.Urgency else ""
    else:
        label = c.get("label") or ""
    if scope not in CONFIRM_TEXT or not label:
        return str(CONFIRM_TEXT_OTHER)
    return str(CONFIRM_TEXT[scope]) % {"label": label}


def _digest_lines(c: dict) -> list[str]:
    lines = []
    if c.get("short"):
        lines.append(_("Stock lower than open requests: %(items)s") % {"items": c["short"]})
    for key, label in (
        ("waiting", _("Requests waiting more than 48 hours: %(n)s")),
        ("awaiting", _("Deliveries awaiting verification: %(n)s")),
        ("expired", _("Claims that expired: %(n)s")),
    ):
        if c.get(key):
            lines.append(label % {"n": c[key]})
    return lines
