"""The site's stylesheet, inlined in every page's <head> (templates/base.html).

On 2G a stylesheet in its own file costs the first visit extra round trips before anything is
drawn; Bootstrap trimmed to the rules our templates use (static/css/site.css, made by
`make css`) is about 7 KB gzipped, so it travels inside the HTML instead, in the first round
trips of the connection. The file is read once per process. The Content Security Policy allows
this one <style> by its SHA-256 (aidhub/settings.py), never 'unsafe-inline'.
"""

import base64
import hashlib
from functools import cache
from pathlib import Path

from django import template
from django.utils.safestring import SafeString, mark_safe

SITE_CSS = Path(__file__).resolve().parent.parent.parent / "static" / "css" / "site.css"

register = template.Library()


@cache
def site_css() -> str:
    css = SITE_CSS.read_text(encoding="utf-8")
    if "</" in css:  # would end the <style> element early
        raise ValueError(f"{SITE_CSS} must not contain '</'")
    return css


def csp_source() -> str:
    """The style-src source that allows exactly the inlined stylesheet."""
    digest = hashlib.sha256(site_css().encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


@register.simple_tag
def inline_site_css() -> SafeString:
    return mark_safe(f"<style>{site_css()}</style>")  # noqa: S308 - our own file, checked above
