"""The load heat map and the hours most often left empty (``capacity_heatmap``, ``capacity_empty_slots``)
read from the load facts' hour rows (``CapacityFact``, issue #17) equal their former computation from
every working window and appointment (``capacity.compute_load``, kept below as the reference), for the
chain and one branch, on a simulated clinic with a branch on New York's clock across its November
change and the other on Novosibirsk's; the reports answer in a bounded number of statements however
long the period, and a cancelled appointment reaches the heat map through the incremental update."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinicflow.analytics.models import FactsChange
from clinicflow.analytics.owner.capload_facts import build_capacity_facts
from clinicflow.analytics.owner.changes import apply_changes
from clinicflow.analytics.reports.base import ReportContext, ratio
from clinicflow.analytics.reports.capacity import compute_empty, compute_heatmap_report, compute_load
from clinicflow.analytics.tests.test_capload_facts import END, two_clock_clinic
from clinicflow.booking.models import Appointment, AppointmentStatus, Weekday
from clinicflow.booking.services import appointment_cancel
from clinicflow.core.models import Branch, Organization
from clinicflow.core.selectors import branch_list

PERIODS = (
    (dt.date(2026, 10, 20), END),
    (dt.date(2026, 11, 1), dt.date(2026, 11, 1)),
    (END - dt.timedelta(days=13), END),
)


def _ctx(org: Organization, branch: Branch | None, d0: dt.date, d1: dt.date) -> ReportContext:
    return ReportContext(org=org, user=None, date_from=d0, date_to=d1, branch=branch, params={})


def _reference(ctx: ReportContext) -> dict[Any, tuple[float, float]]:
    """Per branch and (weekday, hour): available and booked minutes of all doctors, from ``compute_load``."""
    out: dict[Any, tuple[float, float]] = {}
    for branch in [ctx.branch] if ctx.branch is not None else branch_list(org=ctx.org):
        data = compute_load(org=ctx.org, branch=branch, date_from=ctx.date_from, date_to=ctx.date_to)
        for r in data._sum("doctor", lambda obj, d, h: (d.weekday(), h)):
            out[(branch.pk, r["key"])] = (r["available"], r["booked"])
    return out


def _reference_heatmap(cells: dict[Any, tuple[float, float]]) -> list[dict[str, Any]]:
    avail: dict[tuple[int, int], float] = defaultdict(float)
    booked: dict[tuple[int, int], float] = defaultdict(float)
    for (_b, key), (a, b) in cells.items():
        avail[key] += a
        booked[key] += b
    hours = sorted({h for (_w, h) in avail})
    return [
        {"weekday": str(label), **{f"h{h:02d}": ratio(booked[(wd, h)], avail[(wd, h)]) for h in hours}}
        for wd, label in Weekday.choices
    ]


def _reference_empty(cells: dict[Any, tuple[float, float]]) -> dict[tuple[int, int], float]:
    empty: dict[tuple[int, int], float] = defaultdict(float)
    for (_b, key), (a, b) in cells.items():
        empty[key] += max(0.0, a - b)
    return empty


def _check(org: Organization, cases: Any) -> int:
    checked = 0
    labels = dict(Weekday.choices)
    for branch, (d0, d1) in cases:
        ctx = _ctx(org, branch, d0, d1)
        cells = _reference(ctx)  # once for both reports
        got, want = compute_heatmap_report(ctx).rows, _reference_heatmap(cells)
        assert [set(r) for r in got] == [set(r) for r in want]
        for g, w in zip(got, want, strict=True):
            for col, value in w.items():
                if col == "weekday" or value is None:
                    assert g[col] == value, (col, g, w)
                else:
                    assert g[col] == pytest.approx(value, rel=1e-9, abs=1e-12), (col, g, w)
                    checked += 1
        empty = _reference_empty(cells)
        rows = compute_empty(ctx).rows
        assert len(rows) == min(20, len(empty))
        by_slot = {f"{labels[wd]} {h:02d}:00": m for (wd, h), m in empty.items()}
        for r in rows:
            assert r["empty_hours"] == pytest.approx(round(by_slot[r["slot"]] / 60, 2), abs=0.011), r
        ranked = sorted(empty.values(), reverse=True)[: len(rows)]
        assert [r["empty_hours"] for r in rows] == pytest.approx(
            [round(m / 60, 2) for m in ranked], abs=0.011
        )
    return checked


@pytest.fixture
def clinic(org: Organization) -> tuple[Organization, Branch]:
    ny = two_clock_clinic(org, seed=5)
    build_capacity_facts(org)  # as the full rebuild does
    FactsChange.objects.for_org(org).delete()
    return org, ny


@pytest.mark.django_db
def test_heatmap_and_empty_slots_on_facts_equal_the_former_computation(clinic) -> None:
    org, ny = clinic
    assert _check(org, [(b, p) for p in PERIODS for b in (None, ny)]) > 100
    ctx = _ctx(org, None, END - dt.timedelta(days=59), END)
    for compute in (compute_heatmap_report, compute_empty):
        with CaptureQueriesContext(connection) as q:
            compute(ctx)
        assert len(q) <= 3, [x["sql"] for x in q.captured_queries]  # branches, facts' last day, hour rows
    # a cancelled appointment reaches the heat map through the incremental update (on the other branch:
    # New York's appointments were booked on the former clock, outside its working hours now)
    other = Branch.objects.for_org(org).exclude(pk=ny.pk).order_by("name").first()
    assert other is not None
    booked = list(
        Appointment.objects.for_org(org)
        .filter(
            branch=other, status=AppointmentStatus.BOOKED, start_at__date__gte=END - dt.timedelta(days=10)
        )
        .order_by("start_at")[:6]
    )
    assert booked
    _check(org, [(other, (END - dt.timedelta(days=13), END + dt.timedelta(days=30)))])
    before = compute_heatmap_report(
        _ctx(org, other, END - dt.timedelta(days=13), END + dt.timedelta(days=30))
    ).rows
    for a in booked:
        appointment_cancel(org=org, actor=None, appointment=a, reason="test")
    while apply_changes(org).changes:
        pass
    after = compute_heatmap_report(
        _ctx(org, other, END - dt.timedelta(days=13), END + dt.timedelta(days=30))
    ).rows
    assert after != before
    _check(org, [(other, (END - dt.timedelta(days=13), END + dt.timedelta(days=30)))])
