"""Production's system checks (`manage.py check --deploy`, which CI runs with
`--fail-level WARNING`)."""

import pytest

from aidhub.checks import check_trusted_proxies_stated


@pytest.fixture
def production(settings, monkeypatch):
    settings.PRODUCTION = True
    monkeypatch.delenv("AIDHUB_TRUSTED_PROXIES", raising=False)
    return monkeypatch


def test_production_that_does_not_say_how_many_proxies_it_trusts_is_warned(production):
    (warning,) = check_trusted_proxies_stated(None)
    assert warning.id == "aidhub.W001"
    assert warning.is_serious(level=30)  # WARNING: `--fail-level WARNING` fails on it


@pytest.mark.parametrize("value", ["0", "1", "2"])
def test_an_explicit_number_of_proxies_even_zero_satisfies_the_check(production, value):
    production.setenv("AIDHUB_TRUSTED_PROXIES", value)
    assert check_trusted_proxies_stated(None) == []


def test_development_is_not_asked_about_proxies(settings, monkeypatch):
    settings.PRODUCTION = False
    monkeypatch.delenv("AIDHUB_TRUSTED_PROXIES", raising=False)
    assert check_trusted_proxies_stated(None) == []


def test_the_check_runs_with_the_deploy_checks(production):
    from django.core import checks

    found = checks.run_checks(include_deployment_checks=True, tags=[checks.Tags.security])
    assert "aidhub.W001" in [message.id for message in found]
