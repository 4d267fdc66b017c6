"""The project's settings plus one bench-only URL: a trivial Django view to compare pages with.

Only the benchmarks' gunicorn runs with DJANGO_SETTINGS_MODULE=bench.settings."""

from aidhub.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"

# The site search is limited to 30 queries a minute per address; the load comes from one
# address, so the benchmark would measure the 429 page. What the limit costs is counted anyway.
RATELIMIT_ENABLE = False
