"""The planner's first patients and net revenue per month (issue #18's speed), by the definitions the
owner's reports use, read from the owner's daily facts when they are built and from the raw tables
otherwise — the same figures either way (``test_whatif_months.py``):

- a **first patient** is a patient whose first ever visit that happened (``HAPPENED``, anywhere in the
  organisation: ``DESIGN.md``'s "first patient") falls in the month, counted by the branch of that
  visit on the local day of its clock — ``DayFact.first_arrived`` and the cohort report's first
  patients (``CohortFact``, ``owner.cohort_facts``). Before, the planner counted a patient's first
  visit at each branch (a patient new to a branch was a first visit there) and the cohorts on the
  first branch's clock;
- the **net revenue** of a month is every payment less refunds in the currency, on the local day of its
  branch's clock — the revenue report's (``RevenueSplitFact``, ``owner.selectors.revenue_split``);
- the **cohort revenue** is the net revenue of a month's first patients paid k months after their
  first visit's month, on the clock of the branch of that visit (the cohort report's; a payment made
  before the first visit's month counts at k = 0).

The facts hold a branch's whole local days, so the raw statement counts the same local days: the
history's months are read per branch on its own clock. Facts are read when the organisation's are
built (``CohortFact`` and ``RevenueSplitFact`` rows exist): the worker keeps them current within a
minute of a change. Reading them costs a few thousand rows however many patients the chain has; the
raw statement groups every visit that happened (a fresh simulation, the tests)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Min, Sum

from clinicflow.acquisition.attribution import HAPPENED
from clinicflow.analytics.models import CohortFact, DayFact
from clinicflow.analytics.owner.factsql import local_date, month_number, qs_sql, zones_sql
from clinicflow.analytics.owner.grouped import signed_cents
from clinicflow.analytics.owner.selectors import revenue_split
from clinicflow.analytics.owner.split_facts import RevenueSplitFact
from clinicflow.analytics.pricing.return_facts import patients_seen
from clinicflow.analytics.reports.sqlplan import fetch_all
from clinicflow.booking.models import Appointment, Payment
from clinicflow.core.models import Organization

CENT = Decimal("0.01")


@dataclass
class Months:
    """Per history month ``months[i]``: ``first_visits[(branch, month)]`` the first patients;
    ``cohort_cents[(c, j)]`` the net revenue in cents paid in month ``j`` by the first patients of
    month ``c`` (c ≤ j); ``revenue[j]`` the month's net revenue. ``facts``: read from the facts."""

    months: list[dt.date]
    first_visits: dict[tuple[uuid.UUID, dt.date], int] = field(default_factory=dict)
    cohort_cents: dict[tuple[int, int], int] = field(default_factory=dict)
    revenue: dict[int, Decimal] = field(default_factory=dict)
    facts: bool = False


def _number(month: dt.date) -> int:
    """year × 12 + month − 1 (``CohortFact.cohort``)."""
    return month.year * 12 + month.month - 1


def facts_ready(org: Organization) -> bool:
    """Whether the organisation's cohort and revenue facts are built (the full rebuild writes both)."""
    return CohortFact.objects.for_org(org).exists() and RevenueSplitFact.objects.for_org(org).exists()


def monthly(
    *,
    org: Organization,
    months: list[dt.date],
    date_to: dt.date,
    currency: str,
    facts: bool | None = None,
) -> Months:
    """The figures of the local days ``months[0]`` .. ``date_to`` (``facts`` None: from the facts
    when they are built)."""
    if not months:
        return Months(months=months)
    use = facts_ready(org) if facts is None else facts
    out = _from_facts(org, months, date_to, currency) if use else _from_raw(org, months, date_to, currency)
    out.revenue = {j: out.revenue.get(j, Decimal(0)) for j in range(len(months))}
    return out


def _from_facts(org: Organization, months: list[dt.date], date_to: dt.date, currency: str) -> Months:
    out = Months(months=months, facts=True)
    base, n = _number(months[0]), len(months)
    rows = (
        CohortFact.objects.for_org(org)
        .filter(day__gte=months[0], day__lte=date_to, currency__in=["", currency])
        .order_by()
        .values("branch_id", "cohort", "k", "currency")
        .annotate(n=Sum("patients"), c=Sum("cents"))
        .values_list("branch_id", "cohort", "k", "currency", "n", "c")
    )
    for branch_id, cohort, k, cur, patients, cents in rows:
        c = int(cohort) - base
        if cur == "" and int(k) == 0 and patients:
            key = (branch_id, months[c])
            out.first_visits[key] = out.first_visits.get(key, 0) + int(patients)
        elif cur == currency and cents and c >= 0 and c + max(int(k), 0) < n:
            cell = (c, c + max(int(k), 0))  # paid before the first visit's month: in that month
            out.cohort_cents[cell] = out.cohort_cents.get(cell, 0) + int(cents)
    for j, month in enumerate(months):  # the revenue report's net revenue, month by month
        last = min(_next(month) - dt.timedelta(days=1), date_to)
        split = revenue_split(org=org, d0=month, d1=last, branch=None).get(currency)
        if split is not None:
            out.revenue[j] = split.total
    return out


def _next(month: dt.date) -> dt.date:
    return dt.date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def _from_raw(org: Organization, months: list[dt.date], date_to: dt.date, currency: str) -> Months:
    """One statement: the first patients per branch and month (0), the cohorts' revenue (1) and the
    months' revenue (2), by the facts' definitions (``owner.cohort_facts._firsts``, ``facts_sql``)."""
    out = Months(months=months)
    base, n = _number(months[0]), len(months)
    happened = Appointment.objects.for_org(org).filter(status__in=HAPPENED).order_by()
    firsts, f_params = qs_sql(
        happened.values("patient_id").annotate(at=Min("start_at")).values("patient_id", "at")
    )
    aph, a_params = qs_sql(happened.values("patient_id", "start_at", "branch_id"))
    zones, z_params = zones_sql(org)
    # the payments that can fall on the history's local days in some zone (a day's margin each side)
    start = dt.datetime.combine(months[0], dt.time.min, tzinfo=dt.UTC) - dt.timedelta(days=1)
    end = dt.datetime.combine(date_to, dt.time.min, tzinfo=dt.UTC) + dt.timedelta(days=2)
    pays = Payment.objects.for_org(org).filter(currency=currency).order_by()
    in_window, w_params = qs_sql(
        pays.filter(paid_at__gte=start, paid_at__lt=end).values("branch_id", "paid_at", c=signed_cents())
    )
    # the first patients' payments: to the end of the history's last month on any clock (k ≥ 0)
    theirs, t_params = qs_sql(
        pays.filter(
            paid_at__lt=dt.datetime.combine(_next(months[-1]), dt.time.min, tzinfo=dt.UTC)
            + dt.timedelta(days=1)
        ).values("patient_id", "paid_at", c=signed_cents())
    )
    day = local_date("f.at", "zb.tz")
    pay_month = month_number(local_date("pay.paid_at", "fa.tz"))
    paid_day = local_date("w.paid_at", "zb.tz")
    sql = (
        f"WITH f AS ({firsts}), aph AS ({aph}), zb AS ({zones}), "  # nosec B608 # noqa: S608 - ORM SQL and constants, values bound
        f"y AS (SELECT DISTINCT f.patient_id AS p, aph.branch_id AS b, zb.tz, {day} AS day "
        "FROM f JOIN aph ON aph.patient_id = f.patient_id AND aph.start_at = f.at "
        "JOIN zb ON zb.id = aph.branch_id), "
        f"fa AS (SELECT y.p, y.b, y.tz, {month_number('y.day')} AS cm FROM y "
        "WHERE y.day >= %s AND y.day <= %s), "
        f"pay AS ({theirs}), w AS ({in_window}), "
        f"r AS (SELECT fa.cm, {pay_month} - fa.cm AS k, pay.c FROM fa JOIN pay ON pay.patient_id = fa.p), "
        f"t AS (SELECT {month_number(paid_day)} AS m, w.c FROM w JOIN zb ON zb.id = w.branch_id "
        f"WHERE {paid_day} >= %s AND {paid_day} <= %s) "
        "SELECT 0, fa.b, fa.cm, 0, COUNT(*) FROM fa GROUP BY fa.b, fa.cm "
        "UNION ALL SELECT 1, NULL, r.cm, CASE WHEN r.k < 0 THEN 0 ELSE r.k END, SUM(r.c) FROM r "
        "GROUP BY r.cm, CASE WHEN r.k < 0 THEN 0 ELSE r.k END "
        "UNION ALL SELECT 2, NULL, t.m, 0, SUM(t.c) FROM t GROUP BY t.m"
    )
    d0, d1 = months[0], date_to
    params = (*f_params, *a_params, *z_params, d0, d1, *t_params, *w_params, d0, d1)
    for part, branch, cm, k, value in fetch_all(sql, params):
        c = int(cm) - base
        if int(part) == 0:
            key = (_uuid(branch), months[c])
            out.first_visits[key] = int(value)
        elif int(part) == 1 and value and c + int(k) < n:
            out.cohort_cents[(c, c + int(k))] = int(value)
        elif int(part) == 2 and 0 <= c < n:
            out.revenue[c] = (Decimal(int(value or 0)) / 100).quantize(CENT)
    return out


def _uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def lapsed_patients(*, org: Organization, day: dt.date, days: int, currency: str, facts: bool) -> int:
    """The patients lapsed at the start of the local ``day``: with a visit that happened before it, the
    last on a local day at least ``days`` before it. From the facts: the first patients before ``day``
    (``DayFact.first_arrived``) less the patients with a visit on the ``days`` before
    (``return_facts.patients_seen``: the return facts, a few rows per day) — no visit is read. A patient
    whose first visit happened at two branches at the same moment counts for each, as in the owner's
    first patients; the visits are those in ``currency`` (the planner's branches share one)."""
    since = day - dt.timedelta(days=days)
    last = day - dt.timedelta(days=1)
    recent = patients_seen(org=org, d0=since, d1=last, currency=currency, facts=None if facts else False)
    if not facts:
        return patients_seen(org=org, d0=None, d1=last, currency=currency, facts=False) - recent
    before = DayFact.objects.for_org(org).filter(day__lt=day).aggregate(n=Sum("first_arrived"))["n"]
    return int(before or 0) - recent
