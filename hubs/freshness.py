"""When the public pages about needs (needs, gaps, a place, a hub, the hub list) change.

They show stock, supply requests and deliveries, not the ledger, so the ledger's version does
not see them change. Their pieces are kept in the cache under `needs_version()`, and whatever
writes stock, requests or deliveries (or a hub's, place's or item's text) calls
`needs_changed()`: the services after each write, signal receivers after an edit in the admin.
A page rendered after the write in the same process never shows what was there before."""

from collections.abc import Callable
from hashlib import blake2b

from aidhub.pagecache import version_cached, version_forget, version_token

NEEDS_VERSION_KEY = "hubs:needs:version"
# How long another process's local-memory cache may keep an old version (with Redis, every
# process forgets at once); what the pages show that no write changes (how long a request has
# waited) is kept no longer either.
NEEDS_SECONDS = 60


def needs_version() -> str:
    return version_token(NEEDS_VERSION_KEY, seconds=NEEDS_SECONDS)


def needs_changed(**kwargs: object) -> None:
    """Stock, a request, a delivery or a hub's, place's or item's text was written (a signal
    receiver too, hence the keyword arguments)."""
    version_forget(NEEDS_VERSION_KEY)


def needs_cached[T](name: str, what: str, compute: Callable[[], T]) -> T:
    """`compute()` (a hub or place a page is about, None for none) kept under the version."""
    digest = blake2b(what.encode(), digest_size=16).hexdigest()
    key = f"hubs:{name}:{needs_version()}:{digest}"
    return version_cached(key, compute, seconds=NEEDS_SECONDS)
