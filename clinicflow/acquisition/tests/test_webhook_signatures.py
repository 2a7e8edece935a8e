"""A malformed signature header (non-ASCII, odd digits) is a failed check: 401 and nothing written."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from clinicflow.acquisition.integrations import services as integrations
from clinicflow.acquisition.models import Call, WebhookEvent
from clinicflow.acquisition.providers import callrail, generic
from clinicflow.acquisition.tests.conftest import load

pytestmark = pytest.mark.django_db


def _post(path: str, body: bytes, **headers: str) -> Any:
    return Client().post(path, data=body, content_type="application/json", headers=headers)


@pytest.mark.parametrize(
    "header",
    [
        "t={ts},v1=\u00e9\u00e9\u00e9",  # non-ASCII MAC (a latin-1 byte as WSGI decodes it)
        "t={ts},v1=\u0444",  # Cyrillic
        "t=\u00b2\u00b3,v1=abc",  # superscript digits pass str.isdigit() but not int()
        "t=\u0661\u0662,v1=abc",  # Arabic-Indic digits
    ],
    ids=["latin-1", "cyrillic", "superscript-ts", "arabic-ts"],
)
def test_a_non_ascii_generic_signature_header_gets_401(org: Any, make_integration: Any, header: str) -> None:
    _, secret = make_integration("generic", signing_key="k1")
    path = integrations.webhook_path("generic", secret)
    body = json.dumps(load("generic", "g2_missed.json")).encode()
    ts = str(int(timezone.now().timestamp()))
    response = _post(path, body, **{"X-Clinicflow-Signature": header.format(ts=ts)})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert Call.objects.count() == 0 and WebhookEvent.objects.count() == 0


def test_a_non_ascii_callrail_signature_header_gets_401(org: Any, make_integration: Any) -> None:
    _, secret = make_integration("callrail", signing_key="sk_test_123")
    path = integrations.webhook_path("callrail", secret)
    body = json.dumps(load("callrail", "cr1_post_call.json")).encode()
    response = _post(path, body, Signature="\u00e9" + callrail.sign(body, "sk_test_123")[1:])
    assert response.status_code == 401
    assert Call.objects.count() == 0 and WebhookEvent.objects.count() == 0


def test_a_valid_generic_signature_is_still_accepted(org: Any, make_integration: Any) -> None:
    _, secret = make_integration("generic", signing_key="k1")
    path = integrations.webhook_path("generic", secret)
    body = json.dumps(load("generic", "g2_missed.json")).encode()
    response = _post(path, body, **{"X-Clinicflow-Signature": generic.sign(body, "k1", timezone.now())})
    assert response.status_code == 201
