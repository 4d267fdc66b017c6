"""Rate limits on the forms people could hammer: sign-in, second step, subscriptions, uploads,
the recipient's handover code. Counted in the cache, so in production (Redis) every process
shares the counts. Exceeding one answers 429 with a page saying to wait (aidhub.security)."""

from django.conf import settings
from django_ratelimit import ALL
from django_ratelimit.core import is_ratelimited
from django_ratelimit.decorators import ratelimit
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
}


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


class AnonThrottle(_SettingsRate, AnonRateThrottle):
    pass


class UserThrottle(_SettingsRate, UserRateThrottle):
    pass
