"""The planner's history grouped by the database (``pricing.grouped``, ``pricing.whatif_months``) equals
Python loops over the raw rows (kept here as the reference) on a simulated clinic whose branches keep
different clocks, with refunds, payments in another currency and a window that starts after the
clinic opened: the monthly unique calls per branch, the first patients per branch (their first ever
visit that happened, counted by the branch of that visit on its clock: the owner's reports'
definition since #18's speed pass; before, a patient's first visit at each branch), the cohorts'
sizes, their net revenue per month of payment and the older patients' revenue (the return visits'
figures: ``test_whatif_return_facts``)."""

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


def reference_calls(org: Organization, panel: Any, d0: dt.date, d1: dt.date) -> dict[Any, int]:
    """The unique calls per branch, channel and month of the branch's local days ``d0``..``d1``, read
    branch by branch."""
    calls: dict[Any, int] = {}
    for b in panel.branches:
        start = dt.datetime.combine(d0, dt.time.min, tzinfo=b.tz)
        end = dt.datetime.combine(d1 + dt.timedelta(days=1), dt.time.min, tzinfo=b.tz)
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
        assert len({b.timezone for b in p.branches}) > 1  # the branches keep two clocks at least
        calls = reference_calls(org, p, p.months[0], END)
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
