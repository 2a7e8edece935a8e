"""The scorecards' raw reads (``owner.scorecards``): each period's website visits, callbacks, follow-ups,
expectation gaps and administrators' calls grouped in SQL from the raw tables, one statement per source
— what the scorecards read before the score facts (``owner.score_reads``, issue #17) and still read
where an organisation's facts were never built."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import (
    Avg,
    Case,
    Count,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.utils import timezone

from clinicflow.acquisition.models import Call, CallbackTask, WebSession
from clinicflow.analytics.reports.base import period_bounds
from clinicflow.analytics.reports.feedback.gap import GROUPS as GAP_GROUPS
from clinicflow.analytics.reports.feedback.stats import mean_interval
from clinicflow.booking.models import Appointment
from clinicflow.care.models import FollowUpTask, TaskStatus
from clinicflow.core.models import Branch, Organization
from clinicflow.feedback.models import SurveyAnswer

Period = tuple[dt.date, dt.date]


def _buckets(field_name: str, bounds: list[tuple[Any, Any]]) -> tuple[Q, Case]:
    """A filter on ``field_name`` in any of the half-open ``bounds`` and the index of the one it is in."""
    within = Q()
    whens = []
    for i, (a, b) in enumerate(bounds):
        q = Q(**{f"{field_name}__gte": a, f"{field_name}__lt": b})
        within |= q
        whens.append(When(q, then=Value(i)))
    return within, Case(*whens, default=Value(-1), output_field=IntegerField())


def grouped(
    qs: QuerySet[Any, Any], field_name: str, bounds: list[tuple[Any, Any]], **aggs: Any
) -> list[dict[str, Any]]:
    """``aggs`` of ``qs`` per bucket (one statement): a dict per bucket, empty where nothing is in it."""
    within, bucket = _buckets(field_name, bounds)
    rows = qs.filter(within).annotate(k=bucket).values("k").annotate(**aggs).order_by("k")
    out: list[dict[str, Any]] = [{} for _ in bounds]
    for r in rows:
        if r["k"] >= 0:
            out[r["k"]] = r
    return out


def admin_rows(
    org: Organization, bounds: list[tuple[dt.datetime, dt.datetime]], branch: Branch | None
) -> list[list[dict[str, Any]]]:
    """The administrators report's unique calls, booked first visits and average score per
    administrator (``administrator_rows``: the same filters, the same order), for every period in one
    statement. Booked: the caller's first appointment of any status (``first_visit_times``'
    ``booked_at``, the earliest start) starts at or after the call: read as one index probe per call
    rather than a grouped subquery of first booked and first arrived visits."""
    qs = Call.objects.for_org(org).filter(is_unique=True, administrator__isnull=False)
    if branch is not None:
        qs = qs.filter(branch=branch)
    first = Appointment.objects.for_org(org).filter(patient_id=OuterRef("patient_id")).order_by("start_at")
    within, bucket = _buckets("started_at", bounds)
    rows = (
        qs.filter(within)
        .annotate(k=bucket, fb_at=Subquery(first.values("start_at")[:1]))
        .values("k", "administrator_id", "administrator__full_name")
        .annotate(
            unique_calls=Count("id"),
            booked=Count("id", filter=Q(patient__isnull=False, fb_at__gte=F("started_at"))),
            avg_score=Avg("score"),
        )
        .order_by("k", "administrator__full_name", "administrator_id")
    )
    out: list[list[dict[str, Any]]] = [[] for _ in bounds]
    for r in rows:
        if r["k"] >= 0:
            avg = r["avg_score"]
            out[r["k"]].append({**r, "avg_score": round(float(avg), 1) if avg is not None else None})
    return out


def gap_rows(
    org: Organization, bounds: list[tuple[dt.datetime, dt.datetime]], branch: Branch | None
) -> list[list[dict[str, Any]]]:
    """The feedback report's expectation gap per consultant (``gap_rows``: the same filters, sums, mean
    and order), for every period in one statement: ``gap`` (the rounded mean) and ``gap_answers``."""
    key, label = GAP_GROUPS["consultant"]
    qs = SurveyAnswer.objects.for_org(org).filter(**{f"{key}__isnull": False})
    if branch is not None:
        qs = qs.filter(branch=branch)
    has_gap = Q(expectation__isnull=False, result__isnull=False)
    gap = F("expectation") - F("result")
    within, bucket = _buckets("answered_at", bounds)
    rows = (
        qs.filter(within)
        .annotate(k=bucket)
        .values("k", key, label)
        .annotate(
            n=Count("id", filter=has_gap),
            gap_sum=Sum(gap, filter=has_gap),
            gap_sq=Sum(gap * gap, filter=has_gap),
        )
        .order_by("k", label, key)
    )
    out: list[list[dict[str, Any]]] = [[] for _ in bounds]
    for r in rows:
        if r["k"] >= 0:
            mean = mean_interval(float(r["gap_sum"] or 0), float(r["gap_sq"] or 0), r["n"])[0]
            out[r["k"]].append({"gap": mean, "gap_answers": r["n"]})
    return out


def raw_periods(
    org: Organization, periods: list[Period], branch: Branch | None
) -> tuple[list[int], list[tuple[tuple[int, int], tuple[int, int]]], list[list[dict[str, Any]]]]:
    """The website visits, (callbacks done, due) and (follow-ups on time, due), and the expectation
    gaps of each period read from the raw rows (before the score facts, and where they were never
    built)."""
    moments = [period_bounds(a, b, branch) for a, b in periods]
    visits_qs = WebSession.objects.for_org(org)
    missed_qs = CallbackTask.objects.for_org(org)
    now = timezone.now()
    tasks_qs = FollowUpTask.objects.for_org(org).exclude(status=TaskStatus.CANCELLED)
    if branch is not None:
        visits_qs, missed_qs, tasks_qs = (
            visits_qs.filter(branch=branch),
            missed_qs.filter(branch=branch),
            tasks_qs.filter(branch=branch),
        )
    visits = grouped(visits_qs, "started_at", moments, n=Count("id"))
    missed = grouped(missed_qs, "due_at", moments, n=Count("id"), done=Count("done_at"))
    on_time = Q(status=TaskStatus.DONE, done_at__lte=F("due_at"))
    tasks = grouped(
        tasks_qs,
        "due_at",
        [(a, min(b, now)) for a, b in moments],
        due=Count("id"),
        on_time=Count("id", filter=on_time),
    )
    return (
        [v.get("n", 0) for v in visits],
        [
            ((m.get("done", 0), m.get("n", 0)), (t.get("on_time", 0), t.get("due", 0)))
            for m, t in zip(missed, tasks, strict=True)
        ],
        gap_rows(org, moments, branch),
    )
