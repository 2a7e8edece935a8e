"""The scorecards' front-desk part read from the front desk's daily facts (``owner.admin_facts``, issue
#17): per period and administrator, the administrators report's unique calls, booked first visits and
average score (``reports.acquisition.administrators``), every period in one statement."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import Case, IntegerField, Q, Sum, Value, When

from clinicflow.analytics.owner.admin_models import AdminDayFact, has_admin_facts
from clinicflow.core.models import Branch, Organization


def average_score(tenths: Any, scored: Any) -> float | None:
    """The mean score (one decimal, as the report shows it) of ``scored`` calls summing ``tenths``/10."""
    if not scored:
        return None
    return round(float(Decimal(int(tenths or 0)) / (10 * int(scored))), 1)


def admin_period_rows(
    org: Organization, periods: list[tuple[dt.date, dt.date]], branch: Branch | None
) -> list[list[dict[str, Any]]] | None:
    """Per period (local days ``a``..``b`` of the branch; UTC days of the chain) the administrators'
    rows (``unique_calls``, ``booked``, ``avg_score``); None when the facts were never built."""
    field = "day" if branch is not None else "utc_day"
    within, whens = Q(), []
    for i, (a, b) in enumerate(periods):
        q = Q(**{f"{field}__gte": a, f"{field}__lte": b})
        within |= q
        whens.append(When(q, then=Value(i)))
    qs = AdminDayFact.objects.for_org(org).filter(within)
    if branch is not None:
        qs = qs.filter(branch=branch)
    rows = (
        qs.annotate(k=Case(*whens, default=Value(-1), output_field=IntegerField()))
        .values("k", "administrator_id")
        .annotate(
            unique_calls=Sum("unique_calls"),
            booked=Sum("booked"),
            scored=Sum("scored"),
            tenths=Sum("score_tenths"),
        )
        .order_by("k", "administrator_id")
    )
    out: list[list[dict[str, Any]]] = [[] for _ in periods]
    for r in rows:
        if r["k"] >= 0:
            out[r["k"]].append(
                {
                    "administrator_id": r["administrator_id"],
                    "unique_calls": int(r["unique_calls"]),
                    "booked": int(r["booked"]),
                    "avg_score": average_score(r["tenths"], r["scored"]),
                }
            )
    if any(out) or has_admin_facts(org):
        return out
    return None
