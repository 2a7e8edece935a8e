"""``doctors_balanced``: per doctor of the first visit, the value of their first patients (net revenue
to date per patient, repeat visits per patient) set against that doctor's complication rate
(``clinical.selectors.treatments.complication_rates``, the one definition), NPS and expectation gap
(no data until feedback lands). High value with high complications is flagged (over-treatment)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _

from clinicflow.analytics.owner.patients import first_patients
from clinicflow.analytics.reports.base import (
    ChartSpec,
    Column,
    ReportContext,
    ReportResult,
    ReportSpec,
    register,
)
from clinicflow.booking.models import Doctor
from clinicflow.clinical.selectors.treatments import complication_rates

HIGH = Decimal("1.5")  # value per first patient at least 1.5x the clinic's ...
HIGH_RATE = Decimal("1.5")  # ... with a complication rate at least 1.5x the clinic's: flagged


def compute(ctx: ReportContext) -> ReportResult:
    lines = first_patients(
        org=ctx.org, start=ctx.start_utc(), end=ctx.end_utc(), branch=ctx.branch, currency=ctx.currency
    )
    per: dict[Any, list[Any]] = defaultdict(list)
    for line in lines.values():
        if line.first_doctor is not None:
            per[line.first_doctor].append(line)
    names = dict(Doctor.objects.for_org(ctx.org).values_list("pk", "full_name"))
    rates = {
        r.key: r
        for r in complication_rates(org=ctx.org, start=ctx.date_from, end=ctx.date_to + dt.timedelta(days=1))
    }
    rows: list[dict[str, Any]] = []
    for doctor, members in per.items():
        n = len(members)
        revenue = sum((m.revenue() for m in members), Decimal(0))
        rate = rates[doctor].rate if doctor in rates else None
        rows.append(
            {
                "name": names.get(doctor, str(doctor)),
                "first_patients": n,
                "value_per_patient": (revenue / n).quantize(Decimal("0.01")),
                "repeat_visits": round(sum(len(m.visits) - 1 for m in members) / n, 2),
                "complication_rate": float(rate) if rate is not None else None,
                "nps": None,
                "expectation_gap": None,
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
            if high_value and high_rate:
                r["flag"] = str(_("high value with many complications: check for over-treatment"))
    rows.sort(key=lambda r: (-r["value_per_patient"], r["name"]))
    notes = [
        str(_("Value: net revenue to date per first patient whose first visit was with the doctor.")),
        str(_("NPS and expectation gap: no data yet; filled when feedback surveys are answered.")),
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
            Column("nps", _("NPS"), "float"),
            Column("expectation_gap", _("Expectation gap"), "float"),
            Column("flag", _("Flag")),
        ),
        compute=compute,
        chart=ChartSpec(type="bar", x="name", series=("value_per_patient",)),
        default_days=365,
    )
)
