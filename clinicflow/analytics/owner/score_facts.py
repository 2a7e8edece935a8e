"""The scorecards' and the balanced doctor's daily facts (issue #17, models in ``owner.score_models``),
built from the raw tables of care (follow-up tasks), acquisition (callbacks of missed calls), feedback
(survey answers) and clinical (treatment records, complication cases) — the only place the owner's
reports read those tables for them.

The rules are the reports' own: follow-ups not cancelled, on time when done at or before their due
moment (``reports.care.followups.task_rows``); callbacks done when ``done_at`` is set; an answer a
promoter at ``PROMOTER_MIN`` and up, a detractor at ``DETRACTOR_MAX`` and down, its gap the expectation
less the result where both are known (``reports.feedback``); treatments signed off on their day (the
current zone's, as ``complication_rates`` reads ``signed_at__date``), complications the current entries
(``complication_cases``) on their onset day. Each table is built by one ``INSERT ... SELECT ... GROUP
BY`` (PostgreSQL and SQLite) for every day (the full rebuild, ``fact_hooks``) or some local days (the
incremental update, ``changes``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any

from django.db import connection, transaction
from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import TruncDate

from clinicflow.acquisition.models import CallbackTask, WebSession
from clinicflow.analytics.owner.fact_ids import SEQ_ID
from clinicflow.analytics.owner.factsql import (
    day_chunks,
    day_filter,
    execute,
    local_date,
    near,
    new_id,
    qs_sql,
    tune,
)
from clinicflow.analytics.owner.score_models import AnswerDayFact, ComplicationDayFact, ScoreDayFact
from clinicflow.care.models import FollowUpTask, TaskStatus
from clinicflow.clinical.models import TreatmentRecord
from clinicflow.clinical.selectors.treatments import CaseFilters, complication_cases
from clinicflow.core.models import Branch, Organization
from clinicflow.feedback.models import DETRACTOR_MAX, PROMOTER_MIN, SurveyAnswer

ON_TIME = Q(status=TaskStatus.DONE, done_at__lte=F("due_at"))  # ``task_rows``' on time
HAS_GAP = Q(expectation__isnull=False, result__isnull=False)  # ``gap_rows``' answers with a gap


def _flag(q: Q) -> Case:
    return Case(When(q, then=Value(1)), default=Value(0), output_field=IntegerField())


def _one(n: int) -> Value:
    return Value(n, output_field=IntegerField())


def _new_id() -> str:
    """A new row id: on PostgreSQL time-ordered and numbered by the statement (``fact_ids``)."""
    return SEQ_ID if connection.vendor == "postgresql" else new_id()


def _org_id(org: Organization) -> Any:
    return Organization._meta.pk.get_db_prep_value(org.pk, connection)


def _located(org: Organization, rows: QuerySet[Any, Any], cols: str) -> tuple[str, tuple[Any, ...]]:
    """``WITH r AS (rows), zb AS (zones), x AS (...)``: ``rows``' columns ``cols`` with the local day
    (``day``: the branch's zone, UTC without one) and the UTC day of ``r.at``; ``rows`` has ``b`` (the
    branch) and ``at``."""
    rows_sql, rows_params = qs_sql(rows)
    zones_sql, zones_params = qs_sql(
        Branch.objects.filter(organization=org).order_by().values("id", "timezone")
    )
    local_day = local_date("r.at", "COALESCE(zb.timezone, 'UTC')")
    utc_day = local_date("r.at", "'UTC'")
    sql = (
        f"WITH r AS ({rows_sql}), zb AS ({zones_sql}), "  # nosec B608 # noqa: S608 - ORM SQL and constants, values bound
        f"x AS (SELECT r.b, {local_day} AS day, {utc_day} AS utc_day, {cols} "
        "FROM r LEFT JOIN zb ON zb.id = r.b) "
    )
    return sql, rows_params + zones_params


def _tasks(org: Organization, days: list[dt.date] | None) -> int:
    follow = FollowUpTask.objects.for_org(org).exclude(status=TaskStatus.CANCELLED).order_by()
    calls = CallbackTask.objects.for_org(org).order_by()
    sessions = WebSession.objects.for_org(org).order_by()
    if days is not None:
        follow, calls = follow.filter(near("due_at", days)), calls.filter(near("due_at", days))
        sessions = sessions.filter(near("started_at", days))
    names = ("fd", "fo", "cb", "cd", "s")
    parts = [
        qs.values(b=F("branch_id"), at=F(at), **dict(zip(names, counts, strict=True)))
        for qs, at, counts in (
            (follow, "due_at", (_one(1), _flag(ON_TIME), _one(0), _one(0), _one(0))),
            (calls, "due_at", (_one(0), _one(0), _one(1), _flag(Q(done_at__isnull=False)), _one(0))),
            (sessions, "started_at", (_one(0), _one(0), _one(0), _one(0), _one(1))),
        )
    ]
    with_sql, params = _located(org, parts[0].union(*parts[1:], all=True), "r.fd, r.fo, r.cb, r.cd, r.s")
    where, where_params = day_filter("x.day", days)
    table = ScoreDayFact._meta.db_table
    sql = (
        f"INSERT INTO {table} (id, organization_id, branch_id, day, utc_day, followups_due, "  # nosec B608 # noqa: S608 - ORM SQL and constants, values bound
        f"followups_on_time, callbacks, callbacks_done, sessions) {with_sql}"
        f"SELECT {_new_id()}, %s, x.b, x.day, x.utc_day, SUM(x.fd), SUM(x.fo), SUM(x.cb), SUM(x.cd), "
        "SUM(x.s) "
        f"FROM x WHERE 1 = 1{where} GROUP BY x.b, x.day, x.utc_day"
    )
    # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
    return execute(sql, (*params, _org_id(org), *where_params))


def _answers(org: Organization, days: list[dt.date] | None) -> int:
    answers = SurveyAnswer.objects.for_org(org).order_by()
    if days is not None:
        answers = answers.filter(near("answered_at", days))
    rows = answers.values(
        b=F("branch_id"),
        at=F("answered_at"),
        d=F("doctor_id"),
        c=F("consultant_id"),
        p=_flag(Q(nps__gte=PROMOTER_MIN)),
        n=_flag(Q(nps__lte=DETRACTOR_MAX)),
        g=_flag(HAS_GAP),
        e=F("expectation"),
        res=F("result"),
    )
    gap = "CASE WHEN r.g = 1 THEN CAST(r.e AS BIGINT) - CAST(r.res AS BIGINT) ELSE 0 END"
    with_sql, params = _located(org, rows, f"r.d, r.c, r.p, r.n, r.g, {gap} AS gap")
    where, where_params = day_filter("x.day", days)
    table = AnswerDayFact._meta.db_table
    sql = (
        f"INSERT INTO {table} (id, organization_id, branch_id, day, utc_day, doctor_id, consultant_id, "  # nosec B608 # noqa: S608 - ORM SQL and constants, values bound
        f"answers, promoters, detractors, gap_answers, gap_sum, gap_squares) {with_sql}"
        f"SELECT {_new_id()}, %s, x.b, x.day, x.utc_day, x.d, x.c, COUNT(*), SUM(x.p), SUM(x.n), SUM(x.g), "
        f"SUM(x.gap), SUM(x.gap * x.gap) FROM x WHERE 1 = 1{where} GROUP BY x.b, x.day, x.utc_day, x.d, x.c"
    )
    # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
    return execute(sql, (*params, _org_id(org), *where_params))


def _complications(org: Organization, days: list[dt.date] | None) -> int:
    signed = TreatmentRecord.objects.for_org(org).filter(signed_at__isnull=False).order_by()
    cases = complication_cases(org=org, filters=CaseFilters()).filter(doctor__isnull=False).order_by()
    if days is not None:
        signed, cases = signed.filter(near("signed_at", days)), cases.filter(onset_date__in=days)
    rows = signed.values(day=TruncDate("signed_at"), d=F("doctor_id"), t=_one(1), c=_one(0)).union(
        cases.values(day=F("onset_date"), d=F("doctor_id"), t=_one(0), c=_one(1)), all=True
    )
    rows_sql, params = qs_sql(rows)
    where, where_params = day_filter("x.day", days)
    table = ComplicationDayFact._meta.db_table
    sql = (
        f"INSERT INTO {table} (id, organization_id, day, doctor_id, treatments, complications) "  # nosec B608 # noqa: S608 - ORM SQL and constants, values bound
        f"SELECT {_new_id()}, %s, x.day, x.d, SUM(x.t), SUM(x.c) FROM ({rows_sql}) x "
        f"WHERE 1 = 1{where} GROUP BY x.day, x.d"
    )
    # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
    return execute(sql, (_org_id(org), *params, *where_params))


def build_score_facts(org: Organization, days: Collection[dt.date] | None = None) -> int:
    """The facts of every day (``days`` None: the full rebuild) or of these local days (the complication
    facts: these days of the current zone), deleted and written again; returns the rows written."""
    if days is not None and not days:
        return 0
    written = 0
    with transaction.atomic():
        tune()  # the groupings in memory, no JIT (``factsql.TUNED``)
        for chunk in day_chunks(sorted(days) if days is not None else None):
            for model, insert in (
                (ScoreDayFact, _tasks),
                (AnswerDayFact, _answers),
                (ComplicationDayFact, _complications),
            ):
                old = model.objects.for_org(org)
                (old.filter(day__in=chunk) if chunk is not None else old).delete()
                written += insert(org, chunk)
    return written


def followups_due(
    org: Organization, start: dt.datetime, end: dt.datetime, branch: Branch | None
) -> tuple[int, int]:
    """(on time, due) of the follow-ups due in ``[start, end)`` (``task_rows``' counts): the part of
    today before now, which the facts (whole days) leave to the reads."""
    qs = (
        FollowUpTask.objects.for_org(org)
        .filter(due_at__gte=start, due_at__lt=end)
        .exclude(status=TaskStatus.CANCELLED)
    )
    if branch is not None:
        qs = qs.filter(branch=branch)
    r = qs.aggregate(due=Count("id"), on_time=Count("id", filter=ON_TIME))
    return int(r["on_time"]), int(r["due"])
