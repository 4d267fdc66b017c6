"""`{% one_time_token %}` in every form that writes: see aidhub/idempotency.py."""

from django import template
from django.utils.html import format_html

from aidhub import idempotency

register = template.Library()


@register.simple_tag
def one_time_token() -> str:
    """A hidden field with a token made now: sending this page's form twice records it once."""
    return format_html(
        '<input type="hidden" name="{}" value="{}">', idempotency.FIELD, idempotency.new_token()
    )
