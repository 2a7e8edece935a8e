"""The planner's history grouped by the database (issue #18's speed): the first patients per cohort
month, the net revenue per cohort month and month of payment, and the first visits per branch and
month are counted by SQL statements built from ORM querysets (their month on the branch's clock is
the ORM's ``TruncMonth``), so a chain's million patients are never read row by row into Python.

The statements return months as the database gives them (PostgreSQL: a timestamp; SQLite: its text);
``month_of`` reads either."""

from __future__ import annotations

import datetime as dt
import uuid
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
from clinicflow.core.models import Branch, Organization


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


def _firsts(
    org: Organization, start: dt.datetime, end: dt.datetime, tz: dt.tzinfo, branches: list[Branch] | None
) -> QuerySet[Any, Any]:
    """Per patient (and branch, with ``branches``) the first visit that happened, when it lies in
    [start, end), with its month ``cm`` on the clock ``tz``."""
    qs = Appointment.objects.for_org(org).filter(status__in=HAPPENED)
    keys = ["patient_id"]
    if branches is not None:
        qs = qs.filter(branch__in=[b.pk for b in branches])
        keys = ["branch_id", "patient_id"]
    out: QuerySet[Any, Any] = (
        qs.values(*keys)
        .annotate(first=Min("start_at"))
        .filter(first__gte=start, first__lt=end)
        .annotate(cm=TruncMonth("first", tzinfo=tz))
        .order_by()
    )
    return out


def first_visits_by_branch(
    *, org: Organization, branches: list[Branch], start: dt.datetime, end: dt.datetime
) -> dict[tuple[uuid.UUID, dt.date], int]:
    """Per (branch, month on the branch's clock) the patients whose first visit that happened at that
    branch was in that month (one statement; a part per time zone of the branches)."""
    out: dict[tuple[uuid.UUID, dt.date], int] = {}
    zones: dict[str, list[Branch]] = {}
    for b in branches:
        zones.setdefault(str(b.tz), []).append(b)
    parts: list[str] = []
    params: list[Any] = []
    for group in zones.values():
        firsts, p = sql_of(_firsts(org, start, end, group[0].tz, group))
        parts.append(f"SELECT f.branch_id, f.cm, COUNT(*) FROM ({firsts}) f GROUP BY f.branch_id, f.cm")  # nosec B608 # noqa: S608 - built from ORM querysets
        params.extend(p)
    if not parts:
        return out
    for branch_id, cm, n in fetch(" UNION ALL ".join(parts), params):
        key = (branch_id if isinstance(branch_id, uuid.UUID) else uuid.UUID(str(branch_id)), month_of(cm))
        out[key] = out.get(key, 0) + int(n)
    return out


def cohorts(
    *, org: Organization, start: dt.datetime, end: dt.datetime, tz: dt.tzinfo, currency: str
) -> tuple[dict[dt.date, int], list[tuple[dt.date | None, dt.date, Decimal]]]:
    """The first patients per month of their first visit that happened in [start, end) (anywhere in
    the organisation), and the net revenue (payments less refunds, in ``currency``, paid in [start,
    end)) per (cohort month — None for patients without a first visit then —, month of payment)."""
    firsts, f_params = sql_of(_firsts(org, start, end, tz, None))
    pays, p_params = sql_of(
        Payment.objects.for_org(org)
        .filter(paid_at__gte=start, paid_at__lt=end, currency=currency)
        .annotate(m=TruncMonth("paid_at", tzinfo=tz))
        .values("patient_id", "m", "kind", "amount")
        .order_by()
    )
    # one statement, the first visits grouped once: the cohorts' sizes (0) and revenue (1)
    rows = fetch(
        f"WITH f AS ({firsts}), p AS ({pays}) "  # nosec B608 # noqa: S608 - built from ORM querysets, values bound
        "SELECT 0, f.cm, f.cm, COUNT(*) FROM f GROUP BY f.cm UNION ALL "
        "SELECT 1, f.cm, p.m, SUM(CASE WHEN p.kind = %s THEN -p.amount ELSE p.amount END) "
        "FROM p LEFT JOIN f ON f.patient_id = p.patient_id GROUP BY f.cm, p.m",
        (*f_params, *p_params, REFUND),
        joined=True,
    )
    size = {month_of(cm): int(n) for part, cm, _, n in rows if part == 0}
    revenue = [
        (None if cm is None else month_of(cm), month_of(m), Decimal(str(net or 0)))
        for part, cm, m, net in rows
        if part == 1
    ]
    return size, revenue


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
    first ones their previous visit (a gap before ``since`` is no link: the links need none)."""
    visits, params = sql_of(
        Appointment.objects.for_org(org)
        .filter(
            status__in=HAPPENED,
            start_at__gte=min(since, recent) - lookback,
            start_at__lt=end,
            currency=currency,
        )
        .annotate(m=TruncMonth("start_at", tzinfo=tz))
        .values("patient_id", "start_at", "price", "m")
        .order_by()
    )
    gap = _seconds("v.start_at", "v.prev")
    counts = ", ".join(
        f"SUM(CASE WHEN b.link = {i} THEN 1 ELSE 0 END) OVER (PARTITION BY b.patient_id "
        f"ORDER BY b.start_at ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS c{i}"
        for i in range(1, len(GAP_EDGES) + 1)
    )
    cols = ", ".join(f"c.c{i}" for i in range(1, len(GAP_EDGES) + 1))
    ctes = (
        f"WITH v0 AS ({visits}), "  # nosec B608 # noqa: S608 - built from ORM querysets and constants
        "v AS (SELECT v0.patient_id, v0.start_at, v0.price, v0.m, LAG(v0.start_at) OVER "
        "(PARTITION BY v0.patient_id ORDER BY v0.start_at) AS prev FROM v0), "
        f"b AS (SELECT v.patient_id, v.start_at, v.price, v.m, {gap} AS gap, "
        f"CASE WHEN v.prev >= %s THEN {_gap_bin(gap)} ELSE 0 END AS link FROM v)"
    )
    since_p = connection.ops.adapt_datetimefield_value(since)
    tail = f"WHEN b.gap >= {GAP_EDGES[-1] * 86400} AND b.gap < {TAIL_DAYS * 86400} THEN {len(GAP_EDGES) + 1}"
    nulls = ", ".join("NULL" for _ in range(len(GAP_EDGES) - 1))
    # one statement: the visits' groups (0) and the recent gaps' bins (1)
    found = fetch(
        f"{ctes}, c AS (SELECT b.start_at, b.price, b.m, {counts} FROM b) "  # nosec B608 # noqa: S608 - constants
        f"SELECT 0, c.m, {cols}, SUM(c.price) FROM c WHERE c.start_at >= %s GROUP BY c.m, {cols} UNION ALL "
        f"SELECT 1, NULL, h.k, {nulls}, COUNT(*) FROM (SELECT CASE WHEN b.gap IS NULL THEN -1 {tail} "
        f"ELSE {_gap_bin('b.gap')} END AS k FROM b WHERE b.start_at >= %s) h GROUP BY h.k",
        (*params, since_p, since_p, connection.ops.adapt_datetimefield_value(recent)),
    )
    linked = [r[1:] for r in found if r[0] == 0]
    hist = [(r[2], r[-1]) for r in found if r[0] == 1]
    bins = [0] * (len(GAP_EDGES) + 2)
    for k, n in hist:
        if k is not None and int(k) >= 0:
            bins[int(k)] += int(n)
    groups = [(month_of(m), tuple(int(x) for x in c), float(p or 0)) for m, *c, p in linked]
    return groups, bins


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
