"""The patients' first visits for the set-based daily facts (``facts_sql``): ``stage_firsts`` reads
per patient (all of the organisation's, or a scope's) the start of their first appointment, of their
first visit that happened and the funnel's flags of that visit (the definitions of ``facts.py`` and
``facts_more.py``) into the temporary table ``owner_firsts`` and rewrites their ``FirstVisitFact`` rows
(the branch and local day each first visit is counted on); ``recount_first_visits`` counts the first
visits of (branch, day) pairs again from those rows (the incremental update). PostgreSQL only."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import connection, transaction

from clinicflow.acquisition.attribution import HAPPENED
from clinicflow.analytics.models import DayFact
from clinicflow.analytics.owner.facts_load import WINDOWS
from clinicflow.analytics.owner.facts_more import FIRST_COUNTS, FUNNEL, RETURN_DAYS
from clinicflow.analytics.owner.facts_write import NEW_ROWS, replace_rows
from clinicflow.analytics.owner.facts_write import UUID7 as UUID7  # re-exported (``chan_facts``)
from clinicflow.analytics.owner.factsql import TUNED
from clinicflow.analytics.owner.first_models import FirstVisitFact
from clinicflow.analytics.reports.sqlplan import id_array
from clinicflow.booking.models import HOLDING_STATUSES, Appointment, Payment
from clinicflow.core.models import Organization
from clinicflow.feedback.models import PROMOTER_MIN, SurveyAnswer
from clinicflow.patients.models import Patient, Source

FIRSTS = "owner_firsts"
VISIT_COLS = ("patient_id", "branch_id", "day", "booked", "arrived", *FUNNEL)
MOMENTS = "owner_first_moments"  # ``stage_firsts``' pass over the appointments
APPT = Appointment._meta.db_table
PAY = Payment._meta.db_table
ANSWER = SurveyAnswer._meta.db_table
PATIENT = Patient._meta.db_table
DAYS = DayFact._meta.db_table
VISITS = FirstVisitFact._meta.db_table


def supported() -> bool:
    """Whether the set-based build can run here (PostgreSQL; SQLite uses the Python build)."""
    return connection.vendor == "postgresql"


def _in(values: Sequence[str]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"  # constants of the code, never user input


HAPPENED_IN = _in(HAPPENED)
HOLDING_IN = _in([str(s) for s in HOLDING_STATUSES])


def _zones(zones: dict[uuid.UUID, Any]) -> tuple[str, dict[str, Any]]:
    """A ``zones(branch_id, tz)`` CTE of the clock's branch zones and its parameters."""
    if not zones:
        return "zones(branch_id, tz) AS (SELECT NULL::uuid, NULL::text WHERE false)", {}
    rows: list[str] = []
    params: dict[str, Any] = {}
    for i, (pk, tz) in enumerate(zones.items()):
        rows.append(f"(%(zb{i})s::uuid, %(zt{i})s::text)")
        params[f"zb{i}"], params[f"zt{i}"] = pk, str(tz.key)
    return f"zones(branch_id, tz) AS NOT MATERIALIZED (VALUES {', '.join(rows)})", params


def _day(col: str, alias: str) -> str:
    """The local day of a timestamp column, on the zone of ``alias``'s branch (UTC without one)."""
    return f"({col} AT TIME ZONE COALESCE({alias}.tz, 'UTC'))::date"


# --- the patients' first visits ----------------------------------------------------------------------


def stage_firsts(
    org: Organization,
    zones: dict[uuid.UUID, Any],
    scope: str = "",
    params: dict[str, Any] | None = None,
) -> None:
    """(Re)create ``owner_firsts``: per patient (of ``scope``, a ``SELECT patient_id`` statement with
    named ``params``, or all of the organisation's), the start of their first appointment
    (``booked_at``), of their first visit that happened (``arrived_at``), the funnel's flags of that
    first visit (``facts_more``) and their visits that happened (``visits``); then rewrite those
    patients' ``FirstVisitFact`` rows. The appointments are read twice (their first moments, then each
    appointment against them: ``owner_first_moments``), whatever the scope. For every patient (the full
    rebuild) only the ``FirstVisitFact`` rows that changed are written (``facts_write.replace_rows``);
    ``staged_for_all`` then tells the other facts' builds that ``owner_firsts`` holds everyone."""
    ids: list[uuid.UUID] | None = None
    if scope:  # the scope's patients read first: every table below is then read by its index on them
        with connection.cursor() as cur:
            distinct = f"SELECT DISTINCT patient_id FROM ({scope}) s (patient_id)"  # noqa: S608 - the caller's scope statement  # nosec B608
            # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
            cur.execute(distinct, {**(params or {}), "org": org.pk})
            ids = [r[0] for r in cur.fetchall() if r[0] is not None]
    where = "AND a.patient_id = ANY(%(ids)s::uuid[])" if ids is not None else ""
    args = {
        "ids": id_array(ids) if ids is not None else None,
        "org": org.pk,
        "ret": RETURN_DAYS * 86400,
        "promoter": PROMOTER_MIN,
        "referral": str(Source.REFERRAL),
    }
    zones_cte, zparams = _zones(zones)
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(TUNED)  # the grouping of every patient in memory, no JIT compilation
        for table in (FIRSTS, MOMENTS):
            # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
            cur.execute(f"DROP TABLE IF EXISTS {table}")
        # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
        cur.execute(_moments_sql(zones_cte, where), {**args, **zparams})
        # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
        cur.execute(_firsts_sql(where), args)
        # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
        cur.execute(f"CREATE INDEX ON {FIRSTS} (patient_id)")
        # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
        cur.execute(f"ANALYZE {FIRSTS}")
        if ids is None:  # every patient's rows: only those that changed are written (``replace_rows``)
            # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
            cur.execute(f"CREATE TEMPORARY TABLE {NEW_ROWS} AS {_first_visits_sql()}", args)
            replace_rows(VISITS, VISIT_COLS, (), "{a}.organization_id = %(org)s", args)
        else:  # a few patients' rows: deleted and written again, by the index on the patients
            scoped = where.replace("a.patient_id", "patient_id")
            # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
            cur.execute(f"DELETE FROM {VISITS} WHERE organization_id = %(org)s {scoped}", args)  # noqa: S608 - names from model meta  # nosec B608
            cols = ", ".join(VISIT_COLS)
            cur.execute(
                # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
                f"INSERT INTO {VISITS} (id, organization_id, {cols}) "  # noqa: S608 - names from model meta  # nosec B608
                f"SELECT {UUID7}, %(org)s, {cols} FROM ({_first_visits_sql()}) n",
                args,
            )
        # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
        cur.execute(f"DROP TABLE {MOMENTS}")
    setattr(connection, STAGED_ALL, org.pk if ids is None else None)


STAGED_ALL = "_owner_firsts_of"  # the connection's attribute: the organisation staged in full


def staged_for_all(org: Organization) -> bool:
    """Whether ``owner_firsts`` holds, on this connection, every patient of the organisation (the
    full rebuild's staging): its ``booked_at``/``arrived_at`` are then ``first_visit_times``'."""
    return supported() and getattr(connection, STAGED_ALL, None) == org.pk


def drop_staging() -> None:
    setattr(connection, STAGED_ALL, None)
    with connection.cursor() as cur:
        # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
        cur.execute(f"DROP TABLE IF EXISTS {FIRSTS}")
        # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
        cur.execute(f"DROP TABLE IF EXISTS {WINDOWS}")


@contextmanager
def staged(
    org: Organization, zones: dict[uuid.UUID, Any], scope: str = "", params: dict[str, Any] | None = None
) -> Iterator[None]:
    """``owner_firsts`` staged for the duration (and dropped after)."""
    stage_firsts(org, zones, scope, params)
    try:
        yield
    finally:
        drop_staging()


def _moments_sql(zones_cte: str, where: str) -> str:
    """``owner_first_moments``: the patients' appointments read once (after their first moments, ``f``),
    grouped per patient and, for an appointment at a first moment (the first booked or the first
    happened), its branch and local day (``branch_id``/``day`` null for every other appointment): the
    first visits' rows and the funnel's parts (``facts_more``) in one pass."""
    day = _day("a.start_at", "z")
    at_first = "(a.start_at = f.booked_at OR a.start_at = f.arrived_at)"
    happened = f"a.status IN {HAPPENED_IN}"
    source = f"""f AS (
      SELECT a.patient_id, MIN(a.start_at) AS booked_at,
             MIN(a.start_at) FILTER (WHERE {happened}) AS arrived_at
      FROM {APPT} a WHERE a.organization_id = %(org)s {where}
      GROUP BY a.patient_id
    )"""  # nosec B608 # noqa: S608 - names from model meta
    rows = f"FROM f JOIN {APPT} a ON a.organization_id = %(org)s AND a.patient_id = f.patient_id {where}"
    if where:  # some patients: their appointments read once, each with its patient's first moments
        source = f"""x AS (
      SELECT a.patient_id, a.start_at, a.status, a.branch_id, a.is_first_visit,
             MIN(a.start_at) OVER w AS f_booked, MIN(a.start_at) FILTER (WHERE {happened}) OVER w AS f_arrived
      FROM {APPT} a WHERE a.organization_id = %(org)s {where} WINDOW w AS (PARTITION BY a.patient_id)
    )"""  # nosec B608 # noqa: S608 - names from model meta
        rows = "FROM x a CROSS JOIN LATERAL (SELECT a.f_booked AS booked_at, a.f_arrived AS arrived_at) f"
    return f"""
    CREATE TEMPORARY TABLE {MOMENTS} AS
    WITH {zones_cte}, {source}
    SELECT a.patient_id, f.booked_at, f.arrived_at,
      CASE WHEN {at_first} THEN a.branch_id END AS branch_id,
      CASE WHEN {at_first} THEN {day} END AS day,
      bool_or(a.start_at = f.booked_at) AS booked,
      bool_or(a.start_at = f.arrived_at AND {happened}) AS arrived,
      bool_or(NOT a.is_first_visit AND a.start_at > f.arrived_at) FILTER (WHERE {happened}) AS treated,
      bool_or(a.start_at > f.arrived_at
              AND (a.start_at AT TIME ZONE 'UTC')::date > (f.arrived_at AT TIME ZONE 'UTC')::date
              AND extract(epoch FROM a.start_at - f.arrived_at) <= %(ret)s)
        FILTER (WHERE {happened}) AS returned,
      COUNT(*) FILTER (WHERE {happened} AND f.arrived_at IS NOT NULL) AS visits
    {rows}
      LEFT JOIN zones z ON z.branch_id = a.branch_id
    GROUP BY 1, 2, 3, 4, 5
    """  # nosec B608 # noqa: S608 - names from model meta


def _firsts_sql(where: str) -> str:
    """``owner_firsts``: per patient their first moments, the funnel's flags (``facts_more``) and their
    visits that happened (``visits``). Whether a patient was satisfied: for every patient, their answers
    read once and grouped; for some (``where``), each patient's answers read by the (organisation,
    patient) index (the planner, which cannot count an array, would read every answer)."""
    pleased = "(s.nps >= %(promoter)s OR s.result >= s.expectation)"
    answers = (
        f"SELECT DISTINCT s.patient_id AS yes FROM {ANSWER} s "  # nosec B608 # noqa: S608 - names from model meta
        f"WHERE s.organization_id = %(org)s AND {pleased}"
    )
    join = "LEFT JOIN s ON s.yes = m.patient_id"
    if where:
        answers = "SELECT NULL::uuid AS yes WHERE false"
        join = (
            f"LEFT JOIN LATERAL (SELECT true AS yes FROM {ANSWER} s WHERE s.organization_id = %(org)s "  # nosec B608 # noqa: S608 - names from model meta
            f"AND s.patient_id = m.patient_id AND {pleased} LIMIT 1) s ON true"
        )
    return f"""
    CREATE TEMPORARY TABLE {FIRSTS} AS
    WITH m AS (
      SELECT patient_id, booked_at, arrived_at, COALESCE(bool_or(treated), false) AS treated,
        COALESCE(bool_or(returned), false) AS returned, SUM(visits)::bigint AS visits
      FROM {MOMENTS} GROUP BY 1, 2, 3
    ), s AS ({answers})
    SELECT m.patient_id, m.booked_at, m.arrived_at, m.treated, m.returned, m.visits >= 3 AS third, m.visits,
      COALESCE(p.source = %(referral)s, false) AS referred, s.yes IS NOT NULL AS satisfied
    FROM m LEFT JOIN {PATIENT} p ON p.id = m.patient_id {where.replace("a.patient_id", "p.id")}
      {join}
    """  # nosec B608 # noqa: S608 - names from model meta


def _first_visits_sql() -> str:
    """The ``FirstVisitFact`` rows of the staged patients (``VISIT_COLS``): the branch and local day of
    the appointments at their first booked and first happened moments (a patient once per branch and
    day), the funnel's flags on the ``arrived`` rows."""
    flags = ", ".join(f"m.arrived AND f.{flag} AS {flag}" for flag in FUNNEL)
    return (
        f"SELECT m.patient_id, m.branch_id, m.day, m.booked, m.arrived, {flags} "  # noqa: S608 - names from model meta  # nosec B608
        f"FROM {MOMENTS} m JOIN {FIRSTS} f ON f.patient_id = m.patient_id "
        f"WHERE m.branch_id IS NOT NULL AND (m.booked OR m.arrived)"
    )


def first_visit_rows(
    org: Organization, patients: Sequence[uuid.UUID]
) -> dict[uuid.UUID, set[tuple[uuid.UUID, dt.date, bool, bool]]]:
    """Per patient, the (branch, local day, booked, arrived) of the rows where their first visits are
    counted now."""
    out: dict[uuid.UUID, set[tuple[uuid.UUID, dt.date, bool, bool]]] = {}
    with connection.cursor() as cur:
        cur.execute(
            # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
            f"SELECT patient_id, branch_id, day, booked, arrived FROM {VISITS} WHERE organization_id = %s "  # noqa: S608 - names from model meta  # nosec B608
            f"AND patient_id = ANY(%s::uuid[])",
            [org.pk, id_array(patients)],
        )
        for p, b, d, booked, arrived in cur.fetchall():
            out.setdefault(p, set()).add((b, d, bool(booked), bool(arrived)))
    return out


def recount_first_visits(org: Organization, pairs: Sequence[tuple[uuid.UUID, dt.date]]) -> int:
    """The first-visit counts (``FIRST_COUNTS``) of these (branch, day) pairs again from the
    ``FirstVisitFact`` rows: the day facts updated, or inserted where missing; returns pairs written."""
    if not pairs:
        return 0
    counts = ", ".join(
        f"COUNT(*) FILTER (WHERE v.{col}) AS {n}"
        for col, n in zip(("booked", "arrived", *FUNNEL), FIRST_COUNTS, strict=True)
    )
    names = ", ".join(FIRST_COUNTS)
    sets = ", ".join(f"{n} = COALESCE(c.{n}, 0)" for n in FIRST_COUNTS)
    args: dict[str, Any] = {"org": org.pk, "b": [b for b, _d in pairs], "d": [d for _b, d in pairs]}
    with connection.cursor() as cur:
        cur.execute(
            # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
            f"CREATE TEMPORARY TABLE owner_recount ON COMMIT DROP AS "  # noqa: S608 - names from model meta  # nosec B608
            f"WITH p AS (SELECT DISTINCT * FROM unnest(%(b)s::uuid[], %(d)s::date[]) AS p(branch_id, day)) "
            f"SELECT p.branch_id, p.day, {counts} "
            f"FROM p LEFT JOIN {VISITS} v ON v.organization_id = %(org)s AND v.branch_id = p.branch_id "
            f"AND v.day = p.day GROUP BY p.branch_id, p.day",
            args,
        )
        cur.execute(
            # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
            f"UPDATE {DAYS} d SET {sets} FROM owner_recount c WHERE d.organization_id = %(org)s "  # noqa: S608 - names from model meta  # nosec B608
            f"AND d.branch_id = c.branch_id AND d.day = c.day",
            args,
        )
        cur.execute(
            # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
            f"INSERT INTO {DAYS} (id, organization_id, branch_id, day, {names}) "  # noqa: S608 - names from model meta  # nosec B608
            f"SELECT {UUID7}, %(org)s, c.branch_id, c.day, {', '.join('c.' + n for n in FIRST_COUNTS)} "
            f"FROM owner_recount c WHERE c.first_booked + c.first_arrived > 0 AND NOT EXISTS ("
            f"SELECT 1 FROM {DAYS} d WHERE d.organization_id = %(org)s AND d.branch_id = c.branch_id "
            f"AND d.day = c.day)",
            args,
        )
        cur.execute("DROP TABLE owner_recount")
    return len(set(pairs))


BRANCHES = "ARRAY(SELECT id FROM core_branch WHERE organization_id = %(org)s)"


def window_scope(windows: Sequence[tuple[dt.datetime, dt.datetime]]) -> tuple[str, dict[str, Any]]:
    """The patients with an appointment or a payment in the UTC ``windows`` (their first visits decide
    the first-visit counts and the first-visit revenue of those days)."""
    parts, params = [], {}
    for i, (start, end) in enumerate(windows):
        params[f"ws{i}"], params[f"we{i}"] = start, end
        parts.append(
            f"SELECT patient_id FROM {APPT} WHERE organization_id = %(org)s AND branch_id = ANY({BRANCHES}) "  # noqa: S608 - names from model meta  # nosec B608
            f"AND start_at >= %(ws{i})s AND start_at < %(we{i})s UNION SELECT patient_id FROM {PAY} "
            f"WHERE organization_id = %(org)s AND paid_at >= %(ws{i})s AND paid_at < %(we{i})s"
        )
    return " UNION ".join(parts), params


# --- the day facts -------------------------------------------------------------------------------------
