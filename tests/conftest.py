"""Shared fixtures: the standing users every test can lean on, a fixed clock, and plain static
files."""

import os

import pytest
import time_machine
from cryptography.fernet import Fernet
from django.contrib.auth import get_user_model
from django.db import connection

from ledger.note import generate_private_key_text
from ledger.triggers import drop_triggers

PASSWORD = "correct horse battery staple"


# Time is an input. Every test runs on this clock unless it travels elsewhere itself; CI runs the
# tests marked `clock` again at instants around local and UTC midnight and noon, in each zone we
# serve (see .ci/run). The clock ticks from there, so timeouts and expiries still advance.
TEST_NOW = os.environ.get("AIDHUB_TEST_NOW", "2026-12-01T09:00:00+00:00")


@pytest.fixture(autouse=True)
def _fixed_clock(request):
    """The browser tests and the real-worker tests keep the real clock: Chromium and a Celery
    worker are other processes with their own clocks, and a session cookie dated by a clock the
    browser does not share would expire on arrival."""
    if request.node.get_closest_marker("real_clock") or "integration" in request.keywords:
        yield
        return
    with time_machine.travel(TEST_NOW, tick=True):
        yield


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: no rendered fragment or rate-limit count leaks."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _site_language():
    """Each test starts in the site's language: a request in another language leaves that
    language active in the thread afterwards, and translated fields (modeltranslation) read and
    write the active language's column."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _limits_off_unless_tested(request, settings):
    """Rate limits, API throttles and login lockout are tested on purpose in
    tests/aidhub/test_security.py; elsewhere they would make tests depend on each other
    (the test client's login() also cannot pass django-axes a request)."""
    if request.node.get_closest_marker("limits"):
        return
    settings.RATELIMIT_ENABLE = False
    settings.AXES_ENABLED = False


@pytest.fixture(autouse=True)
def _plain_static_files(settings):
    # Manifest storage needs `collectstatic`; tests render templates without it.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


LEDGER_TEST_KEY = generate_private_key_text("aidhub.test/ledger")
FIELD_TEST_KEY = Fernet.generate_key().decode()


@pytest.fixture(autouse=True)
def _celery_eager_outside_integration(request, monkeypatch):
    """Unit tests run tasks in-process even when REDIS_URL is set (the PostgreSQL + Redis pass),
    so no test leaves messages in the real broker. tests/integration use a real worker."""
    if "integration" in request.keywords:
        return
    from aidhub.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)
    monkeypatch.setitem(app.conf, "task_eager_propagates", True)


@pytest.fixture(autouse=True)
def _ledger_signing_key(settings):
    settings.LEDGER_ORIGIN = "aidhub.test/ledger"
    settings.LEDGER_KEY_NAME = "aidhub.test/ledger"
    settings.LEDGER_SIGNING_KEY = LEDGER_TEST_KEY


@pytest.fixture(autouse=True)
def _field_encryption_key(settings):
    # Never the development key file in the project folder.
    settings.FIELD_ENCRYPTION_KEY = FIELD_TEST_KEY


@pytest.fixture(autouse=True)
def _ledger_export_files(settings, tmp_path_factory):
    """Each test writes the ledger's export files into its own folder (they are derived from
    the test's database), never into the project's exports/."""
    settings.LEDGER_EXPORT_ROOT = tmp_path_factory.mktemp("exports")


@pytest.fixture
def ledger_transactional_db(transactional_db):
    """A transactional database whose append-only triggers let the test's flush run.

    The triggers are dropped just before the flush; the flush's post_migrate signal puts
    them back (ledger.apps), so the next test has them again.
    """
    yield
    drop_triggers(connection)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def coordinator(db):
    return get_user_model().objects.create_user("alice", password=PASSWORD, is_staff=True)


@pytest.fixture
def volunteer(db):
    return get_user_model().objects.create_user("bob", password=PASSWORD)


@pytest.fixture
def outsider(db):
    return get_user_model().objects.create_user("charlie", password=PASSWORD)
