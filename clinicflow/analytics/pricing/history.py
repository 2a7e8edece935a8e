"""What the what-if planner reads besides the calls panel: net revenue per month by the cohort of the
patients' first visit, the front desk per administrator, and the last months' load per doctor and
room type.

Net revenue is payments less refunds in the panel's currency, by the month of payment on the clock
of the payment's branch (the revenue report's). A patient's cohort is the month of their first visit
that happened (the panel's definition: the first ever, on the clock of that visit's branch), and a
cohort's revenue is the cohort report's (paid k months after, a payment before the first visit's
month at k = 0); the rest of a month's revenue — patients without a first visit in the history —
forms the ``older`` stream. Both from ``whatif_months`` (the owner's facts when built)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
from django.db.models import Count

from clinicflow.acquisition.defaults import tracking_settings
from clinicflow.acquisition.models import Call, CallStatus
from clinicflow.analytics.pricing.capacity import Capacity, capacity
from clinicflow.analytics.pricing.panel import Panel, build_panel
from clinicflow.analytics.reports.acquisition.administrators import administrator_rows
from clinicflow.core.models import Organization


@dataclass
class Admin:
    """One administrator over the last months: unique calls taken, answered, booked, arrived."""

    id: uuid.UUID
    name: str
    unique_calls: int
    answered: int
    booked: int
    arrived: int

    @property
    def conversion(self) -> float:
        """The share of answered unique calls that booked (the simulator's ``conversion``)."""
        return self.booked / self.answered if self.answered else 0.0


@dataclass
class History:
    panel: Panel
    cohort_revenue: np.ndarray  # (cohort month, payment month) in major units
    cohort_size: np.ndarray  # first patients per month (all branches)
    older: np.ndarray  # revenue per month of patients without a first visit in the history
    admins: list[Admin]
    capacity: Capacity
    gross_margin: float

    @property
    def revenue(self) -> np.ndarray:
        out: np.ndarray = self.cohort_revenue.sum(axis=0) + self.older
        return out


def _month(d: dt.date | dt.datetime) -> dt.date:
    return dt.date(d.year, d.month, 1)


def build_history(
    *,
    org: Organization,
    date_from: dt.date,
    date_to: dt.date,
    recent_months: int = 3,
    extras: bool = True,
    facts: bool | None = None,
) -> History:
    """``extras``: also the administrators and the capacity of the last ``recent_months``; ``facts``:
    the first patients and revenue from the owner's facts (None: when they are built)."""
    panel = build_panel(org=org, date_from=date_from, date_to=date_to, facts=facts)
    n = len(panel.months)
    index = {m: i for i, m in enumerate(panel.months)}
    size = np.zeros(n)
    rev = np.zeros((n, n))
    older = np.zeros(n)
    grouped = panel.monthly
    if n and grouped is not None:
        for (_, m), k in grouped.first_visits.items():
            size[index[m]] += k
        cents = [0] * n  # the cohorts' revenue per month of payment, in exact cents
        for (c, j), value in grouped.cohort_cents.items():
            rev[c, j] = value / 100
            cents[j] += value
        for j in range(n):  # the rest of the month's revenue: patients with no first visit in the history
            older[j] = float(grouped.revenue[j] - Decimal(cents[j]) / 100)
    recent_from = panel.months[-recent_months] if n >= recent_months else date_from
    return History(
        panel=panel,
        cohort_revenue=rev,
        cohort_size=size,
        older=older,
        admins=_admins(org, recent_from, date_to) if extras else [],
        capacity=capacity(org, panel.branches, recent_from, date_to, max(min(recent_months, n), 1))
        if extras
        else Capacity(),
        gross_margin=float(tracking_settings(org=org).gross_margin) if extras else 1.0,
    )


def _admins(org: Organization, d0: dt.date, d1: dt.date) -> list[Admin]:
    start = dt.datetime.combine(d0, dt.time.min, tzinfo=dt.UTC)
    end = dt.datetime.combine(d1 + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
    answered = dict(
        Call.objects.for_org(org)
        .filter(
            started_at__gte=start,
            started_at__lt=end,
            is_unique=True,
            administrator__isnull=False,
            status__in=(CallStatus.ANSWERED, CallStatus.COMPLETED),
        )
        .values("administrator_id")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("administrator_id", "n")
    )
    out = []
    for r in administrator_rows(org=org, date_from=d0, date_to=d1):
        aid = uuid.UUID(r["administrator_id"])
        out.append(
            Admin(
                id=aid,
                name=str(r["administrator"]),
                unique_calls=int(r["unique_calls"]),
                answered=int(answered.get(aid, 0)),
                booked=int(r["booked"]),
                arrived=int(r["arrived"]),
            )
        )
    return out


def realised(*, org: Organization, date_from: dt.date, date_to: dt.date) -> list[dict[str, object]]:
    """The figures a forecast predicts, from the real data of whole months ``date_from``..``date_to``
    (the hypothesis log's measured effect; the honesty test's realised figures)."""
    h = build_history(org=org, date_from=date_from, date_to=date_to, extras=False)
    p = h.panel
    rows = []
    for i, m in enumerate(p.months):
        calls = sum(v for (_, _, mm), v in p.calls.items() if mm == m)
        rows.append(
            {
                "month": m.strftime("%Y-%m"),
                "unique_calls": calls,
                "first_visits": int(h.cohort_size[i]),
                "revenue": float(h.revenue[i]),
            }
        )
    return rows
