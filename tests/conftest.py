"""Shared fixtures: the standing users every test can lean on, and plain static files."""

import pytest
from django.contrib.auth import get_user_model

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _plain_static_files(settings):
    # Manifest storage needs `collectstatic`; tests render templates without it.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def coordinator(db):
    return get_user_model().objects.create_user("alice", password=PASSWORD, is_staff=True)


@pytest.fixture
def volunteer(db):
    return get_user_model().objects.create_user("bob", password=PASSWORD)


@pytest.fixture
def outsider(db):
    return get_user_model().objects.create_user("charlie", password=PASSWORD)
