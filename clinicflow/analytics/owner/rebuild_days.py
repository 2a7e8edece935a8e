"""The incremental update's days built again together (``changes.apply_changes``): on PostgreSQL every
run of days in one transaction, the patients of all of them staged once (``facts_firsts.staged``: their
first visits and ``FirstVisitFact`` rows) and each run's day and revenue facts inserted from them
(``facts_sql.insert_days``, by the indexes for short runs) — the same statements as ``facts.build`` of
each run, without staging the patients again for every run (a change of weekly working hours touches
one day a week over the whole span: hundreds of runs). Elsewhere ``facts.build`` of each run.

``build_load_days``: days whose only changes are of the load (``signals.LOAD``: working hours, breaks,
exceptions, closures): on PostgreSQL their day facts again from each run's working windows, without
staging any patient and without their revenue facts (no payment, appointment or first visit changed)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection, Sequence

from django.db import connection, transaction

from clinicflow.analytics.models import DayFact
from clinicflow.analytics.owner import facts_firsts, facts_sql
from clinicflow.analytics.owner.facts import Clock, build, compute, utc_window
from clinicflow.analytics.owner.facts_load import stage_windows
from clinicflow.analytics.owner.facts_more import COUNTS
from clinicflow.analytics.owner.facts_span import runs
from clinicflow.analytics.owner.factsql import TUNED
from clinicflow.analytics.reports.sqlplan import id_array
from clinicflow.core.models import Organization


def build_days(org: Organization, days: Collection[dt.date], patients: Sequence[uuid.UUID] = ()) -> int:
    """Replace the day and revenue facts of these local days with those of the raw tables; returns
    the number of days built. ``patients`` (PostgreSQL: the incremental update's touched patients) are
    staged with the days' own, their ``FirstVisitFact`` rows rewritten, even without days."""
    spans = runs(days)
    if not facts_firsts.supported():
        for d0, d1 in spans:
            build(org, d0, d1)
        return len(set(days))
    if not spans and not patients:
        return 0
    zones = Clock(org).zones
    windows = [utc_window(d0, d1) for d0, d1 in spans]
    scope, params = facts_firsts.window_scope(windows) if windows else ("", {})
    if patients:
        scope = " UNION ".join([p for p in (scope, "SELECT unnest(%(touched)s::uuid[])") if p])
        params = {**params, "touched": id_array(patients)}
    with transaction.atomic(), facts_firsts.staged(org, zones, scope, params):
        for (d0, d1), (start, end) in zip(spans, windows, strict=True):
            facts_sql.insert_days(org, zones, d0, d1, start, end)
    return len(set(days))


def build_load_days(org: Organization, days: Collection[dt.date]) -> int:
    """Replace the day facts of these local days (whose only changes are of the load) with those of the
    raw tables, their revenue facts left as they are; returns the number of days built."""
    spans = runs(days)
    if not facts_firsts.supported():  # the Python build's day facts (``facts.compute``)
        for d0, d1 in spans:
            counts, _revenue = compute(org, d0, d1)
            with transaction.atomic():
                DayFact.objects.for_org(org).filter(day__gte=d0, day__lte=d1).delete()
                DayFact.objects.bulk_create(
                    [DayFact(organization=org, branch_id=b, day=d, **c) for (b, d), c in counts.items()],
                    batch_size=2000,
                )
        return len(set(days))
    zsql, zparams = facts_firsts._zones(Clock(org).zones)
    cols, table, rows = ", ".join(COUNTS), facts_firsts.DAYS, facts_sql.day_rows_sql(zsql)
    where = "organization_id = %(org)s AND day BETWEEN %(d0)s AND %(d1)s"
    delete = f"DELETE FROM {table} WHERE {where}"  # noqa: S608 - names from model meta  # nosec B608
    insert = (
        f"INSERT INTO {table} (id, organization_id, branch_id, day, {cols}) "  # noqa: S608 - names from model meta  # nosec B608
        f"SELECT {facts_firsts.UUID7}, %(org)s, branch_id, day, {cols} FROM ({rows}) t"
    )
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(TUNED)
        for d0, d1 in spans:
            start, end = utc_window(d0, d1)
            stage_windows(org, d0, d1)  # the day facts' parts read no staged first visit
            args = {**zparams, "org": org.pk, "start": start, "end": end, "d0": d0, "d1": d1}
            # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
            cur.execute(delete, args)
            # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
            cur.execute(insert, args)
    facts_firsts.drop_staging()
    return len(set(days))
