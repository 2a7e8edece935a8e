"""The lifecycle funnel of a period's first visits (seed 003): leads and unique calls → booked first
visits → arrived → treated → satisfied → returned within 6 months → third visit → referred.

Each step counts patients (the first two: contacts): ``leads_calls`` leads plus unique calls (day facts);
``booked`` and ``arrived`` the period's booked first visits and first patients (day facts, the channel
report's definition); then, of the period's first patients (``first_visits``, the same statement):
``treated`` — had a visit that happened other than a first visit (``is_first_visit`` false);
``satisfied`` — no data until feedback lands (NPS ≥ 9 or result ≥ expectation);
``returned`` — came again (a visit that happened) on a later day within 183 days of the first visit;
``third`` — three or more visits that happened, to date;
``referred`` — first patients whose source is a referral (who referred them is not recorded yet)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from clinicflow.acquisition.attribution import HAPPENED
from clinicflow.analytics.owner.selectors import day_totals
from clinicflow.analytics.reports.acquisition import first_visits
from clinicflow.analytics.reports.base import period_bounds, ratio
from clinicflow.booking.models import Appointment
from clinicflow.core.models import Branch, Organization
from clinicflow.patients.models import Patient, Source

RETURN_DAYS = 183
CHUNK = 5000

STEPS: tuple[tuple[str, Any, Any], ...] = (
    (
        "leads_calls",
        _("Leads and unique calls"),
        _("Leads plus unique calls (first call from a number in 30 days)."),
    ),
    (
        "booked",
        _("Booked first visits"),
        _("Patients whose first appointment of any status starts in the period."),
    ),
    (
        "arrived",
        _("Arrived (first patients)"),
        _("Patients whose first visit that happened starts in the period."),
    ),
    (
        "treated",
        _("Treated"),
        _("First patients with a later visit that happened, other than a first visit."),
    ),
    (
        "satisfied",
        _("Satisfied"),
        _("No data yet: filled by feedback surveys (NPS 9-10 or result at least as expected)."),
    ),
    (
        "returned",
        _("Returned within 6 months"),
        _("First patients who came again on a later day within 183 days."),
    ),
    ("third", _("Third visit"), _("First patients with three or more visits that happened, to date.")),
    (
        "referred",
        _("Came by referral"),
        _("First patients whose source is a referral; who referred them is recorded once referrals land."),
    ),
)


@dataclass
class Step:
    key: str
    label: str
    help: str
    count: int | None  # None: no data yet
    conversion: float | None = None  # of the previous step with data
    previous_conversion: float | None = None
    biggest_drop: bool = False


def _history(org: Organization, patients: list[uuid.UUID]) -> dict[uuid.UUID, list[tuple[dt.datetime, bool]]]:
    out: dict[uuid.UUID, list[tuple[dt.datetime, bool]]] = {p: [] for p in patients}
    for i in range(0, len(patients), CHUNK):
        rows = (
            Appointment.objects.for_org(org)
            .filter(patient_id__in=patients[i : i + CHUNK], status__in=HAPPENED)
            .values_list("patient_id", "start_at", "is_first_visit")
        )
        for p, at, first in rows:
            out[p].append((at, first))
    return out


def funnel_counts(
    *, org: Organization, date_from: dt.date, date_to: dt.date, branch: Branch | None
) -> dict[str, int | None]:
    facts = day_totals(org=org, d0=date_from, d1=date_to, branch=branch)
    start, end = period_bounds(date_from, date_to, branch)
    firsts = first_visits(org=org, start=start, end=end, branch=branch).arrived
    history = _history(org, list(firsts))
    treated = returned = third = 0
    for p, first_at in firsts.items():
        visits = history.get(p, [])
        if any(not first and at > first_at for at, first in visits):
            treated += 1
        if any(
            first_at.date() < at.date() and at - first_at <= dt.timedelta(days=RETURN_DAYS)
            for at, _f in visits
        ):
            returned += 1
        if len(visits) >= 3:
            third += 1
    referred = 0
    ids = list(firsts)
    for i in range(0, len(ids), CHUNK):
        referred += (
            Patient.objects.for_org(org).filter(pk__in=ids[i : i + CHUNK], source=Source.REFERRAL).count()
        )
    return {
        "leads_calls": facts["leads"] + facts["unique_calls"],
        "booked": facts["first_booked"],
        "arrived": facts["first_arrived"],
        "treated": treated,
        "satisfied": None,
        "returned": returned,
        "third": third,
        "referred": referred,
    }


def _conversions(counts: dict[str, int | None]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    before: int | None = None
    for key, _label, _help in STEPS:
        n = counts[key]
        out[key] = ratio(n, before) if n is not None and before is not None else None
        if n is not None:
            before = n
    return out


def funnel(*, org: Organization, date_from: dt.date, date_to: dt.date, branch: Branch | None) -> list[Step]:
    """The funnel of the period with each step's conversion and that of the previous period of the same
    length; the step whose conversion fell most against it is ``biggest_drop``."""
    days = (date_to - date_from).days + 1
    prev_to = date_from - dt.timedelta(days=1)
    now = funnel_counts(org=org, date_from=date_from, date_to=date_to, branch=branch)
    before = funnel_counts(
        org=org, date_from=prev_to - dt.timedelta(days=days - 1), date_to=prev_to, branch=branch
    )
    conv, prev_conv = _conversions(now), _conversions(before)
    steps = [
        Step(
            key=k,
            label=str(label),
            help=str(help_),
            count=now[k],
            conversion=conv[k],
            previous_conversion=prev_conv[k],
        )
        for k, label, help_ in STEPS
    ]
    drops = [
        (s.previous_conversion - s.conversion, i)
        for i, s in enumerate(steps)
        if s.conversion is not None and s.previous_conversion is not None
    ]
    if drops:
        drop, i = max(drops)
        if drop > 0:
            steps[i].biggest_drop = True
    return steps
