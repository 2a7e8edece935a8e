"""The front desk's administrators: unique calls handled and their conversion into first visits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db.models import Avg, Count, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils.translation import gettext_lazy as _

from clinicflow.acquisition.models import Call
from clinicflow.analytics.owner.admin_models import has_admin_facts, scoped_facts
from clinicflow.analytics.owner.admin_reads import average_score
from clinicflow.analytics.reports.acquisition.first_patients import first_visit_times
from clinicflow.analytics.reports.base import (
    ChartSpec,
    Column,
    ReportContext,
    ReportResult,
    ReportSpec,
    period_bounds,
    ratio,
    register,
)
from clinicflow.core.models import Branch, Organization


def admin_calls(org: Organization) -> QuerySet[Call, Call]:
    """The report's calls: unique, handled by an administrator (also the facts', ``owner.admin_facts``)."""
    return Call.objects.for_org(org).filter(is_unique=True, administrator__isnull=False)


def administrator_rows(
    *, org: Organization, date_from: dt.date, date_to: dt.date, branch: Branch | None = None
) -> list[dict[str, Any]]:
    """Per administrator: the report's rows read from the front desk's daily facts (``owner.
    admin_facts``: a branch's local days, the chain's UTC days); from the raw calls
    (``raw_administrator_rows``) while the organisation has no such facts (never built)."""
    rows = (
        scoped_facts(org, date_from, date_to, branch)
        .values("administrator_id", "administrator__full_name", "administrator__email")
        .annotate(
            unique_calls=Sum("unique_calls"),
            booked=Sum("booked"),
            arrived=Sum("arrived"),
            scored=Sum("scored"),
            tenths=Sum("score_tenths"),
        )
        .order_by("administrator__full_name", "administrator_id")
    )
    out = [_row(r, average_score(r["tenths"], r["scored"])) for r in rows]
    if out or has_admin_facts(org):
        return out
    return raw_administrator_rows(org=org, date_from=date_from, date_to=date_to, branch=branch)


def _row(r: Mapping[str, Any], avg: Any) -> dict[str, Any]:
    unique, booked, arrived = int(r["unique_calls"]), int(r["booked"]), int(r["arrived"])
    return {
        "administrator": r["administrator__full_name"] or r["administrator__email"],
        "administrator_id": str(r["administrator_id"]),
        "unique_calls": unique,
        "booked": booked,
        "arrived": arrived,
        "booked_conversion": ratio(booked, unique),
        "arrived_conversion": ratio(arrived, unique),
        "avg_score": round(float(avg), 1) if avg is not None else None,
    }


def raw_administrator_rows(
    *, org: Organization, date_from: dt.date, date_to: dt.date, branch: Branch | None = None
) -> list[dict[str, Any]]:
    """Per administrator: unique calls handled in the period; of those, how many callers booked a
    first visit (their first appointment, even one cancelled later, starts after the call) and how
    many arrived (their first arrived or done appointment starts after the call); average score."""
    start, end = period_bounds(date_from, date_to, branch)
    firsts = first_visit_times(org=org).filter(patient_id=OuterRef("patient_id"))
    qs = admin_calls(org).filter(started_at__gte=start, started_at__lt=end)
    if branch is not None:
        qs = qs.filter(branch=branch)
    annotated = qs.annotate(
        fb_at=Subquery(firsts.values("booked_at")[:1]),
        fa_at=Subquery(firsts.values("arrived_at")[:1]),
    )
    booked_q = Q(patient__isnull=False, fb_at__gte=F("started_at"))
    arrived_q = Q(patient__isnull=False, fa_at__gte=F("started_at"))
    rows = (
        annotated.values("administrator_id", "administrator__full_name", "administrator__email")
        .annotate(
            unique_calls=Count("id"),
            booked=Count("id", filter=booked_q),
            arrived=Count("id", filter=arrived_q),
            avg_score=Avg("score"),
        )
        .order_by("administrator__full_name", "administrator_id")
    )
    return [_row(r, r["avg_score"]) for r in rows]


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
