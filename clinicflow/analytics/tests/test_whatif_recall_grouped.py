"""The recall campaigns' history grouped by the database (``retention.recall_history`` through
``grouped.recall_contacts`` and ``grouped.recall_revenue``) equals the former row-by-row reading
(kept here as the reference: every contact, and every payment of the patients who booked, read into
Python) on a simulated clinic whose branches keep different clocks, with refunds and payments in
another currency."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pytest

from clinicflow.acquisition.attribution import REFUND
from clinicflow.analytics.pricing.panel import month_range
from clinicflow.analytics.pricing.retention import (
    RECALL_LAGS,
    RECALL_WINDOW_DAYS,
    RECENT_MONTHS,
    recall_history,
)
from clinicflow.analytics.tests.payment_twists import add_refunds_and_euros
from clinicflow.booking.models import Payment
from clinicflow.care.models import RecallContact
from clinicflow.core.models import Branch, Organization
from clinicflow.simulator.runner import simulate_org
from clinicflow.simulator.scenario import load_scenario

END = dt.date(2026, 11, 30)


def _index(months: list[dt.date], when: dt.datetime, tz: Any) -> int:
    local = when.astimezone(tz)
    return (local.year - months[0].year) * 12 + local.month - months[0].month


def reference(org: Organization, months: list[dt.date], tz: Any, end: dt.datetime) -> dict[str, Any]:
    """The campaigns, contacts, response and revenue per contact by lag as read before."""
    start = dt.datetime.combine(months[0], dt.time.min, tzinfo=dt.UTC)
    rows = list(
        RecallContact.objects.for_org(org)
        .filter(contacted_at__gte=start, contacted_at__lt=end)
        .values_list("patient_id", "contacted_at", "booked_at")
    )
    n = len(months)
    month_of = [_index(months, at, tz) for _, at, _ in rows]
    per_month = np.bincount(np.clip(month_of, 0, n - 1), minlength=n)
    campaigns = [int(i) for i in np.flatnonzero(per_month)]
    recent = [c for c in campaigns if c >= n - RECENT_MONTHS] or campaigns
    window = dt.timedelta(days=RECALL_WINDOW_DAYS)
    done = {c for c in recent if months[c] + window + dt.timedelta(days=31) <= end.date()} or set(recent)
    chosen = [r for r, c in zip(rows, month_of, strict=True) if c in done]
    booked = [(p, b, c) for (p, _, b), c in zip(rows, month_of, strict=True) if c in done and b is not None]
    lag = np.zeros(RECALL_LAGS)
    by_patient: dict[Any, list[tuple[dt.datetime, int]]] = {}
    for p, b, c in booked:
        by_patient.setdefault(p, []).append((b, c))
    pays = (
        Payment.objects.for_org(org)
        .filter(patient_id__in=list(by_patient), paid_at__gte=start, paid_at__lt=end, currency="RUB")
        .exclude(kind=REFUND)
        .values_list("patient_id", "paid_at", "amount")
    )
    for p, paid_at, amount in pays:
        for b, c in by_patient[p]:
            if b <= paid_at < b + window:
                k = _index(months, paid_at, tz) - c
                if 0 <= k < RECALL_LAGS:
                    lag[k] += float(amount)
    return {
        "campaigns": campaigns,
        "contacts": float(per_month[recent[-3:]].mean()),
        "response": len(booked) / len(chosen) if chosen else 0.0,
        "lag_value": lag / max(len(chosen), 1),
    }


@pytest.mark.django_db
def test_the_recall_history_grouped_by_the_database_equals_the_contacts_read_one_by_one(org) -> None:
    simulate_org(
        org=org,
        scenario=load_scenario(overrides={"clinic": {"months": 14, "end_date": END.isoformat()}}),
        seed=7,
    )
    add_refunds_and_euros(org, first=60)
    tz = Branch.objects.for_org(org).order_by("name").first().tz  # type: ignore[union-attr]
    months = month_range(dt.date(2025, 12, 1), END)
    end = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    got = recall_history(org=org, months=months, tz=tz, currency="RUB", end=end)
    ref = reference(org, months, tz, end)
    assert got.campaigns == ref["campaigns"] and len(ref["campaigns"]) >= 2
    assert got.contacts == ref["contacts"] > 0
    assert got.response == pytest.approx(ref["response"], abs=1e-12) and 0 < ref["response"] < 1
    np.testing.assert_allclose(got.lag_value, ref["lag_value"], rtol=1e-9, atol=1e-9)
    assert ref["lag_value"].sum() > 0 and got.reach > 0
