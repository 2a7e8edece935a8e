"""The fast path (COPY in its text form, the file read and cleaned by a thread ahead of the writer,
blind indexes and seals made there, batches of ``runner.BATCH`` rows) stores exactly what the plain
path stores: one-row batches through the ORM (``bulk_create`` of model instances: the fields' own
``pre_save`` and ``get_prep_value`` make the blind indexes and the ciphertexts), no reader thread.
Compared on files with bad rows, duplicates (by phone and by e-mail, in the same batch and across
batches), text that COPY must escape, and a re-import of each file."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from clinicflow.booking.models import Appointment
from clinicflow.core.crypto import email_index, phone_index
from clinicflow.core.models import Branch, Organization
from clinicflow.core.services import branch_create, organization_create
from clinicflow.imports.engine import bulk, runner
from clinicflow.imports.models import ImportIssue, ImportJob, SourceRecord
from clinicflow.imports.tests.helpers import run_file
from clinicflow.patients.models import Patient, PatientPhone

pytestmark = pytest.mark.django_db

PATIENTS = [
    [
        "id",
        "Last name",
        "First name",
        "Middle name",
        "Sex",
        "Birth date",
        "Phone",
        "Phone 2",
        "E-mail",
        "Notes",
    ],
    ["c1", "Иванова", "Анна", "", "ж", "1990-05-01", "+79161234567", "", "anna@example.com", "tab\there"],
    ["c2", "Petrov", "Oleg", "Ivanovich", "", "12.03.1985", "8 (916) 222-33-44", "+79162223355", "", ""],
    ["c3", "Bad", "Phone", "", "", "", "+7 12", "", "", ""],  # refused: the phone
    ["c4", "Ivanova", "Anya", "Petrovna", "", "", "+7 916 123 45 67", "+79169990000", "", "new\nline"],
    ["c5", "Mail", "Twin", "", "m", "", "", "", "ANNA@example.com", "back\\slash"],  # e-mail of c1
    ["c1", "Repeated", "Id", "", "", "", "+79165550000", "", "", ""],  # the same source id again
    ["c6", "Ли", "Мэй", "", "女", "2001-02-03", "+79160001122", "", "mei@example.cn", '=HYPERLINK("x")'],
    ["c7", "Bad", "Mail", "", "", "", "+79160001133", "", "not an address", ""],  # refused: the e-mail
    ["c8", "Later", "Twin", "", "", "1970-01-01", "+79169990000", "", "late@example.org", ""],  # c4's phone
    ["c9", "Plain", "Row", "", "u", "", "+79160001144", "", "", ""],
]
VISITS = [
    ["visit id", "client id", "date", "time", "service", "doctor", "price", "status", "notes"],
    ["v1", "c1", "04.01.2021", "09:00", "Laser", "Dr A", "1500", "done", ""],
    ["v2", "c4", "2021-01-04", "10:30", "Laser", "Dr B", "1 500,50", "cancelled", "a\tb"],
    ["v3", "c3", "04.01.2021", "11:00", "Peel", "Dr A", "900", "", ""],  # refused: c3 was not imported
    ["v4", "c2", "05.01.2021", "", "Консультация", "Dr A", "", "no_show", "x\\y\nz"],
    ["v2", "c2", "06.01.2021", "12:00", "Peel", "Dr B", "700", "", ""],  # the same visit id again
    ["v5", "c9", "bad date", "12:00", "Peel", "Dr B", "700", "", ""],  # refused: the date
    ["v6", "c8", "2030-01-01", "08:00", "Peel", "Dr C", "1000.5", "", ""],
]


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")


def _csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    return path


def _plain_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "BATCH", 1)
    monkeypatch.setattr(bulk, "COPY", False)
    monkeypatch.setattr(runner, "ahead", lambda items: items)
    monkeypatch.setattr(runner, "index_rows", lambda org_id, rows: None)


def _import_all(org: Organization, branch: Branch, tmp_path: Path, on_duplicate: str) -> list[Any]:
    """Each file twice (the second run changes nothing); what each job said."""
    said: list[Any] = []
    for kind, rows in (("patients", PATIENTS), ("visits", VISITS)):
        path = _csv(tmp_path / f"{kind}-{org.slug}.csv", rows)
        for _ in range(2):
            job = run_file(
                path, org=org, branch=branch, kind=kind, mode="skip-bad", on_duplicate=on_duplicate
            )
            said.append(_job(job))
    return said


def _job(job: ImportJob) -> tuple[Any, ...]:
    issues = [
        (i.level, i.line, i.column, i.problem, i.value, i.object_id is not None, i.other_id is not None)
        for i in ImportIssue.objects.for_org(job.organization).filter(job=job).order_by("line", "column")
    ]
    counts = (job.status, job.created, job.updated, job.unchanged, job.skipped, job.flagged, job.failed_rows)
    return counts, issues, job.message


def _stored(org: Organization, branch: Branch) -> dict[str, Any]:
    """Everything the imports stored for ``org``, keyed by source ids instead of generated ids."""
    names: dict[Any, str] = {}  # object id -> the smallest source id that became it
    records = sorted(SourceRecord.objects.for_org(org).values_list("kind", "source_id", "object_id"))
    for _kind, sid, oid in records:
        names[oid] = min(names.get(oid, sid), sid)
    patients = {}
    for p in Patient.objects.for_org(org):
        assert p.email_index == (email_index(org.pk, p.email) if p.email else "")
        phones = []
        for ph in PatientPhone.objects.for_org(org).filter(patient=p):
            assert ph.e164_index == phone_index(org.pk, ph.e164)
            phones.append((ph.e164, ph.kind, ph.is_primary))
        patients[names[p.pk]] = (
            p.last_name, p.first_name, p.middle_name, p.sex, p.birth_date, p.email, p.notes,
            p.clinical_notes, p.search_name, p.branch_id == branch.pk, p.merged_into_id, p.source,
            p.preferred_language, p.restricted_at, p.created_by_id, sorted(phones),
        )  # fmt: skip
    visits = {
        names[a.pk]: (
            names[a.patient_id],
            a.service.name,
            a.doctor.full_name,
            a.start_at,
            a.end_at,
            a.busy_until,
            a.status,
            a.cancel_reason,
            a.cancelled_at,
            a.is_late_cancellation,
            a.arrived_at,
            a.price,
            a.currency,
            a.is_first_visit,
            a.source,
            a.notes,
            a.manage_version,
            a.room_id,
            a.booked_by_id,
            a.branch_id == branch.pk,
        )
        for a in Appointment.objects.for_org(org).select_related("service", "doctor")
    }
    mapped = sorted((kind, sid, names[oid]) for kind, sid, oid in records)
    return {"patients": patients, "visits": visits, "source ids": mapped}


@pytest.mark.parametrize("on_duplicate", ["merge", "flag", "skip"])
def test_the_fast_path_stores_what_the_plain_path_stores(
    org: Organization, branch: Branch, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, on_duplicate: str
) -> None:
    fast_said = _import_all(org, branch, tmp_path, on_duplicate)
    fast = _stored(org, branch)

    twin = organization_create(name="Twin", slug="twin", country="RU", currency="RUB")
    twin_branch = branch_create(
        org=twin, name="Moscow", slug="moscow", timezone="Europe/Moscow", city="Moscow"
    )
    with monkeypatch.context() as patched:
        _plain_path(patched)
        plain_said = _import_all(twin, twin_branch, tmp_path, on_duplicate)
    plain = _stored(twin, twin_branch)

    assert fast_said == plain_said
    for part in fast:
        for key in sorted(set(fast[part]) | set(plain[part])) if isinstance(fast[part], dict) else []:
            assert fast[part].get(key) == plain[part].get(key), (part, key)
    assert fast == plain
    # the files were read as meant: rows refused, duplicates matched, the re-import unchanged
    (_p, p_issues, _m), (again, _i, _m2), (v_counts, v_issues, _m3), (v_again, _i2, _m4) = fast_said
    assert [(line, column) for level, line, column, *_ in p_issues if level == "error"] == [
        (4, "Phone"), (9, "E-mail"),
    ]  # fmt: skip
    assert again[1:] == (0, 0, 8, 0, 0, 2)  # the 8 good rows unchanged, the 2 bad ones refused again
    assert [(line, column) for _level, line, column, *_ in v_issues] == [(4, "client id"), (7, "date")]
    assert v_counts[1] == 4 and v_again[1:] == (0, 0, 5, 0, 0, 2)
    assert len(fast["patients"]) == {"merge": 4, "skip": 5, "flag": 7}[on_duplicate]
    assert fast["patients"]["c1"][6] == "tab\there"
    assert fast["visits"]["v4"][15] == "x\\y\nz"
