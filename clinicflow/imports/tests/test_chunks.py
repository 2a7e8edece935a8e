"""The engine works in chunks (``runner.BATCH`` rows): duplicates, errors, progress and idempotency
across chunk boundaries are what they are for a file read in one piece; E.164's fast check agrees
with ``normalize``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from clinicflow.core.models import Branch, Organization
from clinicflow.core.phones import try_normalize
from clinicflow.imports import services
from clinicflow.imports.engine import fields as specs
from clinicflow.imports.engine import runner
from clinicflow.imports.engine.bulk import uuid7_many
from clinicflow.imports.engine.clean import e164_fast
from clinicflow.imports.files import open_source, read_table
from clinicflow.imports.models import ImportIssue, ImportJob, JobStatus, SourceRecord
from clinicflow.imports.tests.helpers import run_file, write_csv
from clinicflow.patients.models import Patient, PatientPhone
from clinicflow.patients.selectors import patient_find_by_phone

pytestmark = pytest.mark.django_db
HEAD = ["id", "Last name", "First name", "Phone", "E-mail"]


@pytest.fixture(autouse=True)
def _small_chunks(settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    monkeypatch.setattr(runner, "BATCH", 3)


def _rows(n: int) -> list[list[str]]:
    return [HEAD] + [
        [f"s{i}", f"Last{i}", f"First{i}", f"+7916100{i:04d}", f"p{i}@example.org"] for i in range(n)
    ]


def _job(path: Path, org: Organization, branch: Branch, **kw: Any) -> ImportJob:
    columns = specs.guess_mapping("patients", read_table(open_source(path, "csv")).headers)
    with path.open("rb") as stream:
        name, ext = services.store_upload(
            org=org, stream=stream, size=path.stat().st_size, filename=path.name
        )
    return services.job_create(
        org=org, actor=None, branch=branch, kind="patients", source="legacy", stored_name=name, ext=ext,
        filename=path.name, columns=columns, **kw,
    )  # fmt: skip


def test_a_file_of_several_chunks_is_stored_whole_with_progress_per_chunk(
    org: Organization, branch: Branch, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "p.csv", _rows(8))  # chunks of 3, 3 and 2 rows
    seen: list[tuple[str, int]] = []
    job = services.job_run(
        job=_job(path, org, branch, mode="skip-bad"), progress=lambda j: seen.append((j.phase, j.done_line))
    )
    assert (job.status, job.created, job.failed_rows) == (JobStatus.DONE, 8, 0), job.message
    assert seen == [("applying", 4), ("applying", 7), ("applying", 9)]  # header is line 1
    assert Patient.objects.for_org(org).count() == PatientPhone.objects.for_org(org).count() == 8
    assert [p.full_name for p in patient_find_by_phone(org=org, e164="+79161000007")] == ["Last7 First7"]
    assert Patient.objects.for_org(org).get(last_name="Last5").email == "p5@example.org"
    again = run_file(path, org=org, branch=branch, kind="patients", mode="skip-bad")
    assert (again.created, again.unchanged) == (0, 8)  # idempotent by source id, chunk by chunk
    assert SourceRecord.objects.for_org(org).count() == 8


@pytest.mark.parametrize("mode", ["all", "skip-bad"])
def test_a_duplicate_in_the_next_chunk_matches_the_card_the_previous_chunk_wrote(
    org: Organization, branch: Branch, tmp_path: Path, mode: str
) -> None:
    rows = _rows(3)
    rows.append(["s9", "Last2", "Again", "+79161000002", ""])  # line 5: first row of chunk 2, phone of line 4
    rows.append(["s10", "Mail", "Twin", "", "P1@example.org"])  # same e-mail as line 3, other case
    job = run_file(write_csv(tmp_path / "p.csv", rows), org=org, branch=branch, kind="patients", mode=mode,
                   on_duplicate="merge")  # fmt: skip
    assert (job.status, job.created, job.updated + job.unchanged) == (JobStatus.DONE, 3, 2), job.message
    assert Patient.objects.for_org(org).count() == 3
    ids = dict(SourceRecord.objects.for_org(org).values_list("source_id", "object_id"))
    assert ids["s9"] == ids["s2"] and ids["s10"] == ids["s1"]


def test_flagged_duplicates_across_chunks_name_the_row_and_the_column(
    org: Organization, branch: Branch, tmp_path: Path
) -> None:
    rows = [*_rows(3), ["s9", "Other", "Person", "+79161000000", ""]]
    job = run_file(write_csv(tmp_path / "p.csv", rows), org=org, branch=branch, kind="patients")
    assert (job.created, job.flagged) == (4, 1)
    issue = ImportIssue.objects.for_org(org).get(job=job)
    assert (issue.level, issue.line, issue.column) == ("duplicate", 5, "Phone")


def test_an_error_in_a_later_chunk_names_row_and_column_and_all_or_nothing_stores_nothing(
    org: Organization, branch: Branch, tmp_path: Path
) -> None:
    rows = _rows(7)
    rows[6][3] = "+7 12"  # line 7, the first row of the third chunk
    path = write_csv(tmp_path / "p.csv", rows)
    job = run_file(path, org=org, branch=branch, kind="patients", mode="all")
    assert job.status == JobStatus.FAILED
    assert "line 7, column «Phone»" in job.message
    assert not Patient.objects.for_org(org).exists() and not SourceRecord.objects.for_org(org).exists()
    kept = run_file(path, org=org, branch=branch, kind="patients", mode="skip-bad")
    assert (kept.status, kept.created, kept.failed_rows) == (JobStatus.DONE, 6, 1)
    issue = ImportIssue.objects.for_org(org).get(job=kept)
    assert (issue.line, issue.column, issue.value) == (7, "Phone", "+7 12")


def test_a_killed_skip_bad_run_resumes_after_its_last_committed_chunk(
    org: Organization, branch: Branch, tmp_path: Path
) -> None:
    job = _job(write_csv(tmp_path / "p.csv", _rows(8)), org, branch, mode="skip-bad")
    job.done_line = 4  # the first chunk (lines 2-4) was committed before the worker died
    job.save()
    done = services.job_run(job=job)
    assert (done.status, done.created) == (JobStatus.DONE, 5)
    assert sorted(Patient.objects.for_org(org).values_list("last_name", flat=True)) == [
        f"Last{i}" for i in range(3, 8)
    ]


def test_the_e164_fast_check_agrees_with_normalize() -> None:
    numbers = [
        "+79161234567", "+12125551234", "+8613800138000", "+390612345678", "+4930123456", "+442071234567",
        "+1242", "+861012345678", "+85291234567", "+79991234567", "+70000000000", "+9999999999",
    ] + [f"+{cc}{n}" for cc in (1, 7, 33, 44, 49, 86, 380, 852, 971) for n in (2015550123, 9161234567, 12345678)]  # fmt: skip
    checked = 0
    for text in numbers:
        fast = e164_fast(text)
        if fast is not None:
            checked += 1
            assert fast == try_normalize(text, "RU"), text
    assert checked >= 8


def test_bulk_ids_are_uuid7_and_unique() -> None:
    ids = uuid7_many(2000)
    assert len(set(ids)) == 2000
    assert {(u.version, str(u)[14]) for u in ids} == {(7, "7")}
