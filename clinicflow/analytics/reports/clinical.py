"""Clinical quality reports: the complication rate per doctor or service, and quote conversion per
consultant. The rules are the clinical selectors' (one definition each); these specs give them a
chart, CSV/XLSX and ``GET /api/v1/reports/<name>``."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext_lazy as _

from clinicflow.analytics.reports.base import (
    ChartSpec,
    Column,
    Param,
    ReportContext,
    ReportResult,
    ReportSpec,
    register,
)
from clinicflow.clinical.selectors.consultations import conversion_by_consultant
from clinicflow.clinical.selectors.treatments import complication_rates

CHAIN_NOTE = _("Counted for the whole organisation: clinical records are not split by branch here.")


def _complications(ctx: ReportContext) -> ReportResult:
    by = ctx.params.get("by", "doctor")
    rows = complication_rates(org=ctx.org, start=ctx.date_from, end=ctx.date_to + dt.timedelta(days=1), by=by)
    out = [
        {
            "name": r.label,
            "complications": r.complications,
            "treatments": r.treatments,
            "rate": r.rate,
        }
        for r in rows
    ]
    total_c, total_t = sum(r.complications for r in rows), sum(r.treatments for r in rows)
    totals = {
        "name": str(_("Total")),
        "complications": total_c,
        "treatments": total_t,
        "rate": (total_c / total_t) if total_t else None,
    }
    notes = [str(CHAIN_NOTE)] if ctx.branch is not None else []
    return ReportResult(rows=out, totals=totals if out else None, notes=notes)


def _conversion(ctx: ReportContext) -> ReportResult:
    rows = conversion_by_consultant(org=ctx.org, date_from=ctx.date_from, date_to=ctx.date_to)
    out = [
        {
            "consultant": r.doctor_name,
            "consultations": r.consultations,
            "quoted": r.quoted,
            "accepted": r.accepted,
            "rate": r.rate,
        }
        for r in rows
    ]
    notes = [str(CHAIN_NOTE)] if ctx.branch is not None else []
    return ReportResult(rows=out, notes=notes)


register(
    ReportSpec(
        name="complication_rates",
        title=_("Complication rate"),
        description=_(
            "Complications with onset in the period per signed-off treatment of the period, by "
            "doctor or by service."
        ),
        permission="reports.clinical",
        columns=(
            Column("name", _("Name")),
            Column("complications", _("Complications"), "int"),
            Column("treatments", _("Signed-off treatments"), "int"),
            Column("rate", _("Rate"), "percent"),
        ),
        compute=_complications,
        chart=ChartSpec(type="bar", x="name", series=("rate",)),
        params=(Param("by", _("By"), (("doctor", _("Doctor")), ("service", _("Service"))), "doctor"),),
        default_days=90,
    )
)

register(
    ReportSpec(
        name="quote_conversion",
        title=_("Quote conversion by consultant"),
        description=_("Consultations, the quotes written from them and the share accepted, per consultant."),
        permission="reports.clinical",
        columns=(
            Column("consultant", _("Consultant")),
            Column("consultations", _("Consultations"), "int"),
            Column("quoted", _("Quotes"), "int"),
            Column("accepted", _("Accepted"), "int"),
            Column("rate", _("Conversion"), "percent"),
        ),
        compute=_conversion,
        chart=ChartSpec(type="bar", x="consultant", series=("rate",)),
        default_days=90,
    )
)
