"""The front desk's administrators: unique calls handled and their conversion into first visits."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Avg, Count, F, OuterRef, Q, Subquery
from django.utils.translation import gettext_lazy as _

from clinicflow.acquisition.models import Call
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


def administrator_rows(
    *, org: Organization, date_from: dt.date, date_to: dt.date, branch: Branch | None = None
) -> list[dict[str, Any]]:
    """Per administrator: unique calls handled in the period; of those, how many callers booked a
    first visit (their first appointment, even one cancelled later, starts after the call) and how
    many arrived (their first arrived or done appointment starts after the call); average score."""
    start, end = period_bounds(date_from, date_to, branch)
    firsts = first_visit_times(org=org).filter(patient_id=OuterRef("patient_id"))
    qs = Call.objects.for_org(org).filter(
        started_at__gte=start, started_at__lt=end, is_unique=True, administrator__isnull=False
    )
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
    return [
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
        for r in rows
    ]


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
