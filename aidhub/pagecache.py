"""Whole public pages from the cache, for visitors who are not logged in.

When a fundraiser's link is shared, thousands of donors open the same few pages. What a visitor
without a session sees is the same for all of them (in their language), so such a page is
rendered once and then served from the cache until what it shows changes.

Django's own per-view cache (`cache_page`) was the first choice, but it keys a page by its URL
and the request headers named in Vary, not by what the page shows: a new ledger entry would wait
for the timeout, and `Vary: Cookie` would give every visitor with any cookie a copy of their own.
Here the view names its `version` (for the ledger: its size and latest checkpoint), and only
requests without a session or messages cookie are served from the cache. A response that sets a
cookie (a form's CSRF token) is never stored. The timeout bounds what the version does not see,
such as a thumbnail made a moment after its entry.
"""

import logging
import secrets
from collections.abc import Callable, Sequence
from functools import wraps
from hashlib import blake2b
from typing import Any

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

logger = logging.getLogger(__name__)
View = Callable[..., HttpResponse]
_MISSING = object()


def _quietly(call: Callable[..., Any], *args: Any, default: Any = None) -> Any:
    """A cache that is down (Redis restarting) makes pages slower, never broken."""
    try:
        return call(*args)
    except Exception as exc:  # each cache backend raises its own errors
        logger.warning("cache unavailable (%s): the page is rendered without it", exc)
        return default


def version_cached(key: str, compute: Callable[[], Any], *, seconds: int) -> Any:
    """`compute()`, kept in the cache under `key` for `seconds`, so that a page served from the
    cache costs no query at all. Writers call `version_forget(key)` when it changes."""
    found = _quietly(cache.get, key, _MISSING, default=_MISSING)
    if found is _MISSING:
        found = compute()
        _quietly(cache.set, key, found, seconds)
    return found


def version_forget(key: str) -> None:
    """Forget a version at once and again at commit: a page rendered in between may have kept
    the old one. In another process's local-memory cache it lives at most its `seconds`."""
    _quietly(cache.delete, key)
    transaction.on_commit(lambda: _quietly(cache.delete, key))


def version_token(key: str, *, seconds: int) -> str:
    """A token that stays the same until a writer calls `version_forget(key)` (or `seconds`
    pass): a part of a cache key that changes exactly when what it stands for does."""
    return version_cached(key, lambda: secrets.token_hex(8), seconds=seconds)


def fragment_key(name: str, *vary: object) -> str:
    """The cache key of a piece of a page: its name, what it depends on (`vary`), and the
    reader's language and time zone, which every rendered text and date depends on."""
    what = "|".join(map(str, (*vary, get_language(), timezone.get_current_timezone_name())))
    return f"fragment:{name}:{blake2b(what.encode(), digest_size=20).hexdigest()}"


def fragments(
    keys: Sequence[str], render: Callable[[int], str], *, seconds: int
) -> list[SafeString]:
    """The HTML kept under each key, with one round trip to the cache; `render(i)` makes the
    ones it does not hold (and they are kept for `seconds`). The keys must say everything the
    HTML depends on (see `fragment_key`): nobody forgets a fragment."""
    found = _quietly(cache.get_many, list(keys), default={}) if keys else {}
    made: dict[str, str] = {}
    html = []
    for i, key in enumerate(keys):
        text = found.get(key)
        if text is None:
            text = made[key] = str(render(i))
        html.append(mark_safe(text))  # noqa: S308 - rendered by our templates, escaped there
    if made:
        _quietly(cache.set_many, made, seconds)
    return html


def fragment(key: str, render: Callable[[], str], *, seconds: int) -> SafeString:
    return fragments([key], lambda _i: render(), seconds=seconds)[0]


def _shared(request: HttpRequest) -> bool:
    """True when this visitor sees what every visitor without a session sees."""
    return (
        request.method in ("GET", "HEAD")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and CookieStorage.cookie_name not in request.COOKIES
    )


def public_page(version: Callable[..., object], *, timeout: int = 60) -> Callable[[View], View]:
    """Serve the view's page whole from the cache to visitors without a session, keyed by
    `version(**kwargs)` (anything that changes when the page's content does; it gets the view's
    keyword arguments, the URL's parts, so one fundraiser's page can follow its own versions),
    the language and the URL.
    The page gets an ETag of its bytes, so a phone that has it already gets an empty 304."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
            if not _shared(request):
                return view(request, *args, **kwargs)
            where = f"{request.get_host()}{request.get_full_path()}"
            what = f"{version(**kwargs)}|{get_language()}|{where}"
            key = f"page:{view.__module__}.{view.__name__}:{blake2b(what.encode()).hexdigest()}"
            response = _quietly(cache.get, key)
            if response is None:
                response = view(request, *args, **kwargs)
                if response.status_code != 200 or response.streaming or response.cookies:
                    return response
                # Of the bytes, not of the key: a new release's page is never answered with 304.
                response["ETag"] = f'"{blake2b(response.content, digest_size=16).hexdigest()}"'
                # The language may come from a cookie: a shared cache must not give it to others.
                patch_vary_headers(response, ["Cookie"])
                _quietly(cache.set, key, response, timeout)
            return get_conditional_response(request, etag=response["ETag"], response=response)

        return wrapped

    return decorator
