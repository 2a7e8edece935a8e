"""``doctors_balanced``: per doctor of the first visit, the value of their first patients (net revenue
to date per patient, repeat visits per patient) set against that doctor's complication rate
(``clinical.selectors.treatments.complication_rates``, the one definition), NPS and expectation gap
(the feedback reports' ``satisfaction_rows`` and ``gap_rows``: one definition). High value with high
complications is flagged (over-treatment), high value with low NPS or a flagged gap too (over-promising)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _

from clinicflow.analytics.owner.cohort_reads import doctor_firsts_facts
from clinicflow.analytics.owner.score_reads import complication_rates_of, consultant_gaps, doctor_answers
from clinicflow.analytics.reports.base import (
    ChartSpec,
    Column,
    ReportContext,
    ReportResult,
    ReportSpec,
    register,
)
from clinicflow.analytics.reports.feedback.gap import gap_rows
from clinicflow.analytics.reports.feedback.satisfaction import satisfaction_rows
from clinicflow.analytics.reports.feedback.stats import nps_interval
from clinicflow.booking.models import Doctor
from clinicflow.clinical.selectors.treatments import RateRow, complication_rates

HIGH = Decimal("1.5")  # value per first patient at least 1.5x the clinic's ...
HIGH_RATE = Decimal("1.5")  # ... with a complication rate at least 1.5x the clinic's: flagged
LOW_NPS = 20  # ... or with an NPS 20 points or more below the clinic's (or a flagged expectation gap)


def clinic_nps_of(rows: list[dict[str, Any]]) -> float | None:
    """The clinic's NPS from per-group rows (their promoters, detractors and answers added up)."""
    n = sum(r["answers"] for r in rows)
    return nps_interval(sum(r["promoters"] for r in rows), sum(r["detractors"] for r in rows), n)[0]


def _balance(ctx: ReportContext) -> tuple[dict[Any, RateRow], dict[str, Any], dict[str, Any], float | None]:
    """The complication rates per doctor, the answers and NPS per doctor, the expectation gap per
    consultant and the clinic's NPS: from the score facts (#17, ``owner.score_reads``: the same
    figures), else from the raw rows (``complication_rates``, ``satisfaction_rows``, ``gap_rows``)."""
    end = ctx.date_to + dt.timedelta(days=1)
    rates = complication_rates_of(ctx.org, ctx.date_from, end)
    answers = doctor_answers(ctx.org, ctx.date_from, ctx.date_to, ctx.branch)
    gaps = consultant_gaps(ctx.org, ctx.date_from, ctx.date_to, ctx.branch)
    if rates is not None and answers is not None and gaps is not None:
        return rates, answers[0], gaps, answers[1]
    args: dict[str, Any] = {
        "org": ctx.org,
        "date_from": ctx.date_from,
        "date_to": ctx.date_to,
        "branch": ctx.branch,
    }
    return (
        {r.key: r for r in complication_rates(org=ctx.org, start=ctx.date_from, end=end)},
        {r["group_id"]: r for r in satisfaction_rows(**args, group="doctor")},
        {r["group_id"]: r for r in gap_rows(**args, group="consultant")},
        clinic_nps_of(satisfaction_rows(**args, group="branch")),
    )


def compute(ctx: ReportContext) -> ReportResult:
    per = doctor_firsts_facts(  # the daily facts: the first visit's local day
        org=ctx.org, d0=ctx.date_from, d1=ctx.date_to, branch=ctx.branch, currency=ctx.currency
    )
    names = dict(Doctor.objects.for_org(ctx.org).values_list("pk", "full_name"))
    rates, nps, gaps, clinic_nps = _balance(ctx)
    rows: list[dict[str, Any]] = []
    for doctor, firsts in per.items():
        n = firsts.patients
        revenue = Decimal(firsts.cents) / 100
        rate = rates[doctor].rate if doctor in rates else None
        rows.append(
            {
                "name": names.get(doctor, str(doctor)),
                "first_patients": n,
                "value_per_patient": (revenue / n).quantize(Decimal("0.01")),
                "repeat_visits": round((firsts.visits - n) / n, 2),
                "complication_rate": float(rate) if rate is not None else None,
                "answers": nps[str(doctor)]["answers"] if str(doctor) in nps else 0,
                "nps": nps[str(doctor)]["nps"] if str(doctor) in nps else None,
                "expectation_gap": gaps[str(doctor)]["gap"] if str(doctor) in gaps else None,
                "gap_flagged": bool(gaps[str(doctor)]["flagged"]) if str(doctor) in gaps else False,
                "flag": "",
            }
        )
    if rows:
        all_n = sum(r["first_patients"] for r in rows)
        mean_value = sum((r["value_per_patient"] * r["first_patients"] for r in rows), Decimal(0)) / all_n
        known = [Decimal(str(r["complication_rate"])) for r in rows if r["complication_rate"] is not None]
        mean_rate = sum(known, Decimal(0)) / len(known) if known else None
        for r in rows:
            high_value = r["value_per_patient"] >= mean_value * HIGH
            high_rate = (
                mean_rate is not None
                and r["complication_rate"] is not None
                and Decimal(str(r["complication_rate"])) >= mean_rate * HIGH_RATE
            )
            low_nps = r["nps"] is not None and clinic_nps is not None and r["nps"] <= clinic_nps - LOW_NPS
            flags = []
            if high_value and high_rate:
                flags.append(str(_("high value with many complications: check for over-treatment")))
            if high_value and (low_nps or r["gap_flagged"]):
                flags.append(str(_("high value with low satisfaction: check for over-promising")))
            r["flag"] = "; ".join(flags)
    rows.sort(key=lambda r: (-r["value_per_patient"], r["name"]))
    notes = [
        str(_("Value: net revenue to date per first patient whose first visit was with the doctor.")),
        str(
            _(
                "NPS: of the answers about visits to the doctor in the period; expectation gap: expectation "
                "recorded at consultations by the doctor less the result rated (the feedback reports)."
            )
        ),
    ]
    return ReportResult(rows=rows, notes=notes)


register(
    ReportSpec(
        name="doctors_balanced",
        title=_("The balanced doctor"),
        description=_(
            "Value of each doctor's first patients against complications, NPS and expectation gap."
        ),
        permission="reports.owner",
        columns=(
            Column("name", _("Doctor")),
            Column("first_patients", _("First patients"), "int"),
            Column("value_per_patient", _("Value per first patient"), "money"),
            Column("repeat_visits", _("Repeat visits per first patient"), "float"),
            Column("complication_rate", _("Complication rate"), "percent"),
            Column("answers", _("Answers"), "int"),
            Column("nps", _("NPS"), "float"),
            Column("expectation_gap", _("Expectation gap"), "float"),
            Column("flag", _("Flag")),
        ),
        compute=compute,
        chart=ChartSpec(type="bar", x="name", series=("value_per_patient",)),
        default_days=365,
    )
)
