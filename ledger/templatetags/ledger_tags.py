from django import template
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from aidhub import pagecache
from ledger import presentation

register = template.Library()

# An entry never changes: what is drawn from it is kept until the names it shows are edited
# (presentation.names_version), it is reversed or a file of it is published or gets its
# thumbnail (EntryView.drawn_state), per language and time zone.
ENTRY_ROW_SECONDS = 30 * 24 * 3600


@register.simple_tag
def entry_rows(entries: list, template_name: str = "ledger/_entry_row.html") -> SafeString:
    """The entries' rows, each rendered once and then kept in the cache (one round trip)."""
    common = pagecache.fragment_key("ledger-row", template_name, presentation.names_version())
    keys = [f"{common}:{view.index}:{view.drawn_state}" for view in entries]
    rows = pagecache.fragments(
        keys,
        lambda i: render_to_string(template_name, {"view": entries[i]}),
        seconds=ENTRY_ROW_SECONDS,
    )
    return mark_safe("".join(rows))  # noqa: S308 - rows our templates rendered, escaped


@register.filter
def entry_summary(view) -> str:
    return presentation.summary(view.kind, view.payload)


@register.filter
def kind_label(kind: str) -> str:
    return str(presentation.KIND_LABELS.get(kind, kind))


@register.filter
def unit_label(unit: str) -> str:
    return str(presentation.UNIT_LABELS.get(unit, unit))


@register.filter
def payment_kind_label(kind: str) -> str:
    return str(presentation.PAYMENT_KIND_LABELS.get(kind, kind))


@register.filter
def fundraiser_title(ref: dict) -> str:
    return presentation.fundraiser_title(ref)


@register.filter
def local_name(ref: dict, subject: str) -> str:
    """A payload's hub or place ({"id", "name"}) or item line ({"item", "name"}) named in the
    reader's language."""
    public_id = ref.get("item" if subject == "item" else "id", "")
    return presentation.local_name(subject, public_id, ref.get("name", ""))
