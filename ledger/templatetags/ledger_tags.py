from django import template

from ledger import presentation

register = template.Library()


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
