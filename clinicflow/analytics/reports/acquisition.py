"""Acquisition reports: per channel, per campaign, per administrator.

Entry points (pure functions of the database, also used by the planted-truth checks):
``acquisition_rows(org=, date_from=, date_to=, branch=, model=, group=)`` and
``administrator_rows(org=, date_from=, date_to=, branch=)``.

Definitions (docs/acquisition.md, DESIGN "first patient"): a patient's *first visit* is their
earliest appointment that happened (arrived or done); the period's *first patients* (arrived first
visits) are the patients whose first visit starts in the period — a no-show or a cancellation before
it does not count, and a first visit after an earlier no-show does. A *booked first visit* is the
patient's first booking, their earliest appointment whatever became of it (cancelled, no-show or
kept: the booking was made), counted in the period it starts in — the same rule as the
administrators' conversion into booked first visits. Each is credited to channels by the
attribution model over the patient's touches (calls, leads, web sessions) up to that appointment.
ROMI = (revenue to date of the attracted (first) patients × gross margin − spend) / spend.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.db import connection
from django.db.models import Avg, Case, Count, DecimalField, F, OuterRef, Q, Subquery, Sum, When
from django.utils.translation import gettext_lazy as _

from clinicflow.acquisition.attribution import MODELS, Touch, credit
from clinicflow.acquisition.models import AdSpend, Call, CallStatus, Campaign, Channel, Lead, WebSession
from clinicflow.analytics.reports.base import (
    ChartSpec,
    Column,
    Param,
    ReportContext,
    ReportResult,
    ReportSpec,
    money_ratio,
    ratio,
    register,
)
from clinicflow.core.models import Branch, Organization

# Appointment statuses (booking.AppointmentStatus) of a visit that happened.
ARRIVED = ("arrived", "done")
MODEL_PARAM = Param(
    name="model",
    label=_("Attribution model"),
    choices=(
        ("last_non_direct", _("Last non-direct touch")),
        ("first_touch", _("First touch")),
        ("linear", _("Linear")),
    ),
    default="last_non_direct",
)


def _bounds(date_from: dt.date, date_to: dt.date, branch: Branch | None) -> tuple[dt.datetime, dt.datetime]:
    tz = branch.tz if branch is not None else dt.UTC
    return (
        dt.datetime.combine(date_from, dt.time.min, tzinfo=tz),
        dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz),
    )


def first_visits(
    *, org: Organization, start: dt.datetime, end: dt.datetime, branch: Branch | None
) -> dict[Any, tuple[dt.datetime, str]]:
    """Booked first visits: patient id → (start, status) of their first appointment, of any status,
    when it starts in [start, end) (and, with a branch, takes place there), in the order of those
    appointments (start, id). PostgreSQL: one DISTINCT ON statement over the (organization,
    patient, start_at) index; elsewhere two grouped queries, no per-row subquery."""
    if connection.vendor == "postgresql":
        return _firsts_postgres(org=org, start=start, end=end, branch=branch, arrived=False)
    return first_visits_portable(org=org, start=start, end=end, branch=branch)


def first_arrivals(
    *, org: Organization, start: dt.datetime, end: dt.datetime, branch: Branch | None
) -> dict[Any, tuple[dt.datetime, str]]:
    """First visits that happened (the period's first patients): patient id → (start, status) of
    their earliest arrived or done appointment, when it starts in [start, end) (and, with a branch,
    takes place there), in the order (start, id). Earlier no-shows and cancellations are passed
    over. Same plan as ``first_visits``."""
    if connection.vendor == "postgresql":
        return _firsts_postgres(org=org, start=start, end=end, branch=branch, arrived=True)
    return first_arrivals_portable(org=org, start=start, end=end, branch=branch)


def first_visits_portable(
    *, org: Organization, start: dt.datetime, end: dt.datetime, branch: Branch | None
) -> dict[Any, tuple[dt.datetime, str]]:
    from clinicflow.booking.models import Appointment

    return _firsts_portable(Appointment.objects.for_org(org), start=start, end=end, branch=branch)


def first_arrivals_portable(
    *, org: Organization, start: dt.datetime, end: dt.datetime, branch: Branch | None
) -> dict[Any, tuple[dt.datetime, str]]:
    from clinicflow.booking.models import Appointment

    happened = Appointment.objects.for_org(org).filter(status__in=ARRIVED)
    return _firsts_portable(happened, start=start, end=end, branch=branch)


def _firsts_portable(
    qs: Any, *, start: dt.datetime, end: dt.datetime, branch: Branch | None
) -> dict[Any, tuple[dt.datetime, str]]:
    """Per patient the earliest appointment of ``qs``, when it starts in [start, end) (and in the
    branch): one grouped query for the earliest start, one for the period's candidates."""
    from django.db.models import Min

    firsts = dict(
        qs.values("patient_id")
        .annotate(first=Min("start_at"))
        .filter(first__gte=start, first__lt=end)
        .values_list("patient_id", "first")
    )
    out: dict[Any, tuple[dt.datetime, str]] = {}
    in_period = qs.filter(start_at__gte=start, start_at__lt=end)
    if branch is not None:
        in_period = in_period.filter(branch=branch)
    for p, at, status in in_period.order_by("start_at", "id").values_list("patient_id", "start_at", "status"):
        if firsts.get(p) == at and p not in out:
            out[p] = (at, status)
    return out


def _firsts_sql(table: str, *, arrived: bool, branch: Branch | None) -> str:
    """DISTINCT ON statement (a subquery) of each patient's earliest (``arrived``: arrived / done)
    appointment. At the first start time the branch's appointment (lowest id) is
    preferred, as the portable path does. Parameters: org[, arrived_status][, branch]."""
    prefer = "branch_id IS DISTINCT FROM %(branch)s, " if branch is not None else ""
    which = " AND status = ANY(%(arrived_status)s)" if arrived else ""
    return (
        "SELECT DISTINCT ON (patient_id) id, patient_id, start_at, status, branch_id "  # noqa: S608 - table names from model meta, values bound
        f"FROM {table} WHERE organization_id = %(org)s{which} "
        f"ORDER BY patient_id, start_at, {prefer}id"
    )


def _firsts_postgres(
    *, org: Organization, start: dt.datetime, end: dt.datetime, branch: Branch | None, arrived: bool
) -> dict[Any, tuple[dt.datetime, str]]:
    from clinicflow.booking.models import Appointment

    firsts = _firsts_sql(
        connection.ops.quote_name(Appointment._meta.db_table), arrived=arrived, branch=branch
    )
    in_branch = "AND branch_id = %(branch)s " if branch is not None else ""
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT patient_id, start_at, status FROM ({firsts}) f "  # noqa: S608 - table names from model meta, values bound
            f"WHERE start_at >= %(start)s AND start_at < %(end)s {in_branch}ORDER BY start_at, id",
            {
                "org": org.pk,
                "start": start,
                "end": end,
                "branch": branch.pk if branch is not None else None,
                "arrived_status": list(ARRIVED),
            },
        )
        return {p: (at, status) for p, at, status in cur.fetchall()}


def _pg_array(values: Any) -> str:
    """A PostgreSQL array literal of uuids / ISO timestamps, bound as one text parameter (cheaper
    to send than a list of thousands of typed values)."""
    return "{" + ",".join(values) + "}"


def _chunks(ids: list[Any], size: int = 5000) -> list[list[Any]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def _revenue(
    *, org: Organization, patients: Any, start: dt.datetime, end: dt.datetime
) -> dict[Any, tuple[Decimal, Decimal]]:
    from clinicflow.booking.models import Payment

    signed = Case(
        When(kind="refund", then=-F("amount")),
        default=F("amount"),
        output_field=DecimalField(max_digits=14, decimal_places=2),
    )
    rows = (
        Payment.objects.for_org(org)
        .filter(patient_id__in=patients, paid_at__lt=end)
        .values("patient_id")
        .annotate(
            to_date=Sum(signed),
            period=Sum(signed, filter=Q(paid_at__gte=start)),
        )
    )
    return {r["patient_id"]: (r["period"] or Decimal(0), r["to_date"] or Decimal(0)) for r in rows}


NO_TOUCH: dict[tuple[Any, Any], Fraction] = {(None, None): Fraction(1)}
ONE = Fraction(1)


def _credit_first_patients(
    acc: dict[Any, dict[str, Any]],
    *,
    org: Organization,
    booked_of: dict[Any, tuple[dt.datetime, str]],
    arrived_of: dict[Any, tuple[dt.datetime, str]],
    start: dt.datetime,
    end: dt.datetime,
    model: str,
    group: str,
) -> None:
    """Add the period's booked first visits and first patients (counts, and the first patients'
    revenue) to ``acc`` by the attribution model over the touches up to each of those visits.
    Usually a first patient's first visit is also their first booking: their touches are credited
    once; only patients whose first visit came after another booking (a no-show) are credited
    again, up to the visit. Whole credits (last non-direct, first touch) are counted as integers and
    their revenue summed as is; only linear shares use Fraction / Decimal division."""
    # first visits that are not the patient's booked first visit in this period
    later = {p: v for p, v in arrived_of.items() if p not in booked_of or booked_of[p][0] != v[0]}
    if connection.vendor == "postgresql":
        credits = touch_credit_postgres(org=org, visit_of=booked_of, model=model) if booked_of else {}
        credits_later = touch_credit_postgres(org=org, visit_of=later, model=model) if later else {}
        revenue = (
            revenue_postgres(org=org, patients=list(arrived_of), start=start, end=end) if arrived_of else {}
        )
    else:
        credits = touch_credit_python(org=org, visit_of=booked_of, end=end, model=model)
        credits_later = touch_credit_python(org=org, visit_of=later, end=end, model=model)
        revenue = {}
        for chunk in _chunks(list(arrived_of)):
            revenue.update(_revenue(org=org, patients=chunk, start=start, end=end))
    by_channel = group == "channel"
    for p in booked_of:
        for (ch, camp), share in credits.get(p, NO_TOUCH).items():
            row = acc[ch if by_channel else camp]
            if share == ONE:
                row["booked_n"] += 1
            else:
                row["booked_first"] += share
    zero = (Decimal(0), Decimal(0))
    for p in arrived_of:
        rev_period, rev_total = revenue.get(p, zero)
        for (ch, camp), share in (credits_later if p in later else credits).get(p, NO_TOUCH).items():
            row = acc[ch if by_channel else camp]
            if share == ONE:
                row["arrived_n"] += 1
                row["revenue_period"] += rev_period
                row["revenue_to_date"] += rev_total
                continue
            row["arrived_first"] += share
            row["revenue_period"] += rev_period * Decimal(share.numerator) / Decimal(share.denominator)
            row["revenue_to_date"] += rev_total * Decimal(share.numerator) / Decimal(share.denominator)


def _direct_ids(org: Organization) -> set[Any]:
    return set(Channel.objects.for_org(org).filter(code="direct").values_list("pk", flat=True))


def touch_credit_python(
    *, org: Organization, visit_of: dict[Any, tuple[dt.datetime, str]], end: dt.datetime, model: str
) -> dict[Any, dict[tuple[Any, Any], Fraction]]:
    """patient → credit per (channel, campaign) over their touches up to the first visit
    (portable path: fetches every touch and applies ``attribution.credit``)."""
    direct_ids = _direct_ids(org)
    touches: dict[Any, list[Touch]] = defaultdict(list)
    sources = (
        (Call.objects.for_org(org), "started_at"),
        (Lead.objects.for_org(org), "created_at"),
        (WebSession.objects.for_org(org), "started_at"),
    )
    for qs, at_field in sources:
        for chunk in _chunks(list(visit_of)):
            for p, at, ch, camp in qs.filter(patient_id__in=chunk, **{f"{at_field}__lt": end}).values_list(
                "patient_id", at_field, "channel_id", "campaign_id"
            ):
                if at <= visit_of[p][0]:
                    touches[p].append(Touch(at=at, channel=ch, campaign=camp, is_direct=ch in direct_ids))
    return {p: credit(ts, model) for p, ts in touches.items()}


def _touch_union_sql(*, flags: bool = False) -> str:
    """Every touch (src 0 call, 1 lead, 2 web session) of the given patients up to their visit,
    joined to the (patient, visit[, booked, arrived]) tuples passed as arrays (CTE ``fv``; planned
    as hash joins on the org's rows, the row count being known from the arrays). ``fv_n`` numbers
    the visit a touch belongs to (a patient may come with two: a booked and a later first visit)."""
    parts = []
    for src, (model, at_col) in enumerate(
        ((Call, "started_at"), (Lead, "created_at"), (WebSession, "started_at"))
    ):
        table = connection.ops.quote_name(model._meta.db_table)
        parts.append(
            f"SELECT t.patient_id, fv.n AS fv_n, t.{at_col} AS at, {src} AS src, "  # noqa: S608 - table names from model meta, values bound
            f"t.channel_id, t.campaign_id FROM {table} t "
            f"JOIN fv ON t.patient_id = fv.patient_id AND t.{at_col} <= fv.at "
            "WHERE t.organization_id = %(org)s"
        )
    flag, flag_col = (
        (", %(booked)s::boolean[], %(arrived)s::boolean[]", ", booked, arrived") if flags else ("", "")
    )
    return (
        "WITH fv AS MATERIALIZED (SELECT * FROM unnest(%(patients)s::uuid[], %(visits)s::timestamptz[]"  # noqa: S608 - table names from model meta, values bound
        f"{flag}) WITH ORDINALITY AS fv(patient_id, at{flag_col}, n)), touches AS ("
        + " UNION ALL ".join(parts)
        + ") "
    )


def _winner_order(model: str) -> str:
    """DISTINCT ON order of one patient's touches: the credited touch first. Ties in time go to
    the later source (call < lead < web session), as the stable sort of ``attribution.credit``."""
    if model == "first_touch":
        return "at, src"
    # last_non_direct: the latest non-direct touch, else the latest touch
    return "(channel_id IS NOT NULL AND NOT channel_id = ANY(%(direct)s::uuid[])) DESC, at DESC, src DESC"


def first_patients_postgres(
    *,
    org: Organization,
    start: dt.datetime,
    end: dt.datetime,
    branch: Branch | None,
    model: str,
    group: str,
) -> list[tuple[Any, int, int, Decimal, Decimal]]:
    """Whole-credit models (last non-direct, first touch) on PostgreSQL: per channel / campaign
    (None = direct / unknown) the booked first visits and the first patients (arrived first
    visits) of the period, and the first patients' revenue in the period and to date. Two
    statements: the period's (patient, visit, booked, arrived) tuples — a booked first visit and a
    first visit at the same time are one tuple (a full join of the two DISTINCT ON results) — come
    back as four array literals (no per-row conversion) and go into the crediting statement as
    parameters, so the planner knows their number (one statement with the first visits as a CTE
    nested-looped, 45-120 s)."""
    from clinicflow.booking.models import Appointment, Payment

    appt = connection.ops.quote_name(Appointment._meta.db_table)
    pay = connection.ops.quote_name(Payment._meta.db_table)
    period = "start_at >= %(start)s AND start_at < %(end)s" + (
        " AND branch_id = %(branch)s" if branch is not None else ""
    )
    booked_sql = _firsts_sql(appt, arrived=False, branch=branch)
    arrived_sql = _firsts_sql(appt, arrived=True, branch=branch)
    params: dict[str, Any] = {
        "org": org.pk,
        "start": start,
        "end": end,
        "branch": branch.pk if branch is not None else None,
        "arrived_status": list(ARRIVED),
    }
    with connection.cursor() as cur:
        cur.execute(
            f"WITH b AS (SELECT * FROM ({booked_sql}) b WHERE {period}), "  # noqa: S608 - table names from model meta, values bound
            f"a AS (SELECT * FROM ({arrived_sql}) a WHERE {period}), "
            "g AS (SELECT coalesce(b.patient_id, a.patient_id) AS patient_id, "
            "coalesce(b.start_at, a.start_at) AS at, b.id IS NOT NULL AS booked, a.id IS NOT NULL AS arrived "
            "FROM b FULL JOIN a ON a.patient_id = b.patient_id AND a.start_at = b.start_at) "
            # one aggregate pass: the four arrays are in the same (arbitrary) row order
            "SELECT count(*), array_agg(patient_id)::text, array_agg(at)::text, array_agg(booked)::text, "
            "array_agg(arrived)::text FROM g",
            params,
        )
        n, params["patients"], params["visits"], params["booked"], params["arrived"] = cur.fetchone()
        if not n:
            return []
        params["direct"] = list(_direct_ids(org))
        key = "channel_id" if group == "channel" else "campaign_id"
        signed = "CASE WHEN kind = 'refund' THEN -amount ELSE amount END"
        cur.execute(
            _touch_union_sql(flags=True)  # noqa: S608 - table names from model meta, values bound
            + ", win AS (SELECT DISTINCT ON (fv_n) fv_n, channel_id, campaign_id "  # noqa: S608 - table names from model meta, values bound
            f"FROM touches ORDER BY fv_n, {_winner_order(model)}), "
            f"rev AS (SELECT patient_id, SUM({signed}) FILTER (WHERE paid_at >= %(start)s) AS period, "
            f"SUM({signed}) AS total FROM {pay} WHERE organization_id = %(org)s AND paid_at < %(end)s "
            "AND patient_id IN (SELECT patient_id FROM fv WHERE arrived) GROUP BY patient_id) "
            f"SELECT win.{key}, count(*) FILTER (WHERE fv.booked), count(*) FILTER (WHERE fv.arrived), "
            "COALESCE(SUM(rev.period), 0), COALESCE(SUM(rev.total), 0) FROM fv "
            "LEFT JOIN win ON win.fv_n = fv.n "
            "LEFT JOIN rev ON rev.patient_id = fv.patient_id AND fv.arrived "
            f"GROUP BY win.{key}",
            params,
        )
        return [(k, booked, arrived, period, total) for k, booked, arrived, period, total in cur.fetchall()]


def touch_credit_postgres(
    *, org: Organization, visit_of: dict[Any, tuple[dt.datetime, str]], model: str
) -> dict[Any, dict[tuple[Any, Any], Fraction]]:
    """Same result as ``touch_credit_python`` with the choice made in PostgreSQL: one statement
    returns the winning touch per patient (DISTINCT ON; ties go to the later source, as the stable
    sort of ``credit`` does) or, for linear, the touch count per (patient, channel, campaign)."""
    params: dict[str, Any] = {
        "org": org.pk,
        "patients": _pg_array(map(str, visit_of)),
        "visits": _pg_array(at.isoformat() for at, _status in visit_of.values()),
        "direct": list(_direct_ids(org)),
    }
    head = _touch_union_sql()
    with connection.cursor() as cur:
        if model == "linear":
            cur.execute(
                head + "SELECT patient_id, channel_id, campaign_id, count(*) FROM touches "  # noqa: S608 - table names from model meta, values bound
                "GROUP BY patient_id, channel_id, campaign_id",
                params,
            )
            counts: dict[Any, list[tuple[tuple[Any, Any], int]]] = defaultdict(list)
            for p, ch, camp, n in cur.fetchall():
                counts[p].append(((ch, camp), n))
            out: dict[Any, dict[tuple[Any, Any], Fraction]] = {}
            for p, pairs in counts.items():
                total = sum(n for _k, n in pairs)
                out[p] = {k: Fraction(n, total) for k, n in pairs}
            return out
        order = _winner_order(model)
        cur.execute(
            head + "SELECT DISTINCT ON (patient_id) patient_id, channel_id, campaign_id FROM touches "  # noqa: S608 - table names from model meta, values bound
            f"ORDER BY patient_id, {order}",
            params,
        )
        return {p: {(ch, camp): ONE} for p, ch, camp in cur.fetchall()}


def revenue_postgres(
    *, org: Organization, patients: list[Any], start: dt.datetime, end: dt.datetime
) -> dict[Any, tuple[Decimal, Decimal]]:
    """``_revenue`` for many patients in one statement (the ids as one array parameter)."""
    from clinicflow.booking.models import Payment

    table = connection.ops.quote_name(Payment._meta.db_table)
    signed = "CASE WHEN kind = 'refund' THEN -amount ELSE amount END"
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT patient_id, SUM({signed}) FILTER (WHERE paid_at >= %(start)s), SUM({signed}) "  # noqa: S608 - table names from model meta, values bound
            f"FROM {table} WHERE organization_id = %(org)s AND patient_id = ANY(%(patients)s::uuid[]) "
            "AND paid_at < %(end)s GROUP BY patient_id",
            {"org": org.pk, "patients": _pg_array(map(str, patients)), "start": start, "end": end},
        )
        return {p: (period or Decimal(0), to_date or Decimal(0)) for p, period, to_date in cur.fetchall()}


def acquisition_rows(
    *,
    org: Organization,
    date_from: dt.date,
    date_to: dt.date,
    branch: Branch | None = None,
    model: str = "last_non_direct",
    group: str = "channel",
) -> list[dict[str, Any]]:
    """One row per channel (``group="channel"``) or campaign (``group="campaign"``)."""
    if model not in MODELS:
        raise ValueError(f"unknown attribution model {model!r}")
    key = "channel_id" if group == "channel" else "campaign_id"
    start, end = _bounds(date_from, date_to, branch)
    acc: dict[Any, dict[str, Any]] = defaultdict(
        lambda: {
            "spend": Decimal(0),
            "impressions": 0,
            "clicks": 0,
            "sessions": 0,
            "leads": 0,
            "calls": 0,
            "unique_calls": 0,
            "missed": 0,
            "booked_first": Fraction(0),
            "arrived_first": Fraction(0),
            "booked_n": 0,
            "arrived_n": 0,
            "revenue_period": Decimal(0),
            "revenue_to_date": Decimal(0),
        }
    )

    spend = AdSpend.objects.for_org(org).filter(date__gte=date_from, date__lte=date_to)
    if branch is not None:
        spend = spend.filter(Q(branch=branch) | Q(branch__isnull=True, campaign__branch=branch))
    for r in spend.values(key).annotate(s=Sum("spend"), i=Sum("impressions"), c=Sum("clicks")):
        row = acc[r[key]]
        row["spend"] += r["s"] or Decimal(0)
        row["impressions"] += r["i"] or 0
        row["clicks"] += r["c"] or 0

    def scoped(qs: Any, field: str) -> Any:
        qs = qs.filter(**{f"{field}__gte": start, f"{field}__lt": end})
        return qs.filter(branch=branch) if branch is not None else qs

    for r in scoped(WebSession.objects.for_org(org), "started_at").values(key).annotate(n=Count("id")):
        acc[r[key]]["sessions"] += r["n"]
    for r in scoped(Lead.objects.for_org(org), "created_at").values(key).annotate(n=Count("id")):
        acc[r[key]]["leads"] += r["n"]
    for r in (
        scoped(Call.objects.for_org(org), "started_at")
        .values(key)
        .annotate(
            n=Count("id"),
            u=Count("id", filter=Q(is_unique=True)),
            m=Count("id", filter=Q(status=CallStatus.MISSED)),
        )
    ):
        row = acc[r[key]]
        row["calls"] += r["n"]
        row["unique_calls"] += r["u"]
        row["missed"] += r["m"]

    if connection.vendor == "postgresql" and model != "linear":
        for k, booked, arrived_n, rev_period, rev_total in first_patients_postgres(
            org=org, start=start, end=end, branch=branch, model=model, group=group
        ):
            row = acc[k]
            row["booked_n"] += booked
            row["arrived_n"] += arrived_n
            row["revenue_period"] += rev_period
            row["revenue_to_date"] += rev_total
    else:
        booked_of = first_visits(org=org, start=start, end=end, branch=branch)
        arrived_of = first_arrivals(org=org, start=start, end=end, branch=branch)
        if booked_of or arrived_of:
            _credit_first_patients(
                acc,
                org=org,
                booked_of=booked_of,
                arrived_of=arrived_of,
                start=start,
                end=end,
                model=model,
                group=group,
            )

    from clinicflow.acquisition.defaults import tracking_settings

    margin = tracking_settings(org=org).gross_margin
    if group == "channel":
        names = {c.pk: (c.code, c.name) for c in Channel.objects.for_org(org)}
    else:
        names = {
            c.pk: (c.utm_campaign or c.name, f"{c.name} ({c.channel.name})")
            for c in Campaign.objects.for_org(org).select_related("channel")
        }
    rows: list[dict[str, Any]] = []
    for k, v in acc.items():
        code, name = names.get(
            k, ("unknown", str(_("Direct / unknown")) if group == "channel" else str(_("No campaign")))
        )
        cent = Decimal("0.01")
        arrived = v["arrived_first"] + v["arrived_n"]
        booked = v["booked_first"] + v["booked_n"]
        spend_v: Decimal = v["spend"]
        rows.append(
            {
                "key": str(k) if k else "",
                "code": code,
                "name": name,
                "spend": spend_v,
                "impressions": v["impressions"],
                "clicks": v["clicks"],
                "sessions": v["sessions"],
                "leads": v["leads"],
                "calls": v["calls"],
                "unique_calls": v["unique_calls"],
                "missed_share": ratio(v["missed"], v["calls"]),
                "booked_first": round(float(booked), 2),
                "arrived_first": round(float(arrived), 2),
                "cost_per_call": money_ratio(spend_v, v["calls"]),
                "cost_per_unique_call": money_ratio(spend_v, v["unique_calls"]),
                "cost_per_first_patient": (spend_v * arrived.denominator / arrived.numerator).quantize(cent)
                if arrived
                else None,
                "revenue_period": v["revenue_period"].quantize(cent),
                "revenue_to_date": v["revenue_to_date"].quantize(cent),
                "romi": float((v["revenue_to_date"] * margin - spend_v) / spend_v) if spend_v else None,
            }
        )
    rows.sort(key=lambda r: (-r["spend"], -r["calls"], r["name"]))
    return rows


def _totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    t: dict[str, Any] = {"name": str(_("Total"))}
    for k in ("spend", "revenue_period", "revenue_to_date"):
        t[k] = sum((r[k] for r in rows), Decimal(0))
    for k in ("impressions", "clicks", "sessions", "leads", "calls", "unique_calls"):
        t[k] = sum(r[k] for r in rows)
    for k in ("booked_first", "arrived_first"):
        t[k] = round(sum(r[k] for r in rows), 2)
    missed = sum((r["missed_share"] or 0) * r["calls"] for r in rows)
    t["missed_share"] = ratio(round(missed), t["calls"])
    t["cost_per_call"] = money_ratio(t["spend"], t["calls"])
    t["cost_per_unique_call"] = money_ratio(t["spend"], t["unique_calls"])
    t["cost_per_first_patient"] = (
        (t["spend"] / Decimal(str(t["arrived_first"]))).quantize(Decimal("0.01"))
        if t["arrived_first"]
        else None
    )
    return t


def _compute(group: str) -> Any:
    def compute(ctx: ReportContext) -> ReportResult:
        rows = acquisition_rows(
            org=ctx.org,
            date_from=ctx.date_from,
            date_to=ctx.date_to,
            branch=ctx.branch,
            model=ctx.params.get("model", "last_non_direct"),
            group=group,
        )
        return ReportResult(
            rows=rows,
            totals=_totals(rows) if rows else None,
            notes=[
                str(_("ROMI uses the organisation's gross-margin share (tracking settings; default 1.0)."))
            ],
        )

    return compute


COLUMNS = (
    Column("name", _("Name")),
    Column("spend", _("Spend"), "money"),
    Column("sessions", _("Sessions"), "int"),
    Column("leads", _("Leads"), "int"),
    Column("calls", _("Calls"), "int"),
    Column("unique_calls", _("Unique calls"), "int"),
    Column("missed_share", _("Missed share"), "percent"),
    Column("booked_first", _("Booked first visits"), "float"),
    Column("arrived_first", _("Arrived first visits"), "float"),
    Column("cost_per_call", _("Cost per call"), "money"),
    Column("cost_per_unique_call", _("Cost per unique call"), "money"),
    Column("cost_per_first_patient", _("Cost per first patient"), "money"),
    Column("revenue_period", _("Revenue in period"), "money"),
    Column("revenue_to_date", _("Revenue to date"), "money"),
    Column("romi", _("ROMI"), "percent"),
)

register(
    ReportSpec(
        name="channels",
        title=_("Acquisition by channel"),
        description=_(
            "Spend, sessions, leads, calls and first patients per channel, with cost per result and ROMI."
        ),
        permission="reports.marketing",
        columns=COLUMNS,
        compute=_compute("channel"),
        chart=ChartSpec(type="bar", x="name", series=("calls", "unique_calls", "arrived_first")),
        params=(MODEL_PARAM,),
    )
)
register(
    ReportSpec(
        name="campaigns",
        title=_("Acquisition by campaign"),
        description=_("The channel report per campaign."),
        permission="reports.marketing",
        columns=COLUMNS,
        compute=_compute("campaign"),
        chart=ChartSpec(type="bar", x="name", series=("calls", "unique_calls", "arrived_first")),
        params=(MODEL_PARAM,),
    )
)


def administrator_rows(
    *, org: Organization, date_from: dt.date, date_to: dt.date, branch: Branch | None = None
) -> list[dict[str, Any]]:
    """Per administrator: unique calls handled in the period; of those, how many callers booked a
    first visit (their first appointment, even one cancelled later, starts after the call) and how
    many arrived (their first arrived or done appointment starts after the call); average score."""
    from clinicflow.booking.models import Appointment

    start, end = _bounds(date_from, date_to, branch)
    booked_first = Appointment.objects.filter(organization=org, patient=OuterRef("patient")).order_by(
        "start_at", "id"
    )
    arrived_first = booked_first.filter(status__in=ARRIVED)
    qs = Call.objects.for_org(org).filter(
        started_at__gte=start, started_at__lt=end, is_unique=True, administrator__isnull=False
    )
    if branch is not None:
        qs = qs.filter(branch=branch)
    qs = qs.annotate(
        fb_at=Subquery(booked_first.values("start_at")[:1]),
        fa_at=Subquery(arrived_first.values("start_at")[:1]),
    )
    booked_q = Q(patient__isnull=False, fb_at__gte=F("started_at"))
    arrived_q = Q(patient__isnull=False, fa_at__gte=F("started_at"))
    rows = []
    for r in (
        qs.values("administrator_id", "administrator__full_name", "administrator__email")
        .annotate(
            unique_calls=Count("id"),
            booked=Count("id", filter=booked_q),
            arrived=Count("id", filter=arrived_q),
            avg_score=Avg("score"),
        )
        .order_by("administrator__full_name", "administrator_id")
    ):
        rows.append(
            {
                "administrator": r["administrator__full_name"] or r["administrator__email"],
                "administrator_id": str(r["administrator_id"]),
                "unique_calls": r["unique_calls"],
                "booked": r["booked"],
                "arrived": r["arrived"],
                "booked_conversion": ratio(r["booked"], r["unique_calls"]),
                "arrived_conversion": ratio(r["arrived"], r["unique_calls"]),
                "avg_score": round(float(r["avg_score"]), 1) if r["avg_score"] is not None else None,
            }
        )
    return rows


def _compute_admins(ctx: ReportContext) -> ReportResult:
    return ReportResult(
        rows=administrator_rows(org=ctx.org, date_from=ctx.date_from, date_to=ctx.date_to, branch=ctx.branch)
    )


register(
    ReportSpec(
        name="administrators",
        title=_("Front desk: administrators"),
        description=_(
            "Unique calls handled, conversion into booked and arrived first visits, average call score."
        ),
        permission="reports.frontdesk",
        columns=(
            Column("administrator", _("Administrator")),
            Column("unique_calls", _("Unique calls"), "int"),
            Column("booked", _("Booked first visits"), "int"),
            Column("arrived", _("Arrived first visits"), "int"),
            Column("booked_conversion", _("Conversion to booked"), "percent"),
            Column("arrived_conversion", _("Conversion to arrived"), "percent"),
            Column("avg_score", _("Average score %"), "float"),
        ),
        compute=_compute_admins,
        chart=ChartSpec(type="bar", x="administrator", series=("booked_conversion", "arrived_conversion")),
    )
)
