"""Rate limits on the forms people could hammer: sign-in, second step, subscriptions, uploads,
the recipient's handover code. Counted in the cache, so in production (Redis) every process
shares the counts. Exceeding one answers 429 with a page saying to wait (aidhub.security).

Who is counted is `client_address`: the form limits ("ip" keys, through RATELIMIT_IP_META_KEY),
the API throttles and the sign-in lockout (AXES_CLIENT_IP_CALLABLE) all use it, so behind a
proxy they count the visitor, never the proxy, and no header the visitor writes fools them."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit import ALL
from django_ratelimit.core import is_ratelimited
from django_ratelimit.decorators import ratelimit
from ipware import get_client_ip
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

# (key, rate) per POSTed form; "ip" for forms anyone can use, "user_or_ip" for signed-in work.
LIMITS = {
    "login": ("ip", "10/m"),
    "two_factor": ("user_or_ip", "10/m"),
    "subscribe": ("ip", "10/m"),
    "handover": ("ip", "10/m"),
    "upload": ("user_or_ip", "60/m"),
    # GET, not a form: a fundraiser's ledger export, made anew on each download.
    "export": ("ip", "10/m"),
    # GET: the site search, a few queries per request over every kind of name.
    "search": ("ip", "30/m"),
}


def client_address(request: HttpRequest) -> str:
    """The visitor's address, as the outermost of AIDHUB_TRUSTED_PROXIES proxies saw it.

    Each proxy appends the address it was connected from to X-Forwarded-For, so with N trusted
    proxies the visitor is the N-th address from the right; anything further left was written
    by the visitor and is ignored. With no trusted proxy, X-Forwarded-For is ignored entirely."""
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.AIDHUB_TRUSTED_PROXIES
    if not proxies:
        return _per_network(remote)
    # django-ipware counts the proxies listed in the header; the nearest one is REMOTE_ADDR.
    # Not strict: a malformed value the visitor prepended must not hide the proxies' entries.
    address, _routable = get_client_ip(
        request,
        proxy_count=proxies - 1,
        request_header_order=["HTTP_X_FORWARDED_FOR"],
        strict=False,
    )
    # A request that did not pass through every proxy (a health check from inside) is counted
    # by the address it came from.
    return _per_network(address or remote)


def _per_network(address: str) -> str:
    """An IPv6 visitor is counted by their /64: one subscriber's line holds a whole /64, so
    counting single addresses would let them start every lockout and limit afresh."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False).network_address)
    return str(ip)


def limit(name: str):
    key, rate = LIMITS[name]
    return ratelimit(key=key, rate=rate, method="POST", block=True, group=f"aidhub.{name}")


def exceeded(request, name: str) -> bool:
    """Count this request against LIMITS[name] whatever its method; True once over the rate.
    For views that answer the refusal themselves (a download that says when to retry)."""
    key, rate = LIMITS[name]
    return is_ratelimited(
        request, group=f"aidhub.{name}", key=key, rate=rate, method=ALL, increment=True
    )


class _SettingsRate:
    """DRF reads throttle rates once at import; these read them (and the on/off switch shared
    with the form limits) on every request, so settings and tests can change them."""

    def allow_request(self, request, view) -> bool:
        if not settings.RATELIMIT_ENABLE:
            return True
        return super().allow_request(request, view)

    def get_rate(self) -> str | None:
        return settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"].get(self.scope)

    def get_ident(self, request) -> str:
        return client_address(request)


class AnonThrottle(_SettingsRate, AnonRateThrottle):
    pass


class UserThrottle(_SettingsRate, UserRateThrottle):
    pass
