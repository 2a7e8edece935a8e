"""The department scorecards' part values as ``owner.scorecards`` computed them before it read the
day facts and grouped in SQL (each report's rows read whole and summed in Python): the reference the
equality test (``test_owner_scorecards_fast.py``) and ``bench/bench_scorecards.py`` compare with."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import Sum

from clinicflow.acquisition.models import AdSpend, CallbackTask, WebSession
from clinicflow.analytics.owner.selectors import day_totals
from clinicflow.analytics.reports.acquisition.administrators import administrator_rows
from clinicflow.analytics.reports.base import period_bounds, ratio
from clinicflow.analytics.reports.care.followups import task_rows
from clinicflow.analytics.reports.feedback.gap import gap_rows
from clinicflow.analytics.reports.feedback.stats import nps_interval
from clinicflow.core.models import Branch, Organization


def _num(x: Any) -> float | None:
    return None if x is None else float(x)


def reference_part_values(
    *, org: Organization, date_from: dt.date, date_to: dt.date, branch: Branch | None
) -> dict[str, dict[str, float | None]]:
    """Every part's value over the period (None: no data)."""
    facts = day_totals(org=org, d0=date_from, d1=date_to, branch=branch)
    start, end = period_bounds(date_from, date_to, branch)
    currency = branch.currency if branch is not None else org.currency
    spend_qs = AdSpend.objects.for_org(org).filter(date__gte=date_from, date__lte=date_to, currency=currency)
    visits = WebSession.objects.for_org(org).filter(started_at__gte=start, started_at__lt=end)
    missed = CallbackTask.objects.for_org(org).filter(due_at__gte=start, due_at__lt=end)
    if branch is not None:
        spend_qs, visits, missed = (
            spend_qs.filter(branch=branch),
            visits.filter(branch=branch),
            missed.filter(branch=branch),
        )
    spend = Decimal(spend_qs.aggregate(s=Sum("spend"))["s"] or 0)
    contacts = facts["leads"] + facts["unique_calls"]
    arrived = facts["first_arrived"]
    admins = administrator_rows(org=org, date_from=date_from, date_to=date_to, branch=branch)
    calls = sum(r["unique_calls"] for r in admins)
    scored = [(r["avg_score"], r["unique_calls"]) for r in admins if r["avg_score"] is not None]
    tasks = task_rows(org=org, start=start, end=end, by="branch", branch=branch)
    gaps = gap_rows(org=org, date_from=date_from, date_to=date_to, branch=branch, group="consultant")
    gap_n = sum(r["gap_answers"] for r in gaps)
    return {
        "marketing": {
            "reach": float(visits.count() + facts["unique_calls"]),
            "leads": float(contacts),
            "cost_per_lead": float(spend / contacts) if spend and contacts else None,
            "cost_per_first": float(spend / arrived) if spend and arrived else None,
        },
        "consultants": {
            "treatment_conversion": ratio(facts["treated"], arrived),
            "satisfied": ratio(facts["satisfied"], arrived),
            "repeat": ratio(facts["returned"], arrived),
            "gap": (sum(r["gap"] * r["gap_answers"] for r in gaps if r["gap"] is not None) / gap_n)
            if gap_n
            else None,
        },
        "front_desk": {
            "call_conversion": ratio(sum(r["booked"] for r in admins), calls),
            "callbacks": ratio(missed.exclude(done_at=None).count(), missed.count()),
            "call_score": sum(s * n for s, n in scored) / sum(n for _s, n in scored) if scored else None,
        },
        "customer_service": {
            "followups_on_time": ratio(sum(r["on_time"] for r in tasks), sum(r["due"] for r in tasks)),
            "retention": ratio(facts["returned"], arrived),
            "third": ratio(facts["third"], arrived),
            "referrals": ratio(facts["referred"], arrived),
        },
        "doctors": {
            "nps": _num(nps_interval(facts["promoters"], facts["detractors"], facts["answers"])[0]),
            "satisfied": ratio(facts["satisfied"], arrived),
            "no_shows": ratio(facts["no_shows"], facts["appointments"]),
        },
    }
