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
