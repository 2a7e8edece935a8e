"""The scorecards' and the balanced doctor's reads of their daily facts (``owner.score_models``, issue
#17): each the same figure as the raw read it replaces (the follow-ups, callbacks, website visits and
expectation gaps of ``owner.scorecards``; ``satisfaction_rows``, ``gap_rows`` and ``complication_rates``
in ``reports.owner.doctors``), every period in one statement. A branch's periods are its local days,
the chain's UTC days (``reports.base.period_bounds``). Each returns None when the organisation's
facts were never built (the callers then read the raw tables)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.db.models import Case, IntegerField, Q, QuerySet, Sum, Value, When
from django.utils import timezone

from clinicflow.analytics.owner.score_facts import followups_due
from clinicflow.analytics.owner.score_models import AnswerDayFact, ComplicationDayFact, ScoreDayFact
from clinicflow.analytics.reports.base import period_bounds
from clinicflow.analytics.reports.feedback.gap import against_the_rest
from clinicflow.analytics.reports.feedback.stats import (
    ALPHA,
    Moments,
    mean_interval,
    nps_interval,
)
from clinicflow.booking.models import Doctor
from clinicflow.clinical.selectors.treatments import RateRow
from clinicflow.core.models import Branch, Organization

Period = tuple[dt.date, dt.date]


def built(org: Organization) -> bool:
    """Whether the organisation's score facts were built (a full rebuild writes at least one row
    wherever there are follow-ups, callbacks, answers or treatments)."""
    return any(m.objects.for_org(org).exists() for m in (ScoreDayFact, AnswerDayFact, ComplicationDayFact))


def _bucketed(qs: QuerySet[Any, Any], periods: list[Period], branch: Branch | None) -> QuerySet[Any, Any]:
    """``qs`` (a fact table) within the periods' days (a branch's local days, else UTC days), each row
    annotated ``k``: the index of its period."""
    field = "day" if branch is not None else "utc_day"
    within, whens = Q(), []
    for i, (a, b) in enumerate(periods):
        q = Q(**{f"{field}__gte": a, f"{field}__lte": b})
        within |= q
        whens.append(When(q, then=Value(i)))
    if branch is not None:
        qs = qs.filter(branch=branch)
    bucketed: QuerySet[Any, Any] = qs.filter(within).annotate(
        k=Case(*whens, default=Value(-1), output_field=IntegerField())
    )
    return bucketed


Tasks = tuple[tuple[int, int], tuple[int, int]]


def score_periods(
    org: Organization, periods: list[Period], branch: Branch | None
) -> tuple[list[int], list[Tasks]] | None:
    """Per period the website visits (sessions started in it) and ((callbacks done, callbacks due),
    (follow-ups on time, follow-ups due)): callbacks due in the period, follow-ups due in it and before
    now (``task_rows``): the facts of the days before today, and the follow-ups due today before now
    read from the tasks."""
    now = timezone.now()
    today = now.astimezone(branch.tz if branch is not None else dt.UTC).date()
    before = Q(**{("day" if branch is not None else "utc_day") + "__lt": today})
    rows = (
        _bucketed(ScoreDayFact.objects.for_org(org), periods, branch)
        .values("k")
        .annotate(
            s=Sum("sessions"),
            n=Sum("callbacks"),
            done=Sum("callbacks_done"),
            due=Sum("followups_due", filter=before),
            on_time=Sum("followups_on_time", filter=before),
        )
        .order_by("k")
    )
    visits = [0 for _ in periods]
    tasks: list[Tasks] = [((0, 0), (0, 0)) for _ in periods]
    for r in rows:
        if r["k"] >= 0:
            visits[r["k"]] = int(r["s"])
            tasks[r["k"]] = ((int(r["done"]), int(r["n"])), (int(r["on_time"] or 0), int(r["due"] or 0)))
    if not any(visits) and not any(n or due for (_d, n), (_o, due) in tasks) and not built(org):
        return None
    for i, (a, b) in enumerate(periods):
        start, end = period_bounds(a, b, branch)
        since = max(start, period_bounds(today, today, branch)[0])
        if since < min(end, now):  # the period reaches today: its follow-ups due so far today
            on_time, due = followups_due(org, since, min(end, now), branch)
            tasks[i] = (tasks[i][0], (tasks[i][1][0] + on_time, tasks[i][1][1] + due))
    return visits, tasks


def _consultants(org: Organization, periods: list[Period], branch: Branch | None) -> list[dict[str, Any]]:
    """The consultants' gap sums per period and consultant in the feedback report's order (``gap_rows``:
    by name, then id; the names' order the database's, read apart from the grouping, which then
    hashes a few keys instead of sorting every row with its name)."""
    qs = AnswerDayFact.objects.for_org(org).filter(consultant__isnull=False)
    rows = list(
        _bucketed(qs, periods, branch)
        .values("k", "consultant_id")
        .annotate(n=Sum("gap_answers"), s=Sum("gap_sum"), sq=Sum("gap_squares"))
        .order_by()
    )
    if not rows:
        return rows
    order = Doctor.objects.filter(organization=org).order_by("full_name", "pk").values_list("pk", flat=True)
    rank = {pk: i for i, pk in enumerate(order)}
    return sorted(rows, key=lambda r: (r["k"], rank.get(r["consultant_id"], len(rank))))


def gap_periods(
    org: Organization, periods: list[Period], branch: Branch | None
) -> list[list[dict[str, Any]]] | None:
    """Per period the expectation gap per consultant (``gap``: the rounded mean, ``gap_answers``), in
    the feedback report's order (``gap_rows``: by name, then id)."""
    rows = _consultants(org, periods, branch)
    out: list[list[dict[str, Any]]] = [[] for _ in periods]
    for r in rows:
        if r["k"] >= 0:
            mean = mean_interval(float(r["s"] or 0), float(r["sq"] or 0), int(r["n"]))[0]
            out[r["k"]].append({"gap": mean, "gap_answers": int(r["n"])})
    if not any(out) and not built(org):
        return None
    return out


def doctor_answers(
    org: Organization, d0: dt.date, d1: dt.date, branch: Branch | None
) -> tuple[dict[str, dict[str, Any]], float | None] | None:
    """Per doctor (id as text) of the period's answers ``answers`` and ``nps`` (``satisfaction_rows``
    by doctor), and the clinic's NPS over all of them (``clinic_nps_of``)."""
    rows = list(
        _bucketed(AnswerDayFact.objects.for_org(org), [(d0, d1)], branch)
        .values("doctor_id")
        .annotate(n=Sum("answers"), p=Sum("promoters"), d=Sum("detractors"))
        .order_by()
    )
    if not rows and not built(org):
        return None
    per = {
        str(r["doctor_id"]): {
            "answers": int(r["n"]),
            "nps": nps_interval(int(r["p"]), int(r["d"]), int(r["n"]))[0],
        }
        for r in rows
    }
    total = [sum(int(r[k]) for r in rows) for k in ("p", "d", "n")]
    return per, nps_interval(*total)[0]


def consultant_gaps(
    org: Organization, d0: dt.date, d1: dt.date, branch: Branch | None
) -> dict[str, dict[str, Any]] | None:
    """Per consultant (id as text) of the period's answers ``gap`` and ``flagged``: ``gap_rows``'
    mean gap and its test against the rest of the clinic (one-sided Welch, Holm over the consultants,
    in the report's order)."""
    rows = _consultants(org, [(d0, d1)], branch)
    if not rows and not built(org):
        return None
    moments = {
        str(r["consultant_id"]): Moments(int(r["n"]), float(r["s"] or 0), float(r["sq"] or 0)) for r in rows
    }
    _pvalues, adjusted = against_the_rest(moments)
    return {
        k: {
            "gap": mean_interval(m.total, m.squares, m.n)[0],
            "flagged": bool(k in adjusted and adjusted[k] <= ALPHA),
        }
        for k, m in moments.items()
    }


def complication_rates_of(org: Organization, start: dt.date, end: dt.date) -> dict[uuid.UUID, RateRow] | None:
    """Per doctor the complication rate over ``[start, end)`` (``complication_rates``' counts: cases
    with onset in the period over treatment records signed off in it; no label)."""
    rows = list(
        ComplicationDayFact.objects.for_org(org)
        .filter(day__gte=start, day__lt=end)
        .values("doctor_id")
        .annotate(t=Sum("treatments"), c=Sum("complications"))
        .order_by()
    )
    if not rows and not built(org):
        return None
    return {
        r["doctor_id"]: RateRow(
            key=r["doctor_id"], label="", complications=int(r["c"]), treatments=int(r["t"])
        )
        for r in rows
    }
