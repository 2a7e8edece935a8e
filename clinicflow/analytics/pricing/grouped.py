"""The planner's history grouped by the database (issue #18's speed): the recall contacts and their
revenue per month are counted by SQL statements built from ORM querysets (their month on the clock
``tz`` is the ORM's ``TruncMonth``), so a chain's million patients are never read row by row into
Python; the first patients and revenue per month are
``whatif_months``'s, the return visits' links and gaps ``return_facts``'s.

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

from clinicflow.acquisition.attribution import REFUND
from clinicflow.analytics.reports.sqlplan import fetch_all
from clinicflow.booking.models import Payment
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
