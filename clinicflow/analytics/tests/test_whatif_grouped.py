"""The planner's history grouped by the database (``pricing.grouped``, ``pricing.whatif_months``) equals
Python loops over the raw rows (kept here as the reference) on a simulated clinic whose branches keep
different clocks, with refunds, payments in another currency and a window that starts after the
clinic opened: the monthly unique calls per branch, the first patients per branch (their first ever
visit that happened, counted by the branch of that visit on its clock: the owner's reports'
definition since #18's speed pass; before, a patient's first visit at each branch), the cohorts'
sizes, their net revenue per month of payment and the older patients' revenue; and the return
episodes' figures (``retention.repeat_history``) equal the row-by-row computation."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from typing import Any

import numpy as np
import pytest
from django.db.models import Count
from django.db.models.functions import TruncMonth

from clinicflow.acquisition.attribution import HAPPENED, REFUND
from clinicflow.acquisition.models import Call
from clinicflow.analytics.pricing.grouped import GAP_EDGES, TAIL_DAYS, return_links
from clinicflow.analytics.pricing.history import build_history
from clinicflow.analytics.pricing.panel import build_panel
from clinicflow.analytics.tests.payment_twists import add_refunds_and_euros
from clinicflow.booking.models import Appointment, Payment
from clinicflow.core.models import Branch, Organization
from clinicflow.simulator.runner import simulate_org
from clinicflow.simulator.scenario import load_scenario

END = dt.date(2026, 11, 30)


def _month(d: dt.date | dt.datetime) -> dt.date:
    return dt.date(d.year, d.month, 1)


def reference_calls(org: Organization, panel: Any, start: dt.datetime, end: dt.datetime) -> dict[Any, int]:
    """The unique calls per branch, channel and month as read before they were grouped per time zone."""
    calls: dict[Any, int] = {}
    for b in panel.branches:
        rows = (
            Call.objects.for_org(org)
            .filter(
                branch=b, is_unique=True, started_at__gte=start, started_at__lt=end, channel__isnull=False
            )
            .annotate(m=TruncMonth("started_at", tzinfo=b.tz))
            .values("m", "channel_id")
            .annotate(n=Count("id"))
            .order_by()
        )
        for row in rows:
            calls[(b.pk, row["channel_id"], _month(row["m"]))] = row["n"]
    return calls


def reference_cohorts(
    org: Organization, months: list[dt.date], d1: dt.date, currency: str
) -> tuple[dict[Any, int], np.ndarray, np.ndarray, np.ndarray]:
    """Row by row: per patient the first visit that happened and the branches with a visit that
    happened then (each counts the patient on its local day), their payments on that branch's clock
    (before the first visit's month: at its month), and every payment on its own branch's clock."""
    n = len(months)
    index = {m: i for i, m in enumerate(months)}
    zones = {b.pk: b.tz for b in Branch.objects.for_org(org)}
    visits = Appointment.objects.for_org(org).filter(status__in=HAPPENED)
    first: dict[uuid.UUID, dt.datetime] = {}
    for patient, at in visits.values_list("patient_id", "start_at"):
        if patient not in first or at < first[patient]:
            first[patient] = at
    firsts_by: dict[Any, int] = defaultdict(int)
    cohort_of: dict[uuid.UUID, list[tuple[int, Any]]] = defaultdict(list)
    for patient, at, branch in set(visits.values_list("patient_id", "start_at", "branch_id")):
        day = at.astimezone(zones[branch]).date()
        if at == first[patient] and months[0] <= day <= d1:
            firsts_by[(branch, _month(day))] += 1
            cohort_of[patient].append((index[_month(day)], zones[branch]))
    size = np.zeros(n)
    for (_, m), k in firsts_by.items():
        size[index[m]] += k
    rev, total = np.zeros((n, n)), np.zeros(n)
    pays = Payment.objects.for_org(org).filter(currency=currency)
    for patient, branch, paid_at, kind, amount in pays.values_list(
        "patient_id", "branch_id", "paid_at", "kind", "amount"
    ):
        net = float(-amount if kind == REFUND else amount)
        day = paid_at.astimezone(zones[branch]).date()
        if months[0] <= day <= d1:
            total[index[_month(day)]] += net
        for c, tz in cohort_of.get(patient, []):
            m = _month(paid_at.astimezone(tz))
            j = max(index.get(m, c if m < months[c] else n), c)
            if j < n:
                rev[c, j] += net
    return dict(firsts_by), size, rev, total - rev.sum(axis=0)


@pytest.fixture
def clinic(org: Organization) -> Organization:
    simulate_org(
        org=org,
        scenario=load_scenario(overrides={"clinic": {"months": 8, "end_date": END.isoformat()}}),
        seed=7,
    )
    add_refunds_and_euros(org, first=60)  # refunds a month later, payments in another currency
    return org


@pytest.mark.django_db
def test_the_history_grouped_by_the_database_equals_the_python_loops(clinic) -> None:
    org = clinic
    checked = 0
    # the whole span, and a window that starts after the clinic opened (older patients' revenue)
    for d0 in (dt.date(2026, 4, 1), dt.date(2026, 7, 1)):
        h = build_history(org=org, date_from=d0, date_to=END, extras=False)
        p = h.panel
        assert p.monthly is not None and not p.monthly.facts  # no facts built: the raw statement
        start = dt.datetime.combine(p.months[0], dt.time.min, tzinfo=dt.UTC)
        end = dt.datetime.combine(END + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
        assert len({b.timezone for b in p.branches}) > 1  # the branches keep two clocks at least
        calls = reference_calls(org, p, start, end)
        assert p.calls == calls and sum(calls.values()) > 0
        firsts, size, rev, older = reference_cohorts(org, p.months, END, p.currency)
        assert p.first_visits == firsts and sum(firsts.values()) > 0
        assert np.array_equal(h.cohort_size, size) and size.sum() > 0
        np.testing.assert_allclose(h.cohort_revenue, rev, rtol=0, atol=1e-6)
        np.testing.assert_allclose(h.older, older, rtol=0, atol=1e-6)
        assert rev.sum() > 0 and (older.sum() > 0 or d0 < dt.date(2026, 7, 1))
        assert build_panel(org=org, date_from=d0, date_to=END).first_visits == firsts
        checked += 1
    assert checked == 2


def reference_links(
    org: Organization,
    since: dt.datetime,
    lookback: dt.timedelta,
    recent: dt.datetime,
    end: dt.datetime,
    tz: Any,
) -> tuple[dict[tuple[dt.date, tuple[int, ...]], float], list[int]]:
    """``grouped.return_links`` visit by visit in Python."""
    visits = sorted(
        Appointment.objects.for_org(org)
        .filter(status__in=HAPPENED, start_at__gte=recent - lookback, start_at__lt=end, currency="RUB")
        .values_list("patient_id", "start_at", "price"),
        key=lambda r: (str(r[0]), r[1]),
    )
    groups: dict[tuple[dt.date, tuple[int, ...]], float] = defaultdict(float)
    bins = [0] * (len(GAP_EDGES) + 2)
    counts = [0] * len(GAP_EDGES)
    prev: tuple[Any, dt.datetime] | None = None
    for patient, at, price in visits:
        if prev is None or prev[0] != patient:
            counts, gap = [0] * len(GAP_EDGES), None
        else:
            gap = (at - prev[1]).total_seconds() / 86400
        k = 0 if gap is None else sum(gap >= d for d in GAP_EDGES)
        if gap is not None and prev is not None and prev[1] >= since and k:
            counts[k - 1] += 1
        if at >= recent and gap is not None:
            bins[len(GAP_EDGES) + 1 if GAP_EDGES[-1] <= gap < TAIL_DAYS else k] += 1
        if at >= since:
            groups[(_month(at.astimezone(tz)), tuple(counts))] += float(price)
        prev = (patient, at)
    return dict(groups), bins


@pytest.mark.django_db
def test_the_return_links_grouped_by_the_database_equal_the_visits_read_one_by_one(clinic) -> None:
    org = clinic
    tz = Branch.objects.for_org(org).order_by("name").first().tz  # type: ignore[union-attr]
    since = dt.datetime(2026, 8, 1, tzinfo=dt.UTC)
    recent = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    end = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    lookback = dt.timedelta(days=90)
    rows, bins = return_links(
        org=org, since=since, lookback=lookback, recent=recent, end=end, tz=tz, currency="RUB"
    )
    groups, ref_bins = reference_links(org, since, lookback, recent, end, tz)
    got: dict[tuple[dt.date, tuple[int, ...]], float] = defaultdict(float)
    for m, c, price in rows:
        got[(m, c)] += price
    assert got.keys() == groups.keys()
    for key, value in groups.items():
        assert got[key] == pytest.approx(value, abs=1e-6)
    assert bins == ref_bins
    # returns after the change and a patient reached through two of them or more
    assert any(sum(c) >= 2 for _, c in groups) and sum(ref_bins[1:]) > 0
