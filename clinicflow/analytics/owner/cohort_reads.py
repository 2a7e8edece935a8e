"""The cohort matrix and the balanced doctor read from the cohort facts (``CohortFact``,
``FirstDoctorFact``, built by ``owner.cohort_facts``): ``grouped.cohort_cells`` and
``grouped.doctor_firsts`` of the first patients of some local days. The rows are summed; a payment before
the first visit's month (k < 0) counts at k = 0."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.db.models import QuerySet, Sum

from clinicflow.analytics.models import CohortFact, FirstDoctorFact
from clinicflow.analytics.owner.grouped import CohortCells, DoctorFirsts
from clinicflow.core.models import Branch, Organization


def _scoped(qs: QuerySet[Any], d0: dt.date, d1: dt.date, branch: Branch | None) -> QuerySet[Any]:
    qs = qs.filter(day__gte=d0, day__lte=d1)
    return qs.filter(branch=branch) if branch is not None else qs


def cohort_cells_facts(
    *, org: Organization, d0: dt.date, d1: dt.date, branch: Branch | None, currency: str, months: int
) -> CohortCells:
    """``grouped.cohort_cells`` of the first patients of the local days ``d0``..``d1`` from the facts."""
    qs = _scoped(CohortFact.objects.for_org(org), d0, d1, branch).filter(
        k__lte=months, currency__in=["", currency]
    )
    out = CohortCells(patients={}, active={}, revenue={})
    rows = qs.order_by().values("cohort", "k").annotate(n=Sum("patients"), a=Sum("active"), c=Sum("cents"))
    for r in rows:
        month, k = int(r["cohort"]), int(r["k"])
        if k == 0 and r["n"]:
            out.patients[month] = int(r["n"])
        if k >= 1 and r["a"]:
            out.active[(month, k)] = int(r["a"])
        if r["c"]:  # paid before the first visit's month: at 0
            cell = (month, max(k, 0))
            out.revenue[cell] = out.revenue.get(cell, 0) + int(r["c"])
    out.revenue = {cell: c for cell, c in out.revenue.items() if c}
    return out


def doctor_firsts_facts(
    *, org: Organization, d0: dt.date, d1: dt.date, branch: Branch | None, currency: str
) -> dict[uuid.UUID, DoctorFirsts]:
    """``grouped.doctor_firsts`` of the first patients of the local days ``d0``..``d1`` from the facts."""
    qs = _scoped(FirstDoctorFact.objects.for_org(org), d0, d1, branch).filter(currency__in=["", currency])
    rows = qs.order_by().values("doctor_id").annotate(n=Sum("patients"), v=Sum("visits"), c=Sum("cents"))
    return {
        r["doctor_id"]: DoctorFirsts(
            patients=int(r["n"] or 0), visits=int(r["v"] or 0), cents=int(r["c"] or 0)
        )
        for r in rows
        if r["n"]
    }
