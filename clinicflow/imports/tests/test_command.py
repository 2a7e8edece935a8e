"""``clinicflow import KIND FILE --org SLUG``: progress, summary, errors, mapping, resume."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from clinicflow.core.models import Branch, Organization
from clinicflow.imports.models import ImportJob, ImportMapping, JobStatus, SourceRecord
from clinicflow.imports.tests.helpers import PATIENTS, write_csv
from clinicflow.patients.models import Patient


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("import", *args, stdout=out)
    return out.getvalue()


def test_command_imports_and_prints_a_summary(org: Organization, branch: Branch, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", PATIENTS)
    out = _run("patients", str(path), "--org", "demo", "--branch", "moscow")
    assert "done: created 2, updated 0, unchanged 0, skipped 0, flagged 0, bad rows 0" in out
    assert "applying: line" in out
    again = _run("patients", str(path), "--org", "demo")
    assert "done: created 0, updated 0, unchanged 2" in again
    assert Patient.objects.for_org(org).count() == 2


def test_command_dry_run_and_bad_rows(org: Organization, branch: Branch, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", [*PATIENTS, ["p3", "X", "Y", "12", "", ""]])
    with pytest.raises(CommandError, match="failed"):
        _run("patients", str(path), "--org", "demo", "--dry-run")
    out = _run("patients", str(path), "--org", "demo", "--mode", "skip-bad", "--dry-run")
    assert "error: line 4, column «Phone»: is not a valid phone number ('12')" in out
    assert "done: dry run, nothing stored: created 2" in out
    assert Patient.objects.for_org(org).count() == 0


def test_command_mapping_saved_and_reused_and_preview(
    org: Organization, branch: Branch, tmp_path: Path
) -> None:
    rows = [["Код", "Клиент", "Моб"], ["1", "Иванова Анна Петровна", "+79161234567"]]
    path = write_csv(tmp_path / "c.csv", rows)
    out = _run(
        "patients",
        str(path),
        "--org",
        "demo",
        "--source",
        "old_crm",
        "--map",
        "phone=Моб",
        "--save-mapping",
        "--preview",
        "5",
    )
    assert (
        "line 2 [1]: {'last_name': 'Иванова', 'first_name': 'Анна', 'middle_name': 'Петровна', 'sex': 'U', 'phones': \"['+79161234567']\"}"
        in out
    )
    mapping = ImportMapping.objects.for_org(org).get(source="old_crm", kind="patients")
    assert mapping.columns == {"source_id": "Код", "full_name": "Клиент", "phone": "Моб"}
    _run("patients", str(path), "--org", "demo", "--mapping", "old_crm")
    assert SourceRecord.objects.for_org(org).get().source == "old_crm"


def test_command_refuses_unknown_org_and_missing_mapping(
    org: Organization, branch: Branch, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "p.csv", [["foo"], ["bar"]])
    with pytest.raises(CommandError, match="no organisation"):
        _run("patients", str(path), "--org", "nope")
    with pytest.raises(CommandError, match="column mapping: last_name"):
        _run("patients", str(path), "--org", "demo")


def test_a_killed_skip_bad_import_resumes_after_its_last_batch(
    org: Organization, branch: Branch, tmp_path: Path, monkeypatch: Any
) -> None:
    from clinicflow.imports.engine import runner

    monkeypatch.setattr(runner, "BATCH", 2)
    rows = [PATIENTS[0]] + [[f"p{i}", f"Last{i}", "First", "", "", ""] for i in range(7)]
    path = write_csv(tmp_path / "p.csv", rows)
    real_write = runner.Writer.write
    calls = {"n": 0}

    def dying(self: Any, batch: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # the process is killed while the third batch is written
        return real_write(self, batch)

    monkeypatch.setattr(runner.Writer, "write", dying)
    with pytest.raises(KeyboardInterrupt):
        _run("patients", str(path), "--org", "demo", "--mode", "skip-bad")
    job = ImportJob.objects.for_org(org).get()
    assert (job.status, job.done_line, Patient.objects.for_org(org).count()) == (JobStatus.RUNNING, 5, 4)
    monkeypatch.setattr(runner.Writer, "write", real_write)
    out = _run("patients", str(path), "--org", "demo", "--resume", str(job.pk))
    assert "done: created 7" in out
    assert Patient.objects.for_org(org).count() == 7
