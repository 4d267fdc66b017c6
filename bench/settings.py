"""The project's settings plus one bench-only URL: a trivial Django view to compare pages with.

Only the benchmarks' gunicorn runs with DJANGO_SETTINGS_MODULE=bench.settings."""

from aidhub.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
