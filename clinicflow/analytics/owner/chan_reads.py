"""The channel and campaign reports' first patients read from their daily facts (``ChanFirstFact``,
``owner.chan_facts``): the rows the raw statement (``first_patients.first_patients_sql`` with
``lifetime``) gives for a period — a branch's local days, or the chain's UTC days
(``base.period_bounds``) — summed from a few rows a branch-day, for ``lifetime.fold_first_patients``."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db.models import Max, Q, Sum

from clinicflow.analytics.owner.chan_models import (
    BEFORE_CUTOFF,
    BOTH,
    BRANCH_ONLY,
    COUNTS,
    FACT_MODELS,
    PAID,
    ChanFirstFact,
)
from clinicflow.core.models import Branch, Organization

ONE_DAY = dt.timedelta(days=1)
KEY = {"channel": "channel_id", "campaign": "campaign_id"}
Row = tuple[Any, ...]


def has_chan_facts(org: Organization) -> bool:
    """Whether the facts were built for the organisation (else the report reads the raw tables)."""
    return ChanFirstFact.objects.for_org(org).exists()


def first_patient_rows(
    *,
    org: Organization,
    date_from: dt.date,
    date_to: dt.date,
    branch: Branch | None,
    model: str,
    group: str,
) -> list[Row] | None:
    """The raw statement's rows (key, den, booked, arrived, currency, a, b, c, kind, until) of the days
    ``date_from``..``date_to`` from the facts; None when they hold no such model or were never built."""
    if model not in FACT_MODELS or not has_chan_facts(org):
        return None
    qs = ChanFirstFact.objects.for_org(org).filter(model=model)
    if branch is not None:
        qs = qs.filter(branch=branch, day__gte=date_from, day__lte=date_to, part__in=(BOTH, BRANCH_ONLY))
        paid = "paid_day"
    else:
        # a UTC day is a local day of a branch or the one before or after it: read by the day's index
        near = {"day__gte": date_from - ONE_DAY, "day__lte": date_to + ONE_DAY}
        qs = qs.filter(**near, utc_day__gte=date_from, utc_day__lte=date_to, part=BOTH)
        paid = "paid_utc"
    # the payments up to the period's end (to date), those from its start too (in the period)
    qs = qs.filter(~Q(kind=PAID) | Q(**{f"{paid}__lte": date_to}))
    key = KEY[group]
    sums = (
        qs.order_by()
        .values(key, "den", "kind", "currency")
        .annotate(
            n_booked=Sum("booked"),
            n_arrived=Sum("arrived"),
            total=Sum("cents"),
            period=Sum("cents", filter=Q(**{f"{paid}__gte": date_from})),
            last=Max("until"),
        )
    )
    rows: list[Row] = []
    money: dict[tuple[Any, int, str], list[Any]] = defaultdict(lambda: [0, None, None])
    for r in sums:
        k, den, kind = r[key], int(r["den"]), int(r["kind"])
        if kind == COUNTS:
            rows.append((k, den, r["n_booked"], r["n_arrived"], None, None, None, None, 0, None))
        elif kind == PAID:  # a, b: paid in the period, to its end (rows only where some was paid)
            cell = money[(k, den, r["currency"])]
            cell[0], cell[1] = r["period"] or 0, r["total"]
        elif kind == BEFORE_CUTOFF:  # c: paid before the stored predictions' cut-off
            money[(k, den, r["currency"])][2] = r["total"]
        else:  # the stored predictions: future value, how many, their day
            rows.append((k, den, 0, 0, r["currency"], r["total"], r["n_booked"], None, 2, r["last"]))
    rows += [(k, den, 0, 0, cur, a, b, c, 1, None) for (k, den, cur), (a, b, c) in money.items()]
    return rows
