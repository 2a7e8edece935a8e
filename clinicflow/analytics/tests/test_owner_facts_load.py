"""The doctors' load of the daily facts built by the database (``owner.facts_load``: the working windows
in one SQL statement, PostgreSQL's multiranges) equals the capacity report's definition (the Python
reference build, ``availability.working_windows`` per doctor): weekly hours less breaks, ``open``
exceptions replacing a day's hours (one ending at midnight, one across New York's autumn night with
its repeated hour, one on a day with no weekly hours), ``closed`` exceptions for a whole day, for some
hours, and with only a start (the whole day), on a branch in New York whose November clock change is
inside the data. On PostgreSQL the windows staged once for the whole span (``windows_staged``, the full
rebuild's) give each chunk the rows computed for it alone."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection, transaction

from clinicflow.analytics.models import DayFact
from clinicflow.analytics.owner import facts_load
from clinicflow.analytics.owner.facts import rebuild
from clinicflow.analytics.owner.facts_load import windows_staged
from clinicflow.analytics.owner.facts_span import data_span
from clinicflow.booking.models import DoctorBranch, ScheduleBreak, ScheduleException, WorkingHours
from clinicflow.core.models import Branch, Organization
from clinicflow.simulator.runner import simulate_org
from clinicflow.simulator.scenario import load_scenario

END = dt.date(2026, 11, 30)
NIGHT = dt.date(2026, 11, 1)  # New York: 01:00-02:00 twice


def _load(org: Organization) -> list[tuple[Any, ...]]:
    rows = DayFact.objects.for_org(org).values_list("branch_id", "day", "available_seconds", "booked_seconds")
    return sorted((r for r in rows if r[2] or r[3]), key=str)


@pytest.mark.django_db
def test_the_load_built_in_sql_equals_the_capacity_reports_windows(org: Organization) -> None:
    simulate_org(
        org=org,
        scenario=load_scenario(overrides={"clinic": {"months": 2, "end_date": END.isoformat()}}),
        seed=3,
    )
    branch = Branch.objects.for_org(org).order_by("name").first()
    assert branch is not None
    Branch.objects.filter(pk=branch.pk).update(timezone="America/New_York")
    links = list(DoctorBranch.objects.for_org(org).filter(branch=branch).order_by("doctor_id")[:4])
    assert len(links) >= 2
    first, second = links[0].doctor_id, links[1].doctor_id
    hours = WorkingHours.objects.for_org(org).filter(branch=branch, doctor_id=first).first()
    assert hours is not None
    for weekday in range(7):  # a lunch break every day (cuts only days with hours)
        ScheduleBreak.objects.create(
            organization=org,
            branch=branch,
            doctor_id=first,
            weekday=weekday,
            start_time=dt.time(13, 0),
            end_time=dt.time(13, 45),
        )

    def exception(doctor: Any, day: dt.date, kind: str, t0: Any = None, t1: Any = None) -> None:
        ScheduleException.objects.create(
            organization=org, branch=branch, doctor_id=doctor, date=day, kind=kind, start_time=t0, end_time=t1
        )

    exception(first, NIGHT, "open", dt.time(0, 30), dt.time(3, 0))  # across the repeated hour
    exception(first, END - dt.timedelta(days=10), "open", dt.time(18, 0), dt.time(0, 0))  # to midnight
    exception(first, END - dt.timedelta(days=11), "closed")  # the whole day
    exception(second, END - dt.timedelta(days=12), "closed", dt.time(10, 0), dt.time(12, 30))
    exception(second, END - dt.timedelta(days=13), "closed", dt.time(10, 0))  # no end: the whole day
    exception(second, NIGHT, "open", dt.time(1, 15), dt.time(1, 45))  # inside the repeated hour
    exception(second, END - dt.timedelta(days=14), "open")  # no hours: the weekly hours stay
    worked = {wh.weekday for wh in WorkingHours.objects.for_org(org).filter(branch=branch, doctor_id=second)}
    days_off = [END - dt.timedelta(days=n) for n in range(20, 30)]
    days_off = [d for d in days_off if d.weekday() not in worked]
    if days_off:  # a day off made a working day
        exception(second, days_off[0], "open", dt.time(9, 0), dt.time(11, 0))
    rebuild(org, reference=True)
    reference = _load(org)
    assert any(r[0] == branch.pk and r[1] == NIGHT and r[2] for r in reference)
    rebuild(org)
    assert _load(org) == reference
    rebuild(org, chunk_days=9)  # chunks of any size: the same windows
    assert _load(org) == reference
    if connection.vendor == "postgresql":  # the windows staged once per rebuild: each chunk's the same
        span = data_span(org)
        assert span is not None
        chunks = [(span[0], NIGHT - dt.timedelta(days=1)), (NIGHT, NIGHT), (NIGHT, span[1])]
        with transaction.atomic():
            computed = [_staged(org, d0, d1) for d0, d1 in chunks]
        with transaction.atomic(), windows_staged(org):
            assert facts_load.covered(org, *span)
            assert [_staged(org, d0, d1) for d0, d1 in chunks] == computed
            with windows_staged(org):  # nested: the outer one's
                assert facts_load.covered(org, *span)
            rebuild(org, chunk_days=9)
            assert _load(org) == reference
        assert not facts_load.covered(org, *span)


def _staged(org: Organization, d0: dt.date, d1: dt.date) -> list[tuple[Any, ...]]:
    n = facts_load.stage_windows(org, d0, d1)
    with connection.cursor() as cur:
        # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
        cur.execute(f"SELECT * FROM {facts_load.WINDOWS}")  # nosec B608 - a constant
        rows = sorted(cur.fetchall(), key=str)
    assert len(rows) == n
    return rows
