"""Abuse limits of the public acquisition surface: spend files that unpack or run too far, visitors that
try to hold the whole number pool, anonymous leads naming a patient, webhooks to a disabled integration."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import Workbook

from clinicflow.acquisition import defaults
from clinicflow.acquisition.integrations import services as integrations
from clinicflow.acquisition.models import Call, Lead, NumberLease, NumberPool, TrackingNumber, WebSession
from clinicflow.acquisition.tests.conftest import load
from clinicflow.patients.services import PatientData, patient_create

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def _xlsx(rows: int, filler: str = "") -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Date", "Channel", "Campaign", "Spend", "Note"])
    for i in range(rows):
        sheet.append(["2025-03-01", "search_ads", f"C{i}", 10, filler])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _upload(client: Client, name: str, data: bytes) -> Any:
    return client.post("/acquisition/spend/import/", {"file": SimpleUploadedFile(name, data)})


def _kept_files(settings: Any) -> list[Path]:
    folder = Path(settings.MEDIA_ROOT) / "tmp" / "spend_import"
    return sorted(folder.iterdir()) if folder.is_dir() else []


def test_an_xlsx_that_unpacks_beyond_the_limit_is_refused_naming_the_file_and_nothing_is_kept(
    web: Any, org: Any, settings: Any
) -> None:
    data = _xlsx(50, filler="x" * 2000)  # compresses to a few kB, unpacks to over 100 kB
    assert len(data) < 20_000
    assert sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(data)).infolist()) > 100_000
    settings.SPEND_IMPORT_MAX_UNPACKED_BYTES = 50_000
    client = web("marketer")
    response = _upload(client, "bomb.xlsx", data)
    assert response.status_code == 422
    html = response.content.decode()
    assert "bomb.xlsx" in html and "unpacks to more than" in html
    assert _kept_files(settings) == []
    assert "spend_import" not in str(client.session.get("spend_import", ""))


def test_an_xlsx_with_more_rows_than_the_limit_is_refused_naming_the_file_and_nothing_is_kept(
    web: Any, org: Any, settings: Any
) -> None:
    settings.SPEND_IMPORT_MAX_ROWS = 20
    client = web("marketer")
    response = _upload(client, "million.xlsx", _xlsx(21))
    assert response.status_code == 422
    html = response.content.decode()
    assert "million.xlsx" in html and "more than 20 rows" in html
    assert _kept_files(settings) == []


def test_an_xlsx_within_the_lowered_limits_is_accepted(web: Any, org: Any, settings: Any) -> None:
    settings.SPEND_IMPORT_MAX_ROWS = 20
    settings.SPEND_IMPORT_MAX_UNPACKED_BYTES = 200_000
    defaults.channels_ensure(org=org)
    response = _upload(web("marketer"), "ok.xlsx", _xlsx(20))
    assert response.status_code == 302
    assert len(_kept_files(settings)) == 1


# --- the number pool ------------------------------------------------------------------------------------


def _pool(org: Any, branch: Any, size: int) -> None:
    for i in range(size):
        TrackingNumber.objects.create(
            organization=org, e164=f"+749511100{i:02d}", pool=NumberPool.DYNAMIC, branch=branch
        )


def _beacon(key: str, cid: str, ip: str) -> Any:
    body = json.dumps({"k": key, "cid": cid, "url": "https://clinic.example/", "utm_source": "yandex"})
    return Client(REMOTE_ADDR=ip).post("/t/session", data=body, content_type="text/plain")


def test_one_client_opening_many_sessions_cannot_take_every_number(
    org: Any, branch: Any, settings: Any
) -> None:
    settings.TRACKING_LEASES_PER_IP = 3
    _pool(org, branch, 10)
    key = defaults.tracking_settings(org=org).public_key
    answers = [_beacon(key, f"bot-visitor-{i:04d}", "203.0.113.9").json() for i in range(12)]
    assert [bool(a["number"]) for a in answers] == [True] * 3 + [False] * 9
    assert NumberLease.objects.for_org(org).count() == 3
    # another visitor still gets a number
    assert _beacon(key, "real-visitor-0001", "198.51.100.7").json()["number"].startswith("+7495111")


def test_anonymous_sessions_together_always_leave_a_share_of_the_pool_free(
    org: Any, branch: Any, settings: Any
) -> None:
    settings.TRACKING_LEASES_PER_IP = 100
    settings.TRACKING_POOL_RESERVE = 0.3
    _pool(org, branch, 10)
    key = defaults.tracking_settings(org=org).public_key
    held = [bool(_beacon(key, f"visitor-{i:04d}", f"198.51.100.{i}").json()["number"]) for i in range(10)]
    assert held == [True] * 7 + [False] * 3
    assert WebSession.objects.for_org(org).filter(number__isnull=False).count() == 7


def test_a_visitor_keeps_the_number_it_holds_when_it_comes_back(org: Any, branch: Any, settings: Any) -> None:
    settings.TRACKING_LEASES_PER_IP = 1
    _pool(org, branch, 3)
    key = defaults.tracking_settings(org=org).public_key
    first = _beacon(key, "visitor-000000001", "203.0.113.9").json()["number"]
    assert first
    again = [_beacon(key, "visitor-000000001", "203.0.113.9").json()["number"] for _ in range(3)]
    assert again == [first] * 3
    assert NumberLease.objects.for_org(org).count() == 1


# --- leads ---------------------------------------------------------------------------------------------


def test_a_lead_with_a_known_patients_phone_is_stored_unattached(org: Any, branch: Any) -> None:
    patient_create(
        org=org,
        actor=None,
        data=PatientData(last_name="Ivanova", first_name="Anna", phones=["+7 903 111 22 33"]),
    )
    key = defaults.tracking_settings(org=org).public_key
    sid = _beacon(key, "visitor-000000001", "203.0.113.9").json()["sid"]
    body = {"k": key, "sid": sid, "cid": "visitor-000000001", "name": "X", "phone": "+79031112233"}
    response = Client().post("/t/lead", data=json.dumps(body), content_type="text/plain")
    assert response.status_code == 201
    lead = Lead.objects.for_org(org).get()
    assert lead.phone == "+79031112233"
    assert lead.patient_id is None
    assert WebSession.objects.for_org(org).get(pk=sid).patient_id is None


# --- integrations --------------------------------------------------------------------------------------


def test_a_webhook_to_an_integration_disabled_a_moment_ago_is_refused_in_the_same_process(
    org: Any, make_integration: Any
) -> None:
    integration, secret = make_integration("generic")
    path = integrations.webhook_path("generic", secret)
    body = json.dumps(load("generic", "g2_missed.json"))
    assert Client().post(path, data=body, content_type="application/json").status_code < 300
    calls = Call.objects.for_org(org).count()
    integrations.integration_set_active(org=org, actor=None, integration=integration, active=False)
    again = json.dumps({**load("generic", "g2_missed.json"), "call_id": "another-call"})
    response = Client().post(path, data=again, content_type="application/json")
    assert response.status_code == 404
    assert Call.objects.for_org(org).count() == calls
