"""Schemathesis fuzzes every operation of the API against its own OpenAPI schema, in process,
on the demo data: no response may be a server error, and every response must match the schema
(status code, content type and body). Without a session the report endpoint must refuse (403)
and write nothing; with the volunteer's session, fuzzed reports record at most one report.

About 20 seconds on two cores. CI runs this module as its own step (on PostgreSQL); it is also
part of the normal suite."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from aidhub.wsgi import application
from deliveries.models import Delivery, ProofOfDelivery

pytestmark = pytest.mark.django_db

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


# The schema as the app serves it (generating it reads no database). Requests go through the
# whole WSGI stack, middleware included.
schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


@pytest.fixture
def in_test_transaction():
    """Django's test client does the same: a request ending must not close the connection that
    holds the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=100,
    deadline=None,
    # The demo is seeded once per operation, not per example; that is intended.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_never_fails_and_always_matches_its_schema(case, demo, in_test_transaction):
    proofs = ProofOfDelivery.objects.count()
    response = case.call_and_validate(checks=CHECKS)
    if case.operation.method.upper() == case.method.upper() == "POST":
        assert response.status_code == 403  # no session: refused before anything is read
    assert ProofOfDelivery.objects.count() == proofs


REPORT = schema["/api/v1/deliveries/{slug}/report/"]["POST"]


@pytest.fixture
def volunteer_session(demo) -> tuple[str, dict[str, str], dict[str, str]]:
    """The demo volunteer's delivery on the way, and their session cookie and CSRF header."""
    delivery = Delivery.objects.get(status="dispatched", volunteer__username="volunteer")
    client = Client()
    assert client.login(username="volunteer", password="aidhub-demo")
    client.get("/api/docs/")  # sets the CSRF cookie
    cookies = {name: morsel.value for name, morsel in client.cookies.items()}
    return delivery.slug, cookies, {"X-CSRFToken": cookies["csrftoken"]}


@given(case=REPORT.as_strategy())
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_a_volunteers_fuzzed_reports_never_fail_and_record_at_most_one(
    case, volunteer_session, in_test_transaction
):
    slug, cookies, headers = volunteer_session
    case.path_parameters["slug"] = slug
    response = case.call_and_validate(checks=CHECKS, cookies=cookies, headers=headers)
    assert response.status_code in (201, 400, 409, 413, 415)
    assert ProofOfDelivery.objects.filter(delivery__slug=slug).count() <= 1
