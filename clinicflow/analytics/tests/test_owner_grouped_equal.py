"""The cohort matrix and the balanced doctor grouped by the database (``owner.grouped``) equal the
former Python loops over ``owner.patients.first_patients`` (kept here as the reference), for the chain
and each branch (each on its own clock), with refunds and a payment in another currency — as the reports
now read them, from the daily cohort facts (``owner.cohort_facts``: the branches' local days, which
equal the chain's UTC days here: the clinic's hours do not cross midnight UTC)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest

import clinicflow.analytics.reports.owner  # noqa: F401 - registers the owner's reports
from clinicflow.analytics.owner.fact_hooks import build_owner_facts
from clinicflow.analytics.owner.patients import first_patients
from clinicflow.analytics.reports.base import build_context, get_report, run_report
from clinicflow.analytics.reports.owner.cohorts import MONTHS, REVENUE_AT
from clinicflow.analytics.tests.payment_twists import add_refunds_and_euros
from clinicflow.core.models import Organization
from clinicflow.core.selectors import branch_list
from clinicflow.simulator.runner import simulate_org
from clinicflow.simulator.scenario import load_scenario


def _month(d: dt.datetime) -> int:
    return d.year * 12 + d.month - 1


def reference_cohorts(ctx: Any) -> list[dict[str, Any]]:
    """The cohort rows as computed before the grouping moved into the database."""
    lines = first_patients(
        org=ctx.org, start=ctx.start_utc(), end=ctx.end_utc(), branch=ctx.branch, currency=ctx.currency
    )
    tz = ctx.branch.tz if ctx.branch is not None else dt.UTC
    cohorts: dict[int, list[Any]] = defaultdict(list)
    for line in lines.values():
        cohorts[_month(line.first_at.astimezone(tz))].append(line)
    rows: list[dict[str, Any]] = []
    for month in sorted(cohorts):
        members = cohorts[month]
        row: dict[str, Any] = {"cohort": f"{month // 12:04d}-{month % 12 + 1:02d}", "patients": len(members)}
        active: dict[int, int] = defaultdict(int)
        revenue: dict[int, Decimal] = defaultdict(Decimal)
        for line in members:
            for k in {_month(v.astimezone(tz)) - month for v in line.visits}:
                active[k] += 1
            for at, amount in line.payments:
                revenue[max(0, _month(at.astimezone(tz)) - month)] += amount
        for k in range(1, MONTHS + 1):
            row[f"m{k}"] = active.get(k, 0) / len(members)
        cumulative = Decimal(0)
        for k in range(0, max(REVENUE_AT) + 1):
            cumulative += revenue.get(k, Decimal(0))
            if k in REVENUE_AT:
                row[f"rev{k}"] = (cumulative / len(members)).quantize(Decimal("0.01"))
        rows.append(row)
    return rows


def reference_doctors(ctx: Any) -> dict[str, tuple[int, Decimal, float]]:
    """Per doctor name: first patients, value per first patient, repeat visits per first patient."""
    from clinicflow.booking.models import Doctor

    lines = first_patients(
        org=ctx.org, start=ctx.start_utc(), end=ctx.end_utc(), branch=ctx.branch, currency=ctx.currency
    )
    per: dict[Any, list[Any]] = defaultdict(list)
    for line in lines.values():
        if line.first_doctor is not None:
            per[line.first_doctor].append(line)
    names = dict(Doctor.objects.for_org(ctx.org).values_list("pk", "full_name"))
    out = {}
    for doctor, members in per.items():
        n = len(members)
        revenue = sum((m.revenue() for m in members), Decimal(0))
        out[names[doctor]] = (
            n,
            (revenue / n).quantize(Decimal("0.01")),
            round(sum(len(m.visits) - 1 for m in members) / n, 2),
        )
    return out


@pytest.fixture
def clinic(org: Organization) -> tuple[Organization, dt.date, dt.date]:
    result = simulate_org(
        org=org,
        scenario=load_scenario(overrides={"clinic": {"months": 6, "end_date": "2026-11-30"}}),
        seed=11,
    )
    add_refunds_and_euros(org, first=40)  # refunds a month later, payments in another currency
    build_owner_facts(org)  # the reports read the daily cohort facts (#17)
    return (
        org,
        dt.date.fromisoformat(result.truth["start_date"]),
        dt.date.fromisoformat(result.truth["end_date"]),
    )


def _contexts(org: Organization, name: str, d0: dt.date, d1: dt.date) -> list[Any]:
    spec = get_report(name)
    ctxs = []
    for branch in [None, *branch_list(org=org)]:
        # the whole span, and a window that starts and ends mid-month
        for a, b in ((d0, d1), (d0 + dt.timedelta(days=40), d1 - dt.timedelta(days=20))):
            query = {"from": a.isoformat(), "to": b.isoformat()}
            if branch is not None:
                query["branch"] = str(branch.pk)
            ctxs.append(build_context(spec, org=org, user=None, query=query))
    return ctxs


@pytest.mark.django_db
def test_cohorts_grouped_by_the_database_equal_the_python_loops(clinic) -> None:
    org, d0, d1 = clinic
    seen = 0
    for ctx in _contexts(org, "cohorts", d0, d1):
        rows = run_report(get_report("cohorts"), ctx).rows
        expected = reference_cohorts(ctx)
        assert [r["cohort"] for r in rows] == [r["cohort"] for r in expected]
        for got, want in zip(rows, expected, strict=True):
            assert got["patients"] == want["patients"]
            for k in REVENUE_AT:
                assert Decimal(str(got[f"rev{k}"])) == want[f"rev{k}"], (ctx.branch, got["cohort"], k)
            for k in range(1, MONTHS + 1):
                assert got[f"m{k}"] == pytest.approx(want[f"m{k}"], abs=1e-12)
        seen += sum(r["patients"] for r in rows)
    assert seen > 100


@pytest.mark.django_db
def test_balanced_doctor_grouped_by_the_database_equals_the_python_loops(clinic) -> None:
    org, d0, d1 = clinic
    seen = 0
    for ctx in _contexts(org, "doctors_balanced", d0, d1):
        rows = run_report(get_report("doctors_balanced"), ctx).rows
        got = {
            r["name"]: (r["first_patients"], Decimal(str(r["value_per_patient"])), r["repeat_visits"])
            for r in rows
        }
        assert got == reference_doctors(ctx)
        seen += len(got)
    assert seen > 4


@pytest.mark.django_db
def test_patient_profile_counted_per_cell_equals_one_fraction_per_patient(clinic) -> None:
    from fractions import Fraction

    from clinicflow.analytics.reports.acquisition.first_patients import credited_first_patients
    from clinicflow.analytics.reports.base import period_bounds
    from clinicflow.analytics.reports.profile import SEXES, band_of, profile_counts

    org, d0, d1 = clinic
    for branch in [None, *branch_list(org=org)]:
        for model in ("last_non_direct", "linear"):
            start, end = period_bounds(d0, d1, branch)
            expected: dict[Any, dict[str, dict[str, Fraction]]] = defaultdict(
                lambda: defaultdict(lambda: defaultdict(Fraction))
            )
            for channel, den, sex, born, at in credited_first_patients(
                org=org, start=start, end=end, branch=branch, model=model
            ):
                expected[channel][band_of(born, at.date())][SEXES.get(sex, "unknown_sex")] += Fraction(1, den)
            got = profile_counts(org=org, start=start, end=end, branch=branch, model=model)
            assert got == expected and sum(sum(c.values()) for b in got.values() for c in b.values()) > 10
