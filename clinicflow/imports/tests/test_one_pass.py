"""All-or-nothing in one pass (each batch cleaned once, written, rolled back on any refusal) names
the same rows a validation pass before the writing named; the batch look-ups descend the index per
key on PostgreSQL whatever the planner's statistics say."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from clinicflow.booking.models import Appointment
from clinicflow.catalogue.models import Service
from clinicflow.core.models import Branch, Organization
from clinicflow.imports.engine import runner
from clinicflow.imports.engine.bulk import known, remember, uuid7_many
from clinicflow.imports.models import ImportIssue, JobStatus, SourceRecord
from clinicflow.imports.tests.helpers import PATIENTS, run_file, write_csv

pytestmark = pytest.mark.django_db
HEAD = ["visit id", "client id", "date", "time", "service", "doctor", "price", "status"]


@pytest.fixture(autouse=True)
def _small_batches(settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    monkeypatch.setattr(runner, "BATCH", 2)


def _visit(n: int, client: str = "p1", date: str = "2024-03-01") -> list[str]:
    return [f"v{n}", client, date, f"{9 + n % 8}:00", "Laser", "Dr A", "100", "done"]


def _issues(job: Any) -> list[tuple[int, str]]:
    found = ImportIssue.objects.for_org(job.organization).filter(job=job).order_by("line")
    return [(i.line, i.column) for i in found]


def test_rows_refused_by_their_cleaning_are_named_in_every_batch_and_nothing_is_stored(
    org: Organization, branch: Branch, tmp_path: Path
) -> None:
    run_file(write_csv(tmp_path / "p.csv", PATIENTS), org=org, branch=branch, kind="patients")
    rows = [HEAD, _visit(1), _visit(2), _visit(3, date="32.13.2024"), _visit(4), _visit(5), _visit(6)]
    rows.append(_visit(7, date="never"))  # line 8, the fourth batch: after the writing stopped
    job = run_file(write_csv(tmp_path / "v.csv", rows), org=org, branch=branch, kind="visits", mode="all")
    assert job.status == JobStatus.FAILED
    assert _issues(job) == [(4, "date"), (8, "date")]
    assert (job.failed_rows, job.created) == (2, 0)
    assert "line 4, column «date»" in job.message
    # the first batch was written before line 4 was read: rolled back with the services it created
    assert not Appointment.objects.for_org(org).exists()
    assert not SourceRecord.objects.for_org(org).filter(kind="visits").exists()
    assert not Service.objects.for_org(org).exists()


def test_a_cleaning_refusal_after_a_writing_refusal_is_what_the_failure_names(
    org: Organization, branch: Branch, tmp_path: Path
) -> None:
    """Line 2 names a patient nobody imported (found while writing); line 7 has no date (found by its
    cleaning, three batches later): the failure names line 7 alone, as a validation pass would."""
    run_file(write_csv(tmp_path / "p.csv", PATIENTS), org=org, branch=branch, kind="patients")
    rows = [HEAD, _visit(1, client="nobody"), *(_visit(n) for n in range(2, 6)), _visit(6, date="")]
    job = run_file(write_csv(tmp_path / "v.csv", rows), org=org, branch=branch, kind="visits", mode="all")
    assert job.status == JobStatus.FAILED
    assert _issues(job) == [(7, "date")]
    assert not Appointment.objects.for_org(org).exists()


def test_a_writing_refusal_alone_is_named_when_every_row_cleans(
    org: Organization, branch: Branch, tmp_path: Path
) -> None:
    run_file(write_csv(tmp_path / "p.csv", PATIENTS), org=org, branch=branch, kind="patients")
    rows = [HEAD, _visit(1), _visit(2), _visit(3), _visit(4, client="nobody"), _visit(5)]
    job = run_file(write_csv(tmp_path / "v.csv", rows), org=org, branch=branch, kind="visits", mode="all")
    assert job.status == JobStatus.FAILED
    assert _issues(job) == [(5, "client id")]
    assert not Appointment.objects.for_org(org).exists()
    good = [HEAD, *(_visit(n) for n in range(1, 6))]
    done = run_file(write_csv(tmp_path / "g.csv", good), org=org, branch=branch, kind="visits", mode="all")
    assert (done.status, done.created) == (JobStatus.DONE, 5), done.message
    assert Appointment.objects.for_org(org).count() == 5


def test_known_finds_each_key_of_its_organisation_source_and_kind_only(
    org: Organization, other_org: Organization
) -> None:
    mine = list(zip([f"s{i}" for i in range(30)], uuid7_many(30), strict=True))
    remember(org=org, source="crm", kind="patients", job=None, pairs=mine)
    remember(org=org, source="crm", kind="visits", job=None, pairs=[("s1", mine[5][1])])
    remember(org=org, source="other", kind="patients", job=None, pairs=[("s2", mine[6][1])])
    remember(org=other_org, source="crm", kind="patients", job=None, pairs=[("s40", mine[7][1])])
    asked = ["s3", "s3", "s29", "s40", "nope", 'quo"te', "back\\slash"]
    assert known(org=org, source="crm", kind="patients", ids=asked) == {"s3": mine[3][1], "s29": mine[29][1]}
    assert known(org=org, source="crm", kind="visits", ids=["s1", "s2"]) == {"s1": mine[5][1]}
    assert known(org=org, source="crm", kind="patients", ids=[]) == {}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the planner is PostgreSQL's")
def test_the_source_id_look_up_descends_the_index_per_key_without_statistics(org: Organization) -> None:
    """Rows the statistics have never seen (no ANALYZE since they were written): ``= ANY`` of the
    keys was planned as a scan of all of them; the per-key form is planned as an index descent each."""
    remember(
        org=org,
        source="legacy",
        kind="patients",
        job=None,
        pairs=list(zip([f"c{i}" for i in range(20_000)], uuid7_many(20_000), strict=True)),
    )
    table = SourceRecord._meta.db_table
    inner = (
        f"SELECT r.object_id FROM {table} r WHERE r.organization_id = %s AND r.source = %s"
        " AND r.kind = %s AND r.source_id = k.v"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN SELECT k.v, x.* FROM unnest(%s::text[]) AS k(v) "
            f"CROSS JOIN LATERAL ({inner} OFFSET 0) AS x",
            ["{c1,c2,c3}", org.pk, "legacy", "patients"],
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Scan using import_source_record_uniq" in plan, plan
    assert "source_id)::text = k.v" in plan, plan
    assert "Seq Scan on imports_sourcerecord" not in plan and "Filter" not in plan, plan
    found = known(org=org, source="legacy", kind="patients", ids=["c0", "c19999", "c20000"])
    assert set(found) == {"c0", "c19999"}
