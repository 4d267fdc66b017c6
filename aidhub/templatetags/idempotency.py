"""`{% one_time_token %}` in every form that writes: see aidhub/idempotency.py."""

from django import template
from django.templatetags.static import static
from django.utils.html import format_html

from aidhub import idempotency

register = template.Library()


@register.simple_tag(takes_context=True)
def one_time_token(context) -> str:
    """A hidden field with a token made now: sending this page's form twice records it once.
    A visitor without an account gets a signed token. Never on a page served from the cache
    (aidhub.pagecache): every visitor would get the same one; use `browser_made_token`."""
    request = context.get("request")
    user = getattr(request, "user", None)
    signed_in = user is not None and user.is_authenticated
    token = idempotency.new_token() if signed_in else idempotency.anonymous_token()
    return format_html('<input type="hidden" name="{}" value="{}">', idempotency.FIELD, token)


@register.simple_tag
def browser_made_token() -> str:
    """For a form on a page that may be served from the cache: an empty field that
    static/js/one-time-token.js fills in the visitor's browser (the script is included too)."""
    return format_html(
        '<input type="hidden" name="{}" value="" data-one-time-token>'
        '<script src="{}" defer></script>',
        idempotency.FIELD,
        static("js/one-time-token.js"),
    )
