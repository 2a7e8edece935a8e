"""The import engine: patients, visits, payments, spend; idempotency, modes, duplicates, tenancy."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from clinicflow.booking.models import Appointment, AppointmentStatus, Doctor, Payment
from clinicflow.catalogue.models import Service
from clinicflow.core.models import Branch, Organization
from clinicflow.imports.models import ImportIssue, JobStatus, SourceRecord
from clinicflow.imports.tests.helpers import PATIENTS, run_file, write_csv
from clinicflow.patients.models import Patient
from clinicflow.patients.selectors import patient_find_by_phone


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")


VISITS = [
    ["visit id", "client id", "date", "time", "service", "doctor", "price", "status"],
    ["v1", "p1", "2024-03-01", "10:30", "Консультация", "Dr Smirnova", "2500.00", "done"],
    ["v2", "p2", "02.03.2024", "11:00", "Laser", "Dr Smirnova", "12 000", "cancelled"],
]


def test_patients_import_then_reimport_changes_nothing(
    org: Organization, branch: Branch, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "patients.csv", PATIENTS)
    job = run_file(path, org=org, branch=branch, kind="patients")
    assert (job.status, job.created, job.failed_rows) == (JobStatus.DONE, 2, 0), job.message
    anna = patient_find_by_phone(org=org, e164="+79161234567")
    assert [p.full_name for p in anna] == ["Ivanova Anna"]
    assert anna[0].email == "anna@example.com" and anna[0].birth_date == dt.date(1990, 5, 1)
    assert [p.full_name for p in patient_find_by_phone(org=org, e164="+79162223344")] == ["Petrov Oleg"]
    again = run_file(path, org=org, branch=branch, kind="patients")
    assert (again.status, again.created, again.unchanged) == (JobStatus.DONE, 0, 2)
    assert Patient.objects.for_org(org).count() == 2
    assert SourceRecord.objects.for_org(org).filter(kind="patients").count() == 2


def test_visits_with_services_doctors_zone_and_currency(
    org: Organization, branch: Branch, tmp_path: Path
) -> None:
    run_file(write_csv(tmp_path / "p.csv", PATIENTS), org=org, branch=branch, kind="patients")
    job = run_file(write_csv(tmp_path / "v.csv", VISITS), org=org, branch=branch, kind="visits")
    assert (job.status, job.created) == (JobStatus.DONE, 2), job.message
    visits = list(Appointment.objects.for_org(org).order_by("start_at"))
    moscow = dt.timezone(dt.timedelta(hours=3))
    assert visits[0].start_at == dt.datetime(2024, 3, 1, 10, 30, tzinfo=moscow)
    assert (visits[0].price, visits[0].currency, visits[0].status) == (
        Decimal("2500.00"),
        "RUB",
        AppointmentStatus.DONE,
    )
    assert (visits[1].price, visits[1].status) == (Decimal("12000.00"), AppointmentStatus.CANCELLED)
    assert sorted(Service.objects.for_org(org).values_list("name", flat=True)) == ["Laser", "Консультация"]
    assert list(Doctor.objects.for_org(org).values_list("full_name", flat=True)) == ["Dr Smirnova"]
    again = run_file(tmp_path / "v.csv", org=org, branch=branch, kind="visits")
    assert (again.created, again.unchanged) == (0, 2)
    assert Appointment.objects.for_org(org).count() == 2


def test_payments_link_patient_and_visit_and_refuse_other_currency(
    org: Organization, branch: Branch, tmp_path: Path
) -> None:
    run_file(write_csv(tmp_path / "p.csv", PATIENTS), org=org, branch=branch, kind="patients")
    run_file(write_csv(tmp_path / "v.csv", VISITS), org=org, branch=branch, kind="visits")
    rows = [
        ["id", "client id", "visit id", "date", "amount", "currency"],
        ["pay1", "p1", "v1", "2024-03-01", "2500", "RUB"],
        ["pay2", "p2", "", "2024-03-02", "-100", ""],
    ]
    job = run_file(write_csv(tmp_path / "pay.csv", rows), org=org, branch=branch, kind="payments")
    assert (job.status, job.created) == (JobStatus.DONE, 2), job.message
    pays = list(Payment.objects.for_org(org).order_by("paid_at"))
    assert pays[0].appointment_id == Appointment.objects.for_org(org).order_by("start_at").first().pk  # type: ignore[union-attr]
    assert (pays[1].amount, pays[1].kind) == (Decimal("100.00"), "refund")
    bad = [["id", "client id", "date", "amount", "currency"], ["pay3", "p1", "2024-03-01", "10", "USD"]]
    failed = run_file(write_csv(tmp_path / "bad.csv", bad), org=org, branch=branch, kind="payments")
    assert failed.status == JobStatus.FAILED
    issue = ImportIssue.objects.for_org(org).get(job=failed)
    assert (issue.line, issue.column, issue.problem) == (
        2,
        "currency",
        "is USD, the branch's currency is RUB",
    )


def test_all_or_nothing_never_half_applies(org: Organization, branch: Branch, tmp_path: Path) -> None:
    rows = [*PATIENTS, ["p3", "Sidorov", "Ivan", "not a phone", "", ""]]
    job = run_file(write_csv(tmp_path / "p.csv", rows), org=org, branch=branch, kind="patients")
    assert job.status == JobStatus.FAILED
    assert Patient.objects.for_org(org).count() == 0 and SourceRecord.objects.for_org(org).count() == 0
    issue = ImportIssue.objects.for_org(org).get(job=job)
    assert (issue.line, issue.column, issue.value) == (4, "Phone", "not a phone")
    assert "line 4, column «Phone»" in job.message


def test_all_or_nothing_rolls_back_rows_refused_while_writing(
    org: Organization, branch: Branch, tmp_path: Path
) -> None:
    """A visit naming an unknown patient is only found while writing: the rows before it are undone."""
    run_file(write_csv(tmp_path / "p.csv", PATIENTS), org=org, branch=branch, kind="patients")
    rows = [*VISITS, ["v3", "nobody", "2024-03-03", "10:00", "Laser", "Dr Smirnova", "1", "done"]]
    job = run_file(write_csv(tmp_path / "v.csv", rows), org=org, branch=branch, kind="visits")
    assert job.status == JobStatus.FAILED
    assert Appointment.objects.for_org(org).count() == 0
    assert SourceRecord.objects.for_org(org).filter(kind="visits").count() == 0
    assert [(i.line, i.column) for i in ImportIssue.objects.for_org(org).filter(job=job)] == [
        (4, "client id")
    ]


def test_skip_bad_rows_imports_the_good_ones(org: Organization, branch: Branch, tmp_path: Path) -> None:
    rows = [*PATIENTS, ["p3", "", "Ivan", "", "", ""], ["p4", "Sidorov", "Ivan", "", "x@", ""]]
    job = run_file(
        write_csv(tmp_path / "p.csv", rows), org=org, branch=branch, kind="patients", mode="skip-bad"
    )
    assert (job.status, job.created, job.failed_rows) == (JobStatus.DONE, 2, 2)
    issues = [(i.line, i.column, i.problem) for i in ImportIssue.objects.for_org(org).filter(job=job)]
    assert issues == [(4, "Last name", "is required"), (5, "E-mail", "is not a valid e-mail address")]


def test_dry_run_stores_nothing(org: Organization, branch: Branch, tmp_path: Path) -> None:
    job = run_file(
        write_csv(tmp_path / "p.csv", PATIENTS), org=org, branch=branch, kind="patients", dry_run=True
    )
    assert (job.status, job.created) == (JobStatus.DONE, 2)
    assert Patient.objects.for_org(org).count() == 0 and SourceRecord.objects.for_org(org).count() == 0


@pytest.mark.parametrize(("choice", "created", "expected"), [("merge", 0, 1), ("skip", 0, 1), ("flag", 1, 2)])
def test_duplicates_by_phone_merge_skip_or_flag(
    org: Organization, branch: Branch, tmp_path: Path, choice: str, created: int, expected: int
) -> None:
    run_file(
        write_csv(tmp_path / "a.csv", PATIENTS[:2]), org=org, branch=branch, kind="patients", source="crm"
    )
    rows = [
        ["id", "Last name", "First name", "Phone", "Birth date", "E-mail"],
        ["77", "Ivanova", "Anna", "89161234567", "", "new@example.com"],
    ]
    job = run_file(
        write_csv(tmp_path / "b.csv", rows),
        org=org,
        branch=branch,
        kind="patients",
        source="other",
        on_duplicate=choice,
    )
    assert (job.status, job.created) == (JobStatus.DONE, created), job.message
    assert Patient.objects.for_org(org).count() == expected
    original = Patient.objects.for_org(org).order_by("created_at").first()
    assert original is not None
    assert (
        original.email == ("new@example.com" if choice == "merge" else "anna@example.com")
        or original.email == "anna@example.com"
    )
    if choice == "flag":
        issue = ImportIssue.objects.for_org(org).get(job=job)
        assert (issue.level, issue.other_id) == ("duplicate", original.pk)
    else:
        mapped = SourceRecord.objects.for_org(org).get(source="other", source_id="77")
        assert mapped.object_id == original.pk


def test_duplicate_by_email_is_matched(org: Organization, branch: Branch, tmp_path: Path) -> None:
    run_file(write_csv(tmp_path / "a.csv", PATIENTS), org=org, branch=branch, kind="patients", source="crm")
    rows = [["Last name", "First name", "E-mail"], ["Ivanova", "A.", "ANNA@example.com"]]
    job = run_file(
        write_csv(tmp_path / "b.csv", rows),
        org=org,
        branch=branch,
        kind="patients",
        source="x",
        on_duplicate="skip",
    )
    assert (job.created, job.skipped) == (0, 1)


def test_nothing_lands_in_another_organisation(
    org: Organization, branch: Branch, other_org: Organization, other_branch: Branch, tmp_path: Path
) -> None:
    """A file naming the other organisation, its slug or its patients' ids still imports into the caller's."""
    theirs = [PATIENTS[0], PATIENTS[1], ["p2", "Wang", "Li", "+8613800138000", "", ""]]
    run_file(write_csv(tmp_path / "p.csv", theirs), org=other_org, branch=other_branch, kind="patients")
    rows = [
        ["id", "organization", "Last name", "First name", "Phone"],
        ["p1", str(other_org.pk), "Evil", "Eve", "+79161234567"],
    ]
    job = run_file(
        write_csv(tmp_path / "x.csv", rows), org=org, branch=branch, kind="patients", on_duplicate="merge"
    )
    assert (job.status, job.created) == (JobStatus.DONE, 1)
    assert Patient.objects.for_org(other_org).count() == 2
    assert [p.last_name for p in Patient.objects.for_org(org)] == ["Evil"]
    visits = [VISITS[0], ["v1", "p2", "2024-03-01", "10:30", "Laser", "Dr X", "1", "done"]]
    failed = run_file(
        write_csv(tmp_path / "v.csv", visits), org=org, branch=branch, kind="visits", source="legacy2"
    )
    assert failed.status == JobStatus.FAILED  # p2 exists only in the other organisation
    assert Appointment.objects.count() == 0


def test_branch_of_another_organisation_is_refused(
    org: Organization, other_branch: Branch, tmp_path: Path
) -> None:
    from clinicflow.core.errors import ValidationFailed
    from clinicflow.imports import services

    with pytest.raises(ValidationFailed):
        services.job_create(
            org=org,
            actor=None,
            branch=other_branch,
            kind="patients",
            source="x",
            stored_name="a.csv",
            ext="csv",
            filename="a.csv",
            columns={},
        )
