"""The planner's history grouped by the database (issue #18's speed): the return visits' links and
gaps, the recall contacts and their revenue per month are counted by SQL statements built from ORM
querysets (their month on the clock ``tz`` is the ORM's ``TruncMonth``), so a chain's million patients
are never read row by row into Python; the first patients and revenue per month are
``whatif_months``'s.

The statements return months as the database gives them (PostgreSQL: a timestamp; SQLite: its text);
``month_of`` reads either."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Count, DateTimeField, ExpressionWrapper, F, Min, QuerySet
from django.db.models.functions import TruncMonth

from clinicflow.acquisition.attribution import HAPPENED, REFUND
from clinicflow.analytics.reports.sqlplan import fetch_all
from clinicflow.booking.models import Appointment, Payment
from clinicflow.care.models import RecallContact
from clinicflow.core.models import Organization


def sql_of(qs: QuerySet[Any, Any]) -> tuple[str, tuple[Any, ...]]:
    """A queryset's SQL and parameters, to be a part of a statement."""
    sql, params = qs.query.sql_with_params()
    return sql, tuple(params)


def fetch(sql: str, params: Sequence[Any], *, joined: bool = False) -> list[tuple[Any, ...]]:
    """The rows of one statement; ``joined``: a join of grouped subqueries PostgreSQL cannot size, run
    without nested loops (a nested loop re-grouped the first visits once per payment)."""
    if joined:
        return fetch_all(sql, params)
    with connection.cursor() as cur:
        # nosemgrep: sql-built-from-strings — SQL of ORM querysets and constants, values bound
        cur.execute(sql, params)
        return list(cur.fetchall())


def month_of(value: Any) -> dt.date:
    """The first day of the month of a truncated timestamp (a datetime, a date or ``YYYY-MM-..`` text)."""
    if isinstance(value, dt.date):
        return dt.date(value.year, value.month, 1)
    text = str(value)
    return dt.date(int(text[:4]), int(text[5:7]), 1)


# the bins of a visit's gap after the patient's previous visit, in days: 0 below the first edge (the
# same visit's day or a course's next session), 1..4 the weeks before a return is certain, 5 a return
GAP_EDGES = (7, 14, 21, 28, 35)
TAIL_DAYS = 180  # the returns seen (from the last edge) that set the law the sooner ones follow


def _seconds(later: str, earlier: str) -> str:
    """SQL for the seconds between two timestamp columns."""
    if connection.vendor == "postgresql":
        return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"
    return f"(CAST(strftime('%%s', {later}) AS INTEGER) - CAST(strftime('%%s', {earlier}) AS INTEGER))"


def _gap_bin(gap: str) -> str:
    whens = " ".join(f"WHEN {gap} < {d * 86400} THEN {i}" for i, d in enumerate(GAP_EDGES))
    return f"CASE WHEN {gap} IS NULL THEN 0 {whens} ELSE {len(GAP_EDGES)} END"


def return_links(
    *,
    org: Organization,
    since: dt.datetime,
    lookback: dt.timedelta,
    recent: dt.datetime,
    end: dt.datetime,
    tz: dt.tzinfo,
    currency: str,
) -> tuple[list[tuple[dt.date, tuple[int, ...], float]], list[int]]:
    """The visits that happened in [since, end), grouped by their month on the clock ``tz`` and by how
    many of the patient's gaps since ``since`` — a gap counted when the visit before it was on or
    after ``since`` — fall in each bin of ``GAP_EDGES`` (1..5), up to that visit: ``(month, counts,
    price)``; and the gaps before the visits of [recent, end) per bin 0..5 with, last, those from
    the last edge to ``TAIL_DAYS``. The visits of ``lookback`` before (``since`` or ``recent``) give the
    first ones their previous visit (a gap before ``since`` is no link: the links need none, so they
    read the visits from ``since`` on; the gaps read the lookback too, two statements)."""
    return _links(org, since, end, tz, currency), _gaps(
        org, min(since, recent) - lookback, recent, end, currency
    )


def _visits(org: Organization, start: dt.datetime, end: dt.datetime, currency: str) -> QuerySet[Any, Any]:
    return (
        Appointment.objects.for_org(org)
        .filter(status__in=HAPPENED, start_at__gte=start, start_at__lt=end, currency=currency)
        .order_by()
    )


def _links(
    org: Organization, since: dt.datetime, end: dt.datetime, tz: dt.tzinfo, currency: str
) -> list[tuple[dt.date, tuple[int, ...], float]]:
    visits, params = sql_of(
        _visits(org, since, end, currency)
        .annotate(m=TruncMonth("start_at", tzinfo=tz))
        .values("patient_id", "start_at", "price", "m")
    )
    gap = _seconds("v.start_at", "v.prev")
    counts = ", ".join(
        f"SUM(CASE WHEN b.link = {i} THEN 1 ELSE 0 END) OVER (PARTITION BY b.patient_id "
        f"ORDER BY b.start_at ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS c{i}"
        for i in range(1, len(GAP_EDGES) + 1)
    )
    cols = ", ".join(f"c.c{i}" for i in range(1, len(GAP_EDGES) + 1))
    since_p = connection.ops.adapt_datetimefield_value(since)
    found = fetch(
        f"WITH v0 AS ({visits}), "  # nosec B608 # noqa: S608 - built from ORM querysets and constants
        "v AS (SELECT v0.patient_id, v0.start_at, v0.price, v0.m, LAG(v0.start_at) OVER "
        "(PARTITION BY v0.patient_id ORDER BY v0.start_at) AS prev FROM v0), "
        f"b AS (SELECT v.patient_id, v.start_at, v.price, v.m, "
        f"CASE WHEN v.prev >= %s THEN {_gap_bin(gap)} ELSE 0 END AS link FROM v), "
        f"c AS (SELECT b.price, b.m, {counts} FROM b) "
        f"SELECT c.m, {cols}, SUM(c.price) FROM c GROUP BY c.m, {cols}",
        (*params, since_p),
    )
    return [(month_of(m), tuple(int(x) for x in c), float(p or 0)) for m, *c, p in found]


def _gaps(
    org: Organization, start: dt.datetime, recent: dt.datetime, end: dt.datetime, currency: str
) -> list[int]:
    visits, params = sql_of(_visits(org, start, end, currency).values("patient_id", "start_at"))
    gap = _seconds("v0.start_at", "LAG(v0.start_at) OVER (PARTITION BY v0.patient_id ORDER BY v0.start_at)")
    tail = f"WHEN g.gap >= {GAP_EDGES[-1] * 86400} AND g.gap < {TAIL_DAYS * 86400} THEN {len(GAP_EDGES) + 1}"
    found = fetch(
        f"WITH v0 AS ({visits}), "  # nosec B608 # noqa: S608 - built from ORM querysets and constants
        f"g AS (SELECT v0.start_at, {gap} AS gap FROM v0) "
        f"SELECT h.k, COUNT(*) FROM (SELECT CASE WHEN g.gap IS NULL THEN -1 {tail} "
        f"ELSE {_gap_bin('g.gap')} END AS k FROM g WHERE g.start_at >= %s) h GROUP BY h.k",
        (*params, connection.ops.adapt_datetimefield_value(recent)),
    )
    bins = [0] * (len(GAP_EDGES) + 2)
    for k, n in found:
        if k is not None and int(k) >= 0:
            bins[int(k)] += int(n)
    return bins


def recall_contacts(
    *, org: Organization, start: dt.datetime, end: dt.datetime, tz: dt.tzinfo
) -> list[tuple[dt.date, int, int, dt.datetime]]:
    """The recall contacts of [start, end) per month on the clock ``tz``: ``(month, contacts, booked,
    first contact)`` — one row a month, however many patients were contacted."""
    rows = (
        RecallContact.objects.for_org(org)
        .filter(contacted_at__gte=start, contacted_at__lt=end)
        .annotate(m=TruncMonth("contacted_at", tzinfo=tz))
        .values("m")
        .annotate(n=Count("id"), booked=Count("booked_at"), first=Min("contacted_at"))
        .order_by()
        .values_list("m", "n", "booked", "first")
    )
    return [(month_of(m), int(n), int(b), first) for m, n, b, first in rows]


def recall_revenue(
    *,
    org: Organization,
    start: dt.datetime,
    end: dt.datetime,
    tz: dt.tzinfo,
    currency: str,
    window: dt.timedelta,
) -> list[tuple[dt.date, dt.date, Decimal]]:
    """The payments (refunds left out) in [start, end) in ``currency`` of the patients who booked
    from a recall contact of [start, end), paid within ``window`` of that booking: per (month of the
    contact, month of the payment) on the clock ``tz``; a payment within the windows of two bookings
    counts for each (one statement, grouped by the database)."""
    contacts, c_params = sql_of(
        RecallContact.objects.for_org(org)
        .filter(contacted_at__gte=start, contacted_at__lt=end, booked_at__isnull=False)
        .annotate(
            cm=TruncMonth("contacted_at", tzinfo=tz),
            until=ExpressionWrapper(F("booked_at") + window, output_field=DateTimeField()),
        )
        .values("patient_id", "booked_at", "until", "cm")
        .order_by()
    )
    pays, p_params = sql_of(
        Payment.objects.for_org(org)
        .filter(paid_at__gte=start, paid_at__lt=end, currency=currency)
        .exclude(kind=REFUND)
        .annotate(pm=TruncMonth("paid_at", tzinfo=tz))
        .values("patient_id", "paid_at", "amount", "pm")
        .order_by()
    )
    rows = fetch(
        f"WITH c AS ({contacts}), p AS ({pays}) "  # nosec B608 # noqa: S608 - built from ORM querysets, values bound
        "SELECT c.cm, p.pm, SUM(p.amount) FROM c JOIN p ON p.patient_id = c.patient_id "
        "AND p.paid_at >= c.booked_at AND p.paid_at < c.until GROUP BY c.cm, p.pm",
        (*c_params, *p_params),
        joined=True,  # a hash join on the patient (a nested loop over the CTEs took 52 s)
    )
    return [(month_of(cm), month_of(pm), Decimal(str(total or 0))) for cm, pm, total in rows]
