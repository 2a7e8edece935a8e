"""A doctor's ``hours_share`` in ``[[changes]]`` reaches the written schedule (issue #18): from the
change's month the doctor's working days carry ``open`` schedule exceptions with the hours kept, so
the load report's available minutes are the minutes the engine could book, and its load stays at
most 100%."""

from __future__ import annotations

import datetime as dt

import pytest

from clinicflow.analytics.reports.capacity import compute_load
from clinicflow.booking.models import Doctor, ScheduleException, WorkingHours
from clinicflow.core.models import Branch
from clinicflow.core.services import organization_create
from clinicflow.simulator.runner import simulate_org
from clinicflow.simulator.scenario import load_scenario

END = dt.date(2026, 4, 30)
CLINIC = {"months": 4, "end_date": END.isoformat(), "demand_factor": 1.2}
CHANGE = 2  # 2026-03


def _doctor_row(org, names: tuple[str, str]) -> Doctor:  # type: ignore[no-untyped-def]
    for d in Doctor.objects.for_org(org):
        if any(n and n in d.full_name for n in names):
            return d
    raise AssertionError(f"no doctor {names}")


@pytest.mark.django_db
def test_the_shorter_hours_are_written_and_the_load_report_counts_them() -> None:
    org = organization_create(name="Hours", slug="hours-cut", country="RU", currency="RUB")
    scn0 = load_scenario("mid", overrides={"clinic": CLINIC})
    doc = scn0.doctors[0]
    scn = load_scenario(
        "mid",
        overrides={
            "clinic": CLINIC,
            "changes": [{"month": CHANGE, "set": {f"doctors.{doc.name_en}.hours_share": 0.5}}],
        },
    )
    simulate_org(org=org, scenario=scn, seed=3)
    row = _doctor_row(org, (doc.name, doc.name_en))
    weekly = list(WorkingHours.objects.for_org(org).filter(doctor=row))
    assert weekly
    shift = {
        h.weekday: (h.end_time.hour * 60 + h.end_time.minute) - (h.start_time.hour * 60 + h.start_time.minute)
        for h in weekly
    }
    rows = list(ScheduleException.objects.for_org(org).filter(doctor=row).order_by("date"))
    assert rows and rows[0].date >= dt.date(2026, 3, 1)
    assert {r.kind for r in rows} == {"open"}
    assert all(r.date.weekday() in shift for r in rows)  # only on the doctor's working days
    for r in rows:
        assert r.start_time is not None and r.end_time is not None
        kept = (r.end_time.hour * 60 + r.end_time.minute) - (r.start_time.hour * 60 + r.start_time.minute)
        assert kept == round(shift[r.date.weekday()] * 0.5)
    assert ScheduleException.objects.for_org(org).exclude(doctor=row).count() == 0
    branch = Branch.objects.for_org(org).get(slug=doc.branch)
    after = {
        r["key"]: r
        for r in compute_load(org=org, branch=branch, date_from=dt.date(2026, 3, 1), date_to=END).by_doctor()
    }[row.pk]
    assert after["available"] == pytest.approx(
        sum(round(shift[r.date.weekday()] * 0.5) for r in rows if r.date <= END)
    )
    # the engine booked (almost) nothing past the kept hours: a few visits were booked before the change
    assert after["booked"] <= after["available"] * 1.05
