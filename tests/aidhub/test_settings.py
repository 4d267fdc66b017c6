"""Settings come from the environment and refuse what is unsafe. Each case imports the settings
in a fresh interpreter, exactly as a server would start."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRINT = "from django.conf import settings as s; print(({}))"


def load(expr: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    clean.update({"DJANGO_SETTINGS_MODULE": "aidhub.settings", **env})
    code = f"import django; django.setup(); {PRINT.format(expr)}"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True
    )


def test_defaults_run_with_no_configuration():
    result = load("s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER, s.DEBUG")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "('django.db.backends.sqlite3', True, True)"


def test_redis_url_makes_redis_the_broker_and_the_cache():
    result = load(
        "s.CELERY_BROKER_URL, s.CELERY_TASK_ALWAYS_EAGER, s.CACHES['default']['BACKEND']",
        REDIS_URL="redis://127.0.0.1:6379/3",
    )
    assert result.returncode == 0, result.stderr
    assert "'redis://127.0.0.1:6379/3', False, 'django.core.cache.backends.redis.RedisCache'" in (
        result.stdout
    )


def test_database_url_selects_postgresql():
    result = load(
        "s.DATABASES['default']['ENGINE'], s.DATABASES['default']['NAME']",
        DATABASE_URL="postgres://aid@db.internal:5432/aidhub",
    )
    assert result.stdout.strip() == "('django.db.backends.postgresql', 'aidhub')"


def test_production_without_secret_key_refuses_to_start():
    result = load("1", AIDHUB_PRODUCTION="1", ALLOWED_HOSTS="aid.example")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_without_allowed_hosts_refuses_to_start():
    result = load("1", AIDHUB_PRODUCTION="1", SECRET_KEY="x" * 60)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS" in result.stderr


def test_production_with_debug_refuses_to_start():
    result = load(
        "1", AIDHUB_PRODUCTION="1", DEBUG="1", SECRET_KEY="x" * 60, ALLOWED_HOSTS="aid.example"
    )
    assert result.returncode != 0
    assert "DEBUG must be off" in result.stderr


def test_secret_key_can_come_from_a_file(tmp_path):
    key_file = tmp_path / "secret"
    key_file.write_text("from-a-file-" + "k" * 50 + "\n")
    result = load(
        "s.SECRET_KEY, s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE",
        AIDHUB_PRODUCTION="1",
        SECRET_KEY_FILE=str(key_file),
        ALLOWED_HOSTS="aid.example",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"('from-a-file-{'k' * 50}', 31536000, True)"


def test_unreadable_secret_file_is_a_clear_error(tmp_path):
    result = load("1", SECRET_KEY_FILE=str(tmp_path / "missing"))
    assert result.returncode != 0
    assert "SECRET_KEY_FILE" in result.stderr


def test_s3_bucket_switches_uploads_to_object_storage():
    result = load(
        "s.STORAGES['default']['BACKEND'], s.STORAGES['default']['OPTIONS']['endpoint_url']",
        AWS_STORAGE_BUCKET_NAME="aid-uploads",
        AWS_S3_ENDPOINT_URL="https://s3.example",
    )
    assert result.stdout.strip() == "('storages.backends.s3.S3Storage', 'https://s3.example')"


def test_email_url_configures_smtp():
    result = load(
        "type(m := __import__('django.core.mail').core.mail.mailers.default).__name__,"
        " m.host, m.port, m.use_tls, m.username, m.password",
        EMAIL_URL="smtp+tls://mailer:pw@smtp.example:587",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "('EmailBackend', 'smtp.example', 587, True, 'mailer', 'pw')"


@pytest.mark.parametrize("debug", ["1", "0"])
def test_development_email_goes_to_the_console(debug):
    result = load("s.MAILERS['default']['BACKEND']", DEBUG=debug, SECRET_KEY="x" * 60)
    assert result.stdout.strip() == "django.core.mail.backends.console.EmailBackend"
