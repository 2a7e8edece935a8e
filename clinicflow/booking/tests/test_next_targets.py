"""The booking pages follow only same-host relative ``next`` and Referer targets."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pytest

from clinicflow.booking.tests.conftest import Clinic

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("target", ["javascript:alert(1)", "https://evil.example/", "//evil.example/slots"])
def test_the_patient_picker_drops_a_foreign_or_scripted_next(clinic: Clinic, web: Any, target: str) -> None:
    q = clinic.patient.last_name
    response = web("frontdesk").get(f"/booking/patients/?q={quote(q)}&next={quote(target)}")
    body = response.content.decode()
    assert response.status_code == 200
    assert f"/booking/slots/?patient={clinic.patient.pk}" in body
    links = re.findall(r'href="([^"]*)"', body)
    assert [link for link in links if "evil.example" in link or "javascript:" in link] == []
    assert 'name="next" value=""' in body  # the search form carries no target either


def test_the_patient_picker_keeps_a_same_host_next(clinic: Clinic, web: Any) -> None:
    q = clinic.patient.last_name
    target = f"/booking/slots/?branch={clinic.branch.pk}"
    response = web("frontdesk").get(f"/booking/patients/?q={quote(q)}&next={quote(target)}")
    assert f"{target}&amp;patient={clinic.patient.pk}" in response.content.decode()


def test_a_failed_booking_never_redirects_to_a_foreign_referer(clinic: Clinic, web: Any) -> None:
    response = web("frontdesk").post(
        f"/booking/book/?branch={clinic.branch.pk}", {}, headers={"Referer": "https://evil.example/x"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/booking/slots/"
