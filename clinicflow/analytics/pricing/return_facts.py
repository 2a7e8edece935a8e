"""The planner's return visits (issue #18's speed): the gaps between a patient's visits and the returns
linked since a month (``retention.repeat_history``), counted by one definition whether read from the
return facts (``return_models``: built by the full rebuild and the incremental update) or grouped from
the raw visits (the fallback, and the tests' reference).

A visit is an appointment that happened, in its currency, on the local day of its branch's clock; its
month is that day's; its gap is the time since the patient's previous visit in that currency (ties in
time ordered by the appointment's id). ``gap_bins`` counts the visits of some local days by their gap's
bin (``return_models.ReturnGapFact``); ``link_rows`` groups the visits of the months from ``since`` by
their month and by how many of their patient's gaps since ``since`` fall in each bin 1..5 (a gap
counted when the visit before it is in that month or later, on that visit's branch's clock), with their
price. The facts keep, per visit, the links since its own month and since each of the five months
before (``OFFSETS``: the planner replays at most ``retention.RAMP_MONTHS`` months), so the planner reads
a few rows per day; the raw statement reads the visits of the window (and, for the gaps,
``LOOKBACK`` before it)."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from collections.abc import Collection, Sequence
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth

from clinicflow.acquisition.attribution import HAPPENED
from clinicflow.analytics.owner.fact_clear import clear, row_id
from clinicflow.analytics.owner.factsql import (
    day_chunks,
    day_filter,
    execute,
    local_date,
    month_number,
    near,
    qs_sql,
    tune,
    zones_sql,
)
from clinicflow.analytics.pricing.grouped import GAP_EDGES, TAIL_DAYS, fetch, month_of
from clinicflow.analytics.pricing.return_models import ReturnGapFact, ReturnLinkFact
from clinicflow.analytics.reports.sqlplan import IdArray, of_ids
from clinicflow.booking.models import Appointment
from clinicflow.core.models import Branch, Organization

OFFSETS = 6  # the months ``since`` of a visit's link rows: its own month and the five before
LOOKBACK = dt.timedelta(days=200)  # before a window: every previous visit of a gap under TAIL_DAYS
TAIL = len(GAP_EDGES) + 1  # the gaps' bin from the last edge to TAIL_DAYS; GAP_EDGES' last: later or none
OFFSET_ROWS = " UNION ALL ".join(f"SELECT {j} AS j" for j in range(OFFSETS))
MAX_GAP_DAYS = 400  # ``ReturnGapFact.days``: longer gaps held at it (a lapsed list's days are fewer)
LINKS = tuple(f"c{i}" for i in range(1, len(GAP_EDGES) + 1))


def _utc(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


def _month_start(month: int) -> dt.date:
    return dt.date(month // 12, month % 12 + 1, 1)


def _seconds(later: str, earlier: str) -> str:
    if connection.vendor == "postgresql":
        return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"
    return f"(CAST(strftime('%%s', {later}) AS INTEGER) - CAST(strftime('%%s', {earlier}) AS INTEGER))"


def _gap_bin(gap: str, prev: str) -> str:
    whens = " ".join(f"WHEN {gap} < {d * 86400} THEN {i}" for i, d in enumerate(GAP_EDGES))
    last = len(GAP_EDGES)
    tail = f"WHEN {gap} < {TAIL_DAYS * 86400} THEN {TAIL}"
    return f"CASE WHEN {prev} IS NULL THEN {last} {whens} {tail} ELSE {last} END"


def _branches(org: Organization) -> list[Any]:
    return list(Branch.objects.for_org(org).values_list("pk", flat=True))


def _gap_days(day: str, prev: str) -> str:
    """The local days between a visit's day and the previous visit's (at most ``MAX_GAP_DAYS``)."""
    if connection.vendor == "postgresql":
        diff = f"({day} - {prev})"
    else:
        diff = f"CAST(julianday({day}) - julianday({prev}) AS INTEGER)"
    return (
        f"CASE WHEN {prev} IS NULL THEN NULL WHEN {diff} > {MAX_GAP_DAYS} THEN {MAX_GAP_DAYS} ELSE {diff} END"
    )


def _visits(
    org: Organization,
    *,
    start: dt.datetime | None,
    end: dt.datetime | None,
    currency: str | None,
    near_days: Sequence[dt.date] | None,
) -> tuple[str, tuple[Any, ...]]:
    """The CTEs ``zb``, ``a``, ``v0``, ``v1``, ``v`` of the visits: ``v`` has the patient ``p``, currency
    ``cur``, moment ``t``, id ``aid``, branch ``b``, ``price``, local ``day``, its month number ``m``,
    the previous visit's month number ``pm`` and the gap's bin ``g``. ``near_days``: only the patients
    with a visit that can fall on these local days."""
    qs: QuerySet[Any, Any] = Appointment.objects.for_org(org).filter(status__in=HAPPENED).order_by()
    if start is not None:
        qs = qs.filter(start_at__gte=start)
    if end is not None:
        qs = qs.filter(start_at__lt=end)
    if currency is not None:
        qs = qs.filter(currency=currency)
    if near_days is not None:
        patients = list(
            Appointment.objects.for_org(org)
            .filter(status__in=HAPPENED, branch__in=_branches(org))  # by the (org, branch, start) index
            .filter(near("start_at", near_days))
            .order_by()
            .values_list("patient_id", flat=True)
            .distinct()
        )
        qs = of_ids(qs, IdArray(tuple(patients)))  # one array: their visits by the (org, patient) index
    a_sql, a_params = qs_sql(
        qs.values(
            "price", p=F("patient_id"), cur=F("currency"), t=F("start_at"), aid=F("id"), b=F("branch_id")
        )
    )
    zones, z_params = zones_sql(org)
    month = month_number("v0.day")
    window = "PARTITION BY v0.p, v0.cur ORDER BY v0.t, v0.aid"
    sql = (
        f"zb AS ({zones}), a AS{' MATERIALIZED' if near_days is not None else ''} ({a_sql}), "  # nosec B608 # noqa: S608 - ORM SQL and constants, values bound
        f"v0 AS (SELECT a.p, a.cur, a.t, a.aid, a.b, a.price, {local_date('a.t', 'zb.tz')} AS day "
        "FROM a JOIN zb ON zb.id = a.b), "
        f"v1 AS (SELECT v0.p, v0.cur, v0.t, v0.aid, v0.b, v0.price, v0.day, {month} AS m, "
        f"LAG(v0.t) OVER ({window}) AS pt, LAG({month}) OVER ({window}) AS pm, "
        f"LAG(v0.day) OVER ({window}) AS pday FROM v0), "
        f"v AS (SELECT v1.p, v1.cur, v1.t, v1.aid, v1.b, v1.price, v1.day, v1.m, v1.pm, "
        f"{_gap_bin(_seconds('v1.t', 'v1.pt'), 'v1.pt')} AS g, "
        f"{_gap_days('v1.day', 'v1.pday')} AS gd FROM v1)"
    )
    return sql, (*z_params, *a_params)


def _running() -> str:
    """The CTE ``r`` after ``v``: per visit its patient's gaps per bin 1..5 up to it (``r1``..``r5``; a
    first visit counts in 5)."""
    bin_ = f"CASE WHEN v.g = {TAIL} THEN {len(GAP_EDGES)} ELSE v.g END"
    counts = ", ".join(
        f"SUM(CASE WHEN {bin_} = {i} THEN 1 ELSE 0 END) OVER (PARTITION BY v.p, v.cur "
        f"ORDER BY v.t, v.aid ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS r{i}"
        for i in range(1, len(GAP_EDGES) + 1)
    )
    # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
    return f"r AS (SELECT v.p, v.cur, v.t, v.aid, v.day, v.m, v.price, {counts} FROM v)"  # nosec B608 # noqa: S608 - names and numbers from constants


def _links_every() -> str:
    """The CTEs ``r``, ``w``, ``o``, ``l``: each visit's links since its month and each of the five
    before (``l.since``). The links since ``S`` up to a visit are its running counts less those at its
    patient's first visit in ``S`` or later (whose own gap reaches before ``S``): the least running
    count over the visits of the months ``S``..its own (the counts only grow)."""
    mins = ", ".join(
        f"MIN(r.r{i}) OVER (PARTITION BY r.p, r.cur ORDER BY r.m RANGE BETWEEN {j} PRECEDING AND "
        f"CURRENT ROW) AS f{j}_{i}"
        for j in range(OFFSETS)
        for i in range(1, len(GAP_EDGES) + 1)
    )
    cases = ", ".join(
        "CASE o.j " + " ".join(f"WHEN {j} THEN w.r{i} - w.f{j}_{i}" for j in range(OFFSETS)) + f" END AS c{i}"
        for i in range(1, len(GAP_EDGES) + 1)
    )
    # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
    return (
        f"{_running()}, w AS (SELECT r.*, {mins} FROM r), o AS ({OFFSET_ROWS}), "  # nosec B608 # noqa: S608 - names and numbers from constants
        f"l AS (SELECT w.day, w.cur, w.m, w.m - o.j AS since, w.price, {cases} FROM w CROSS JOIN o)"
    )


def _links_since() -> str:
    """The CTEs ``r``, ``k``, ``w``, ``l``: each visit's links since the month ``k.s0`` (a parameter)."""
    firsts = ", ".join(
        f"MIN(CASE WHEN r.m >= k.s0 THEN r.r{i} END) OVER (PARTITION BY r.p, r.cur) AS f{i}"
        for i in range(1, len(GAP_EDGES) + 1)
    )
    counts = ", ".join(f"w.r{i} - w.f{i} AS c{i}" for i in range(1, len(GAP_EDGES) + 1))
    # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
    return (
        f"{_running()}, k AS (SELECT CAST(%s AS INTEGER) AS s0), "  # nosec B608 # noqa: S608 - names and numbers from constants
        f"w AS (SELECT r.*, k.s0, {firsts} FROM r CROSS JOIN k), "
        f"l AS (SELECT w.day, w.cur, w.m, w.s0 AS since, w.price, {counts} FROM w)"
    )


# --- the facts ------------------------------------------------------------------------------------


def _insert(org: Organization, days: list[dt.date] | None) -> int:
    start = None
    if days is not None:
        first = min(days)
        start = _utc(_month_start(first.year * 12 + first.month - 1 - OFFSETS)) - dt.timedelta(days=1)
    visits, v_params = _visits(org, start=start, end=None, currency=None, near_days=days)
    where, w_params = day_filter("v.day", days)
    org_id = Organization._meta.pk.get_db_prep_value(org.pk, connection)
    gaps = ReturnGapFact._meta.db_table
    sql = (
        f"INSERT INTO {gaps} (id, organization_id, day, currency, gap, days, visits) "  # nosec B608 # noqa: S608 - ORM SQL and constants, values bound
        f"WITH {visits} SELECT {row_id()}, %s, v.day, v.cur, v.g, v.gd, COUNT(*) FROM v WHERE 1 = 1{where} "
        "GROUP BY v.day, v.cur, v.g, v.gd"
    )
    # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
    written = execute(sql, (*v_params, org_id, *w_params))
    where, w_params = day_filter("l.day", days)
    links = ReturnLinkFact._meta.db_table
    cols = ", ".join(LINKS)
    lcols = ", ".join(f"l.{c}" for c in LINKS)
    sql = (
        f"INSERT INTO {links} (id, organization_id, day, currency, since, {cols}, visits, amount) "  # nosec B608 # noqa: S608 - ORM SQL and constants, values bound
        f"WITH {visits}, {_links_every()} "
        f"SELECT {row_id()}, %s, l.day, l.cur, l.since, {lcols}, COUNT(*), SUM(l.price) FROM l "
        f"WHERE 1 = 1{where} GROUP BY l.day, l.cur, l.since, {lcols}"
    )
    hashed = days is None and connection.vendor == "postgresql"
    if hashed:  # every day: the links grouped by hashing (not a sort of six rows a visit): 15% less
        _setting("enable_sort", "off")
    # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
    written += execute(sql, (*v_params, org_id, *w_params))
    if hashed:
        _setting("enable_sort", "on")
    return written


def _setting(name: str, value: str) -> None:
    with connection.cursor() as cur:
        cur.execute("SELECT set_config(%s, %s, true)", (name, value))


def _followed(org: Organization, days: Collection[dt.date], more: Collection[uuid.UUID] = ()) -> set[dt.date]:
    """The days and those of the visits after them of their patients (any appointment near the days, and
    ``more``: the changed patients, whose visit there may be gone — a deleted appointment) whose gaps or
    links they can change: the next ``OFFSETS`` months and ``TAIL_DAYS``."""
    near_days = (
        Appointment.objects.for_org(org)
        .filter(branch__in=_branches(org))
        .filter(near("start_at", days))
        .values("patient_id")
    )
    patients = Q(patient_id__in=near_days)
    if more:
        patients |= Q(patient_id__in=sorted(more, key=str))
    start = _utc(min(days)) - dt.timedelta(days=1)
    end = _utc(max(days)) + dt.timedelta(days=31 * (OFFSETS + 1))
    later = (
        Appointment.objects.for_org(org)
        .filter(patients, status__in=HAPPENED, start_at__gte=start, start_at__lt=end)
        .values_list("start_at", "branch__timezone")
        .distinct()
    )
    out = set(days)
    for at, zone in later:
        out.add(at.astimezone(zoneinfo.ZoneInfo(zone)).date())
    return out


def build_return_facts(
    org: Organization, days: Collection[dt.date] | None = None, patients: Collection[uuid.UUID] = ()
) -> int:
    """The return facts of every day (``days`` None) or of these local days and of the later days their
    patients' (and the changed ``patients``') gaps and links reach, deleted and written again; rows."""
    if days is not None and not days:
        return 0
    scope = sorted(_followed(org, days, patients)) if days is not None else None
    written = 0
    with transaction.atomic():
        tune()
        for chunk in day_chunks(scope):
            if chunk is None:  # every day: the organisation's rows (a sole tenant's table truncated)
                clear(org, ReturnGapFact, ReturnLinkFact)
            else:
                for model in (ReturnGapFact, ReturnLinkFact):
                    model.objects.for_org(org).filter(day__in=chunk).delete()
            written += _insert(org, chunk)
    return written


def facts_built(org: Organization) -> bool:
    return ReturnGapFact.objects.for_org(org).exists()


# --- the planner's reads ---------------------------------------------------------------------------


def gap_bins(
    *, org: Organization, d0: dt.date, d1: dt.date, currency: str, facts: bool | None = None
) -> list[int]:
    """The visits of the local days ``d0``..``d1`` per bin of their gap: 0..4 (``GAP_EDGES``), 5 (from
    ``TAIL_DAYS`` on, or no previous visit), 6 (from the last edge to ``TAIL_DAYS``)."""
    bins = [0] * (TAIL + 1)
    rows: Any
    if facts if facts is not None else facts_built(org):
        rows = (
            ReturnGapFact.objects.for_org(org)
            .filter(day__gte=d0, day__lte=d1, currency=currency)
            .values("gap")
            .annotate(n=Sum("visits"))
            .order_by()
            .values_list("gap", "n")
        )
    else:
        visits, params = _visits(
            org,
            start=_utc(d0) - LOOKBACK,
            end=_utc(d1) + dt.timedelta(days=2),
            currency=currency,
            near_days=None,
        )
        rows = fetch(
            f"WITH {visits} SELECT v.g, COUNT(*) FROM v WHERE v.day >= %s AND v.day <= %s GROUP BY v.g",  # nosec B608 # noqa: S608 - ORM SQL and constants, values bound
            (*params, connection.ops.adapt_datefield_value(d0), connection.ops.adapt_datefield_value(d1)),
        )
    for k, n in rows:
        bins[int(k)] += int(n)
    return bins


def link_rows(
    *, org: Organization, since: dt.date, d1: dt.date, currency: str, facts: bool | None = None
) -> list[tuple[dt.date, tuple[int, ...], Decimal]]:
    """The visits of the local days from the month ``since`` to ``d1`` grouped by their month and links
    since that month: ``(month, (c1..c5), price)``."""
    number = since.year * 12 + since.month - 1
    if facts if facts is not None else facts_built(org):
        found = (
            ReturnLinkFact.objects.for_org(org)
            .filter(since=number, day__gte=since, day__lte=d1, currency=currency)
            .annotate(mo=TruncMonth("day"))
            .values("mo", *LINKS)
            .annotate(a=Sum("amount"))
            .order_by()
            .values_list("mo", *LINKS, "a")
        )
        rows = [(month_of(mo), tuple(int(x) for x in c), Decimal(a or 0)) for mo, *c, a in found]
    else:
        visits, params = _visits(
            org,
            start=_utc(since) - dt.timedelta(days=1),
            end=_utc(d1) + dt.timedelta(days=2),
            currency=currency,
            near_days=None,
        )
        lcols = ", ".join(f"l.{c}" for c in LINKS)
        found = fetch(
            f"WITH {visits}, {_links_since()} SELECT l.m, {lcols}, SUM(l.price) FROM l "  # nosec B608 # noqa: S608 - ORM SQL and constants, values bound
            f"WHERE l.day >= %s AND l.day <= %s GROUP BY l.m, {lcols}",
            (
                *params,
                number,
                connection.ops.adapt_datefield_value(since),
                connection.ops.adapt_datefield_value(d1),
            ),
        )
        rows = [(_month_start(int(m)), tuple(int(x) for x in c), Decimal(str(a or 0))) for m, *c, a in found]
    merged: dict[tuple[dt.date, tuple[int, ...]], Decimal] = {}
    for m, c, a in rows:
        merged[(m, c)] = merged.get((m, c), Decimal(0)) + a
    return sorted(((m, c, a) for (m, c), a in merged.items()), key=lambda r: (r[0], r[1]))


def patients_seen(
    *, org: Organization, d0: dt.date | None, d1: dt.date, currency: str, facts: bool | None = None
) -> int:
    """The patients with a visit in ``currency`` on the local days ``d0``..``d1`` (``d0`` None: any day
    up to ``d1``). From the facts: the visits of those days whose previous visit is before ``d0`` (or
    none), a few rows per day; else counted from the visits."""
    if d0 is not None and (facts if facts is not None else facts_built(org)):
        rows = (
            ReturnGapFact.objects.for_org(org)
            .filter(day__gte=d0, day__lte=d1, currency=currency)
            .values_list("day", "days", "visits")
        )
        return sum(n for day, gap, n in rows if gap is None or gap > (day - d0).days)
    qs = Appointment.objects.for_org(org).filter(status__in=HAPPENED, currency=currency).order_by()
    if d0 is not None:
        qs = qs.filter(start_at__gte=_utc(d0) - dt.timedelta(days=1))
    a_sql, a_params = qs_sql(
        qs.filter(start_at__lt=_utc(d1) + dt.timedelta(days=2)).values("patient_id", "start_at", "branch_id")
    )
    zones, z_params = zones_sql(org)
    day = local_date("a.start_at", "zb.tz")
    lower = f" AND {day} >= %s" if d0 is not None else ""
    bounds = (
        *((connection.ops.adapt_datefield_value(d0),) if d0 is not None else ()),
        connection.ops.adapt_datefield_value(d1),
    )
    found = fetch(
        f"WITH zb AS ({zones}), a AS ({a_sql}) SELECT COUNT(DISTINCT a.patient_id) FROM a "  # nosec B608 # noqa: S608 - ORM SQL and constants, values bound
        f"JOIN zb ON zb.id = a.branch_id WHERE {day} <= %s{lower}",
        (*z_params, *a_params, bounds[-1], *bounds[:-1]),
    )
    return int(found[0][0] or 0)
