"""The OpenAPI document is the contract (IN-03): generated requests never get a 5xx, responses
match their schemas, undeclared methods get 405."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from clinicflow.accounts.services import api_token_issue
from clinicflow.patients.tests.factories import make_patient

CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
    unsupported_method,
]
SCHEMA = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
# Revoking the token would end the run's authentication after the first example; it has its own tests.
SKIP = {("DELETE", "/api/v1/auth/token")}
OPERATIONS = [
    op for op in (r.ok() for r in SCHEMA.get_all_operations()) if (op.method.upper(), op.path) not in SKIP
]


@pytest.fixture
def keep_test_connection():
    """The WSGI app is called directly (not through Django's test client), so stop its request
    signals from closing the test transaction's connection, as the test client does."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.mark.usefixtures("keep_test_connection")
@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: f"{op.method.upper()} {op.path}")
def test_api_operation_honours_its_contract(operation, users, org, branch) -> None:
    make_patient(org, branch=branch)
    _, raw = api_token_issue(user=users["owner"])
    headers = {"Authorization": f"Bearer {raw}"}

    @given(case=operation.as_strategy())
    @settings(
        max_examples=8,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case) -> None:
        response = case.call(headers=headers)
        assert response.status_code < 500, f"{case.method} {case.formatted_path} -> {response.status_code}"
        # The checks SECURITY.md IN-03 names. Schema-valid but semantically invalid input (a garbage phone
        # number, an unknown branch id) is a 422 by design, so "positive data acceptance" is not among them.
        case.validate_response(response, checks=CHECKS)

    check()


def test_undeclared_methods_get_405(api, users) -> None:
    client = api("owner")
    for method in ("TRACE", "PUT"):
        assert client.generic(method, "/api/v1/patients").status_code == 405
    assert Client().generic("TRACE", "/api/v1/auth/token").status_code == 405
