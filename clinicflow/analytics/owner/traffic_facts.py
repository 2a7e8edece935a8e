"""The channel report's traffic as daily facts (issue #17): per organisation, branch, local day (and UTC
day), channel and campaign, the web sessions, leads, calls, unique calls and missed calls the channel
and campaign reports count (``reports.acquisition.traffic``), so they read a few rows a branch-day
instead of every session, lead and call of the period. Ad spend is not copied (``AdSpend`` is itself
one row per day and campaign).

A row keeps the branch's local day (``day``: a branch's report) and the UTC day (``utc_day``: the
chain's report, ``base.period_bounds``); rows with no branch are on their UTC day. Built set-based by
one ``INSERT ... SELECT ... GROUP BY`` over the three tables (PostgreSQL and SQLite) for every day (the
full rebuild, ``fact_hooks``) or some local days (the incremental update, ``changes``)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection

from django.db import connection, models, transaction
from django.db.models import Case, F, IntegerField, Q, Sum, Value, When

from clinicflow.acquisition.models import Call, CallStatus, Lead, WebSession
from clinicflow.analytics.models import derived_fk
from clinicflow.analytics.owner.fact_clear import clear, row_id
from clinicflow.analytics.owner.factsql import (
    day_chunks,
    day_filter,
    execute,
    local_date,
    near,
    qs_sql,
    tune,
)
from clinicflow.core.models import Branch, Organization, TenantModel

COUNTS = ("sessions", "leads", "calls", "unique_calls", "missed")


class TrafficDayFact(TenantModel):
    organization = derived_fk(Organization, on_delete=models.PROTECT)
    branch = derived_fk(Branch, null=True)  # null: rows tied to no branch (on their UTC day)
    day = models.DateField()  # the branch's local day
    utc_day = models.DateField()  # the UTC day (the chain's report periods)
    channel_id = models.UUIDField(null=True)
    campaign_id = models.UUIDField(null=True)
    sessions = models.IntegerField(default=0)
    leads = models.IntegerField(default=0)
    calls = models.IntegerField(default=0)
    unique_calls = models.IntegerField(default=0)
    missed = models.IntegerField(default=0)

    class Meta:
        app_label = "analytics"
        indexes = [
            models.Index(fields=["organization", "day", "branch"], name="trafficfact_org_day_idx"),
            models.Index(fields=["organization", "utc_day"], name="trafficfact_org_utcday_idx"),
        ]


def _flag(q: Q) -> Case:
    return Case(When(q, then=Value(1)), default=Value(0), output_field=IntegerField())


def _one(n: int) -> Value:
    return Value(n, output_field=IntegerField())


def _insert(org: Organization, days: list[dt.date] | None) -> int:
    parts = []
    for model, at, counts in (
        (WebSession, "started_at", (_one(1), _one(0), _one(0), _one(0), _one(0))),
        (Lead, "created_at", (_one(0), _one(1), _one(0), _one(0), _one(0))),
        (
            Call,
            "started_at",
            (_one(0), _one(0), _one(1), _flag(Q(is_unique=True)), _flag(Q(status=CallStatus.MISSED))),
        ),
    ):
        qs = model.objects.for_org(org).order_by()
        if days is not None:
            qs = qs.filter(near(at, days))
        parts.append(
            qs.values(
                b=F("branch_id"),
                at=F(at),
                ch=F("channel_id"),
                camp=F("campaign_id"),
                **dict(zip(("s", "l", "c", "u", "m"), counts, strict=True)),
            )
        )
    rows_sql, rows_params = qs_sql(parts[0].union(*parts[1:], all=True))
    zones = Branch.objects.filter(organization=org).order_by().values("id", "timezone")
    zones_sql, zones_params = qs_sql(zones)
    where, where_params = day_filter("x.day", days)
    local_day = local_date("r.at", "COALESCE(zb.timezone, 'UTC')")
    utc_day = local_date("r.at", "'UTC'")
    table = TrafficDayFact._meta.db_table
    sql = (
        f"INSERT INTO {table} (id, organization_id, branch_id, day, utc_day, channel_id, campaign_id, "  # nosec B608 # noqa: S608 - ORM SQL and constants, values bound
        f"sessions, leads, calls, unique_calls, missed) WITH r AS ({rows_sql}), zb AS ({zones_sql}), "
        f"x AS (SELECT r.b, {local_day} AS day, {utc_day} AS utc_day, r.ch, r.camp, r.s, r.l, r.c, r.u, r.m "
        "FROM r LEFT JOIN zb ON zb.id = r.b) "
        f"SELECT {row_id()}, %s, x.b, x.day, x.utc_day, x.ch, x.camp, SUM(x.s), SUM(x.l), SUM(x.c), "
        f"SUM(x.u), SUM(x.m) FROM x WHERE 1 = 1{where} GROUP BY x.b, x.day, x.utc_day, x.ch, x.camp "
        "ORDER BY x.day, x.b"  # the (organisation, day, branch) index written in its order
    )
    org_id = Organization._meta.pk.get_db_prep_value(org.pk, connection)
    # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
    return execute(sql, rows_params + zones_params + (org_id,) + where_params)


def build_traffic_facts(org: Organization, days: Collection[dt.date] | None = None) -> int:
    """The facts of every day (``days`` None) or of these local days, deleted and written again."""
    if days is not None and not days:
        return 0
    written = 0
    with transaction.atomic():
        tune()  # the grouping in memory, no JIT compilation (``factsql.TUNED``)
        for chunk in day_chunks(sorted(days) if days is not None else None):
            if chunk is None:  # every day: the organisation's rows (``fact_clear.clear``)
                clear(org, TrafficDayFact)
            else:
                TrafficDayFact.objects.for_org(org).filter(day__in=chunk).delete()
            written += _insert(org, chunk)
    return written


def traffic_counts(
    *, org: Organization, date_from: dt.date, date_to: dt.date, branch: Branch | None, key: str
) -> dict[uuid.UUID | None, dict[str, int]] | None:
    """Per channel / campaign id (``key``: ``channel_id`` or ``campaign_id``) the period's counts: a
    branch's local days, the chain's UTC days; None when the facts were never built."""
    qs = TrafficDayFact.objects.for_org(org)
    if branch is not None:
        qs = qs.filter(branch=branch, day__gte=date_from, day__lte=date_to)
    else:
        qs = qs.filter(utc_day__gte=date_from, utc_day__lte=date_to)
    rows = qs.order_by().values(key).annotate(**{k: Sum(k) for k in COUNTS})
    out = {r[key]: {k: int(r[k] or 0) for k in COUNTS} for r in rows}
    if out or TrafficDayFact.objects.for_org(org).exists():
        return out
    return None
