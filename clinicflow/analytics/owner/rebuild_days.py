"""The incremental update's days built again together (``changes.apply_changes``): on PostgreSQL every
run of days in one transaction, the patients of all of them staged once (``facts_firsts.staged``: their
first visits and ``FirstVisitFact`` rows) and each run's day and revenue facts inserted from them
(``facts_sql.insert_days``, by the indexes for short runs) — the same statements as ``facts.build`` of
each run, without staging the patients again for every run (a change of weekly working hours touches
one day a week over the whole span: hundreds of runs). Elsewhere ``facts.build`` of each run."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from django.db import transaction

from clinicflow.analytics.owner import facts_firsts, facts_sql
from clinicflow.analytics.owner.facts import Clock, build, utc_window
from clinicflow.analytics.owner.facts_span import runs
from clinicflow.core.models import Organization


def build_days(org: Organization, days: Collection[dt.date]) -> int:
    """Replace the day and revenue facts of these local days with those of the raw tables; returns
    the number of days built."""
    spans = runs(days)
    if not spans:
        return 0
    if not facts_firsts.supported():
        for d0, d1 in spans:
            build(org, d0, d1)
        return len(set(days))
    zones = Clock(org).zones
    windows = [utc_window(d0, d1) for d0, d1 in spans]
    with transaction.atomic(), facts_firsts.staged(org, zones, *facts_firsts.window_scope(windows)):
        for (d0, d1), (start, end) in zip(spans, windows, strict=True):
            facts_sql.insert_days(org, zones, d0, d1, start, end)
    return len(set(days))
