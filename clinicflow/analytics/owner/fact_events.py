"""The incremental update's events (PostgreSQL, issue #17): what changed for first patients whose first
visits, credit and card did not — a visit or a payment of theirs after their first visit. Their cells'
rows keyed by an event's own local day (the channel facts' payments per day paid) or month (the cohort
facts' visits and revenue of a month) are built again for those days and months alone, from the members
of the cell with a payment that day or a visit or payment that month (a few per cell), instead of every
first patient of the cell (a chain's day of events reaches ~2,000 cells of ~36 first patients each:
71,000 patients' whole histories read for 3,000 changed ones).

``CellEvents.days`` holds (branch, cell day, event day): the cell ``(branch, day)`` of a first visit
(``FirstVisitFact``) and a local day, on that branch's clock, when one of its first patients' visits or
payments changed."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import connection

from clinicflow.acquisition.attribution import HAPPENED
from clinicflow.analytics.owner.factsql import Cells, near, qs_sql, zones_sql
from clinicflow.analytics.owner.first_models import FirstVisitFact
from clinicflow.booking.models import Appointment, Payment
from clinicflow.core.models import Branch, Organization


def month_of(day: dt.date) -> int:
    """year × 12 + month − 1 (``CohortFact.cohort``, ``factsql.month_number``)."""
    return day.year * 12 + day.month - 1


@dataclass(frozen=True)
class CellEvents:
    """(branch, cell day, event day) triples: see the module."""

    days: tuple[tuple[uuid.UUID, dt.date, dt.date], ...]
    # (patient, branch, cell day): the changed first patients of the events and their cells
    members: tuple[tuple[uuid.UUID, uuid.UUID, dt.date], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.days)

    def cells(self) -> Cells:
        return Cells(pairs=tuple(sorted({(b, d) for b, d, _x in self.days}, key=str)))

    def day_arrays(self) -> tuple[list[uuid.UUID], list[dt.date], list[dt.date]]:
        rows = sorted(set(self.days), key=str)
        return [b for b, _d, _x in rows], [d for _b, d, _x in rows], [x for _b, _d, x in rows]

    def month_arrays(self) -> tuple[list[uuid.UUID], list[dt.date], list[int]]:
        rows = sorted({(b, d, month_of(x)) for b, d, x in self.days}, key=str)
        return [b for b, _d, _m in rows], [d for _b, d, _m in rows], [m for _b, _d, m in rows]

    def month_starts(self) -> tuple[list[uuid.UUID], list[dt.date], list[dt.date]]:
        """(branch, cell day, first day of the event's month) arrays, once each."""
        rows = sorted({(b, d, x.replace(day=1)) for b, d, x in self.days}, key=str)
        return [b for b, _d, _x in rows], [d for _b, d, _x in rows], [x for _b, _d, x in rows]

    def month_days(self) -> set[dt.date]:
        """Every day of the events' months (their UTC windows: ``factsql.near``)."""
        out: set[dt.date] = set()
        for month in {(x.year, x.month) for _b, _d, x in self.days}:
            day = dt.date(month[0], month[1], 1)
            while day.month == month[1]:
                out.add(day)
                day += dt.timedelta(days=1)
        return out


@contextmanager
def _planner(**settings: str) -> Iterator[None]:
    """These planner settings for the statements inside; the rest of the transaction's keep the default."""
    with connection.cursor() as cur:
        for name, value in settings.items():
            cur.execute("SELECT set_config(%s, %s, true)", [name, value])
    try:
        yield
    finally:
        with connection.cursor() as cur:
            for name in settings:
                cur.execute(  # back to the session's value
                    "SELECT set_config(%s, (SELECT reset_val FROM pg_settings WHERE name = %s), true)",
                    [name, name],
                )


def serial() -> AbstractContextManager[None]:
    """No parallel workers for the statements inside: the events' statements read a few thousand rows by
    index, where starting workers — each building the same hash of the cells' members — cost more than
    it saves."""
    return _planner(max_parallel_workers_per_gather="0")


def by_index() -> AbstractContextManager[None]:
    """The statements inside join some cells (an array of a few thousand) to a fact table: each cell's
    rows read by the table's (organisation, day, branch) index (nested loops). Without this the
    planner, which cannot count an array's rows, may read the whole table and sort it (0.7 s at chain-1m
    for a delete of 11,000 rows)."""
    return _planner(enable_hashjoin="off", enable_mergejoin="off")


def _sql(qs: Any) -> tuple[str, tuple[Any, ...]]:
    return qs_sql(qs.order_by())


def event_members(org: Organization, events: CellEvents, *, months: bool) -> list[uuid.UUID]:
    """The first patients (arrived, ``FirstVisitFact``) of the events' cells with a payment on an event's
    local day (``months`` False: the channel facts' payments per day) or with a visit that happened or a
    payment in an event's local month (``months``: the cohort facts), on the cell's branch's clock. The
    raw rows are read by their moment (the windows around those days), not per patient."""
    days = events.month_days() if months else {x for _b, _d, x in events.days}
    branches = list(Branch.objects.filter(organization=org).values_list("pk", flat=True))
    acts = [_sql(Payment.objects.for_org(org).filter(near("paid_at", days)).values("patient_id", "paid_at"))]
    if months:
        happened = Appointment.objects.for_org(org).filter(
            near("start_at", days), status__in=HAPPENED, branch_id__in=branches
        )
        acts.append(_sql(happened.values("patient_id", "start_at")))
    act = " UNION ALL ".join(sql for sql, _p in acts)
    act_params = tuple(p for _s, params in acts for p in params)
    zb, zb_params = zones_sql(org)
    local = "(act.at AT TIME ZONE zb.tz)::date"
    key = f"date_trunc('month', {local}) = date_trunc('month', mem.x)" if months else f"{local} = mem.x"
    sql = (
        # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
        f"WITH e AS (SELECT DISTINCT * FROM unnest(%s::uuid[], %s::date[], %s::date[]) AS e(b, d, x)), "  # nosec B608 # noqa: S608 - ORM SQL and constants, values bound
        f"zb AS ({zb}), act (patient_id, at) AS ({act}), "
        f"mem AS (SELECT DISTINCT v.patient_id AS p, e.b, e.x FROM {FirstVisitFact._meta.db_table} v "
        "JOIN e ON v.branch_id = e.b AND v.day = e.d WHERE v.organization_id = %s AND v.arrived) "
        f"SELECT DISTINCT mem.p FROM mem JOIN zb ON zb.id = mem.b JOIN act ON act.patient_id = mem.p "
        f"WHERE {key}"
    )
    arrays = events.month_starts() if months else events.day_arrays()
    with connection.cursor() as cur:
        # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
        cur.execute(sql, [*arrays, *zb_params, *act_params, org.pk])
        return sorted((r[0] for r in cur.fetchall()), key=str)
