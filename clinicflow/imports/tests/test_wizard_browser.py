"""The import wizard in a browser (headless Chromium): a manager uploads a CSV, maps the column the
guess missed, sees the preview with a per-row error naming the column, runs the import, watches its
progress and reads the summary with the bad row."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from clinicflow.core.tests.chromium import ARGS, CHROMIUM
from clinicflow.imports.engine import runner
from clinicflow.imports.models import ImportJob, JobStatus
from clinicflow.imports.services import claim_next, job_run
from clinicflow.imports.tests.helpers import write_csv
from clinicflow.patients.models import Patient
from clinicflow.patients.selectors import patient_find_by_phone

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"),
]
ROWS = [
    ["Client no", "Last name", "First name", "Tel", "E-mail"],
    ["c1", "Ivanova", "Anna", "+7 916 123-45-67", "anna@example.com"],
    ["c2", "Petrov", "Oleg", "8 (916) 222-33-44", ""],
    ["c3", "Sidorova", "Maria", "12", ""],  # line 4: not a phone number
    ["c4", "Orlov", "Ivan", "+79163334455", ""],
    ["c5", "Belova", "Nina", "+79164445566", ""],
    ["c6", "Kozlov", "Petr", "+79165556677", ""],
]


def _percent(page: Any) -> int:
    return int(page.locator("#job-progress progress").get_attribute("value"))


def test_upload_map_preview_run_progress_and_summary(  # type: ignore[no-untyped-def]
    org, branch, users, live_server, monkeypatch, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    monkeypatch.setattr(settings, "MEDIA_ROOT", str(tmp_path / "media"))
    monkeypatch.setattr(runner, "BATCH", 2)  # three chunks: progress is seen between them
    path = write_csv(tmp_path / "clients.csv", ROWS)
    session = Client()
    session.force_login(users["manager"], backend="django.contrib.auth.backends.ModelBackend")
    cookie = session.cookies[settings.SESSION_COOKIE_NAME].value
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
            context.add_cookies(
                [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
            )
            page = context.new_page()
            page.goto(f"{live_server.url}/imports/")
            page.select_option("#kind", "patients")
            page.fill("#source", "old_crm")
            page.set_input_files("#file", str(path))
            page.locator("#upload-form button[type=submit]").click()

            # mapping: the guess found the names and the e-mail, not "Tel"
            page.wait_for_selector("#mapping-table")
            assert page.locator("#col_last_name").input_value() == "Last name"
            assert page.locator("#col_phone").input_value() == ""
            page.select_option("#col_phone", "Tel")
            page.select_option("#col_source_id", "Client no")
            page.get_by_role("button", name="Preview").click()

            # preview: the rows as they will be stored, the bad row named by line and column
            page.wait_for_selector("#preview-rows")
            table = page.locator("#preview-rows tbody").inner_text()
            assert "+79162223344" in table and "anna@example.com" in table
            issues = page.locator("#preview-issues").inner_text()
            assert "line 4, column «Tel»" in issues
            assert not Patient.objects.for_org(org).exists()  # a preview stores nothing
            page.select_option("#mode", "skip-bad")
            page.locator("form[action$='/run/'] button[type=submit]").click()

            page.wait_for_selector("#job-progress")
            job = ImportJob.objects.for_org(org).get()
            assert job.status == JobStatus.QUEUED and _percent(page) == 0
            seen: list[int] = []

            def progress(j: ImportJob) -> None:  # the worker between two committed chunks
                if not seen:
                    page.reload()
                    seen.append(_percent(page))
                    assert "Running" in page.locator("#job-progress").inner_text()

            claimed = claim_next()
            assert claimed is not None and claimed.pk == job.pk
            job_run(job=claimed, progress=progress)
            assert seen and 0 < seen[0] < 100

            # the page polls itself: the summary replaces the progress without a reload
            page.wait_for_selector("#job-message", timeout=10_000)
            assert _percent(page) == 100
            assert page.locator("#job-counts dd").first.inner_text().strip() == "5"  # created
            page.reload()
            assert "Done" in page.locator("#job-progress").inner_text()
            row = page.locator("#job-issues tbody tr").first.inner_text()
            assert "4" in row and "Tel" in row and "12" in row
        finally:
            browser.close()
    assert Patient.objects.for_org(org).count() == 5
    assert [p.full_name for p in patient_find_by_phone(org=org, e164="+79165556677")] == ["Kozlov Petr"]
