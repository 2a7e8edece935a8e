"""The capacity load report read from the load facts (``CapacityFact``, issue #17) equals the former
computation from every working window and appointment (``capacity.compute_load`` and the report's
former body, kept below as the reference) at every level, for the chain and one branch, on a
simulated clinic with a branch on New York's clock across its November change (an ``open`` exception
across the repeated hour), a closed day, closed hours, a room closed for a day and for some hours, and
the other branch on Novosibirsk's clock; after a full rebuild and after appointments cancelled and
moved reach the facts through the incremental update. On PostgreSQL the set-based build also equals
the Python build row for row."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.db.models import Max, Min
from django.test.utils import CaptureQueriesContext
from django.utils.translation import gettext_lazy as _

from clinicflow.analytics.models import DayFact, FactsChange
from clinicflow.analytics.owner.capload_facts import build_capacity_facts
from clinicflow.analytics.owner.capload_models import DAY, CapacityFact
from clinicflow.analytics.owner.changes import affected_days, apply_changes
from clinicflow.analytics.owner.facts import rebuild
from clinicflow.analytics.reports.base import ReportContext, ReportResult, ratio
from clinicflow.analytics.reports.capacity import compute_load, compute_load_report
from clinicflow.booking.models import (
    HOLDING_STATUSES,
    Appointment,
    AppointmentStatus,
    DoctorBranch,
    Room,
    ScheduleBreak,
    ScheduleException,
    WorkingHours,
)
from clinicflow.booking.services import appointment_cancel
from clinicflow.core.models import Branch, Organization
from clinicflow.core.selectors import branch_list
from clinicflow.simulator.runner import simulate_org
from clinicflow.simulator.scenario import load_scenario

END = dt.date(2026, 11, 30)
NIGHT = dt.date(2026, 11, 1)  # New York: 01:00-02:00 twice
LEVELS = ("doctor", "room", "branch", "day", "hour", "other")


def _hours(minutes: float) -> float:
    return round(minutes / 60, 2)


def reference_report(ctx: ReportContext) -> ReportResult:
    """The report's former body: every branch's ``compute_load`` summed in Python."""
    level = ctx.params.get("by", "doctor")
    rows: list[dict[str, Any]] = []
    total_a = total_b = 0.0
    branches = [ctx.branch] if ctx.branch is not None else branch_list(org=ctx.org)
    for branch in branches:
        data = compute_load(org=ctx.org, branch=branch, date_from=ctx.date_from, date_to=ctx.date_to)
        if level == "branch":
            items = [{**data.total(), "name": branch.display_name}]
        elif level == "day":
            items = [
                {**r, "name": f"{branch.display_name} {r['key'].isoformat()}"}
                for r in data._sum("doctor", lambda obj, d, h: d)
            ]
        elif level == "hour":
            items = [
                {**r, "name": f"{branch.display_name} {r['key'][0].isoformat()} {r['key'][1]:02d}:00"}
                for r in data._sum("doctor", lambda obj, d, h: (d, h))
            ]
        else:
            items = [
                {**r, "name": f"{r['name']} ({branch.display_name})"}
                for r in (data.by_doctor() if level == "doctor" else data.by_room())
            ]
        for r in items:
            total_a += r["available"]
            total_b += r["booked"]
            rows.append(
                {
                    "name": r["name"],
                    "available_h": _hours(r["available"]),
                    "booked_h": _hours(r["booked"]),
                    "load": r["load"],
                }
            )
    totals = {
        "name": str(_("Total")),
        "available_h": _hours(total_a),
        "booked_h": _hours(total_b),
        "load": ratio(total_b, total_a),
    }
    return ReportResult(rows=rows, totals=totals if rows else None)


def _same(got: ReportResult, want: ReportResult) -> None:
    assert [r["name"] for r in got.rows] == [r["name"] for r in want.rows]
    for g, w in zip([*got.rows, got.totals], [*want.rows, want.totals], strict=True):
        if w is None:
            assert g is None
            continue
        assert g is not None
        assert g["available_h"] == pytest.approx(w["available_h"], abs=0.011), (g, w)
        assert g["booked_h"] == pytest.approx(w["booked_h"], abs=0.011), (g, w)
        assert (g["load"] is None) == (w["load"] is None), (g, w)
        if w["load"] is not None:
            assert g["load"] == pytest.approx(w["load"], rel=1e-9, abs=1e-12), (g, w)


def _ctx(org: Organization, branch: Branch | None, level: str, d0: dt.date, d1: dt.date) -> ReportContext:
    return ReportContext(org=org, user=None, date_from=d0, date_to=d1, branch=branch, params={"by": level})


def _all_equal(org: Organization, ny: Branch) -> int:
    checked = 0
    for d0, d1 in ((dt.date(2026, 10, 20), END), (NIGHT, NIGHT), (END - dt.timedelta(days=13), END)):
        for branch in (None, ny):
            for level in LEVELS:
                want = reference_report(_ctx(org, branch, level, d0, d1))
                _same(compute_load_report(_ctx(org, branch, level, d0, d1)), want)
                checked += len(want.rows)
    return checked


def _facts(org: Organization) -> list[tuple[Any, ...]]:
    rows = CapacityFact.objects.for_org(org).values_list(
        "branch_id", "day", "hour", "doctor_id", "room_id", "available_seconds", "booked_seconds"
    )
    return sorted(((*r[:5], round(r[5], 3), round(r[6], 3)) for r in rows), key=str)


def two_clock_clinic(org: Organization, seed: int) -> Branch:
    """Two simulated months to ``END``; the first branch moved to New York's clock (across its November
    change), the other left on Novosibirsk's. Returns the New York branch."""
    simulate_org(
        org=org,
        scenario=load_scenario(overrides={"clinic": {"months": 2, "end_date": END.isoformat()}}),
        seed=seed,
    )
    ny = Branch.objects.for_org(org).order_by("name").first()
    assert ny is not None
    Branch.objects.filter(pk=ny.pk).update(timezone="America/New_York")
    ny.refresh_from_db()
    return ny


@pytest.fixture
def clinic(org: Organization) -> tuple[Organization, Branch]:
    ny = two_clock_clinic(org, seed=3)
    assert Branch.objects.for_org(org).exclude(pk=ny.pk).exclude(timezone="America/New_York").exists()
    links = list(DoctorBranch.objects.for_org(org).filter(branch=ny).order_by("doctor_id")[:2])
    first, second = links[0].doctor_id, links[1].doctor_id
    room = Room.objects.for_org(org).filter(branch=ny, is_active=True).order_by("name").first()
    assert room is not None

    def exception(day: dt.date, kind: str, t0: Any = None, t1: Any = None, **who: Any) -> None:
        ScheduleException.objects.create(
            organization=org, branch=ny, date=day, kind=kind, start_time=t0, end_time=t1, **who
        )

    exception(NIGHT, "open", dt.time(0, 30), dt.time(3, 0), doctor_id=first)  # across the repeated hour
    exception(END - dt.timedelta(days=11), "closed", doctor_id=first)  # a closed day
    exception(END - dt.timedelta(days=12), "closed", dt.time(10, 0), dt.time(12, 30), doctor_id=second)
    exception(END - dt.timedelta(days=5), "closed", room=room)  # the room closed for a day
    exception(END - dt.timedelta(days=6), "closed", dt.time(11, 0), dt.time(15, 0), room=room)
    build_capacity_facts(org)  # as the full rebuild does (``fact_hooks.build_owner_facts``)
    FactsChange.objects.for_org(org).delete()
    return org, ny


@pytest.mark.django_db
def test_the_load_report_on_facts_equals_the_former_computation(clinic) -> None:
    org, ny = clinic
    facts = CapacityFact.objects.for_org(org)
    assert facts.filter(branch_id=ny.pk, day=NIGHT, hour=1).exists()
    # the grain: day rows per doctor and per room, hour rows per branch (its doctors' sums)
    hours = facts.filter(hour__gte=0)
    assert not hours.filter(doctor_id__isnull=False).exists() and not hours.filter(room_id__isnull=False)
    assert not facts.filter(hour=DAY, doctor_id__isnull=True, room_id__isnull=True).exists()
    days = facts.filter(hour=DAY, doctor_id__isnull=False).values_list("available_seconds", flat=True)
    assert sum(days) == pytest.approx(sum(hours.values_list("available_seconds", flat=True)))
    assert _all_equal(org, ny) > 100
    with CaptureQueriesContext(connection) as q:
        compute_load_report(_ctx(org, None, "doctor", END - dt.timedelta(days=27), END))
    assert len(q) <= 4  # branches, the facts' last day, facts, names
    if connection.vendor == "postgresql":  # the set-based build equals the Python one
        built = _facts(org)
        build_capacity_facts(org, sql=False)
        assert _facts(org) == built
    # appointments cancelled and moved reach the facts through the incremental update
    live = list(
        Appointment.objects.for_org(org)
        .filter(status__in=HOLDING_STATUSES, start_at__date__gte=END - dt.timedelta(days=20))
        .order_by("start_at")[:40]
    )
    open_ = Appointment.objects.for_org(org).filter(
        status__in=[AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED]
    )
    cancelled = list(open_.order_by("start_at")[:5])
    assert cancelled
    for a in cancelled:
        appointment_cancel(org=org, actor=None, appointment=a, reason="test")
    for a in live[21:40:4]:
        a.start_at += dt.timedelta(days=1, minutes=30)
        a.end_at += dt.timedelta(days=1, minutes=30)
        a.busy_until += dt.timedelta(days=1, minutes=30)
        a.save()
    changes = list(FactsChange.objects.for_org(org))
    assert changes
    days, firsts = affected_days(org, changes)  # as the incremental update (``changes.apply_changes``)
    build_capacity_facts(org, days | firsts)
    assert _all_equal(org, ny) > 100
    incremental = _facts(org)
    build_capacity_facts(org)
    assert _facts(org) == incremental


def _load_days(org: Organization) -> list[tuple[Any, ...]]:
    return sorted(
        DayFact.objects.for_org(org)
        .filter(available_seconds__gt=0)
        .values_list("branch_id", "day", "available_seconds", "booked_seconds"),
        key=str,
    )


@pytest.mark.django_db
def test_edits_of_working_hours_exceptions_and_closures_reach_the_load_facts(clinic) -> None:
    org, ny = clinic
    rebuild(org)  # the day facts too: the owner home's load tile counts the same windows
    FactsChange.objects.for_org(org).delete()
    hours = WorkingHours.objects.for_org(org).filter(branch=ny).order_by("doctor_id", "weekday").first()
    assert hours is not None
    hours.end_time = dt.time(hours.end_time.hour - 1, hours.end_time.minute)  # a shorter weekly shift
    hours.save()
    pause = ScheduleBreak.objects.create(  # a weekly lunch break, another weekday
        organization=org, branch=ny, doctor_id=hours.doctor_id, weekday=(hours.weekday + 1) % 7,
        start_time=dt.time(12, 0), end_time=dt.time(13, 0),
    )  # fmt: skip
    closed_day = ScheduleException.objects.for_org(org).get(date=END - dt.timedelta(days=11))
    closed_day.date = END - dt.timedelta(days=9)  # a day off moved
    closed_day.save()
    room_closed = ScheduleException.objects.for_org(org).get(
        room__isnull=False, date=END - dt.timedelta(days=5)
    )
    room_closed.delete()  # a room's closure withdrawn
    link = DoctorBranch.objects.for_org(org).filter(branch=ny).order_by("doctor_id")[2]
    ScheduleException.objects.create(  # a doctor's closed hours and a room's new closure
        organization=org, branch=ny, doctor_id=link.doctor_id, date=END - dt.timedelta(days=3),
        kind="closed", start_time=dt.time(9, 0), end_time=dt.time(13, 0),
    )  # fmt: skip
    room = Room.objects.for_org(org).get(pk=room_closed.room_id)
    ScheduleException.objects.create(
        organization=org, branch=ny, room=room, date=END - dt.timedelta(days=2), kind="closed"
    )
    unchanged = ScheduleException.objects.for_org(org).get(date=END - dt.timedelta(days=12))
    unchanged.save()  # saved as it was: nothing to follow
    first, last = DayFact.objects.for_org(org).aggregate(a=Min("day"), b=Max("day")).values()
    span = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    on_hours = {d for d in span if d.weekday() == hours.weekday}
    on_break = {d for d in span if d.weekday() == pause.weekday}
    dated = {END - dt.timedelta(days=n) for n in (11, 9, 5, 3, 2)}
    recorded = [(c.branch_id, c.at.astimezone(ny.tz).date()) for c in FactsChange.objects.for_org(org)]
    assert set(recorded) == {(ny.pk, d) for d in on_hours | on_break | dated}
    assert len(recorded) == len(on_hours) + len(on_break) + len(dated)  # none for the unchanged save
    while apply_changes(org).changes:
        pass
    assert _all_equal(org, ny) > 100  # the report on the updated facts: the former computation's
    incremental, load = _facts(org), _load_days(org)
    rebuild(org)
    assert _facts(org) == incremental and _load_days(org) == load
