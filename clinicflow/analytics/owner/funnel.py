"""The lifecycle funnel of a period's first visits (seed 003): leads and unique calls → booked first
visits → arrived → treated → satisfied → returned within 6 months → third visit → referred.

Each step counts patients (the first two: contacts): ``leads_calls`` leads plus unique calls (day facts);
``booked`` and ``arrived`` the period's booked first visits and first patients (day facts, the channel
report's definition); then, of the period's first patients (``first_visits``, the same statement):
``treated`` — had a visit that happened other than a first visit (``is_first_visit`` false);
``satisfied`` — answered a survey with NPS 9-10 or a result at least as expected;
``returned`` — came again (a visit that happened) on a later day within 183 days of the first visit;
``third`` — three or more visits that happened, to date;
``referred`` — first patients whose source is a referral (who referred them is not recorded yet).
Every count is read from the day facts (``owner.facts_more`` computes them per first visit's day)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from clinicflow.analytics.owner.facts_more import FUNNEL
from clinicflow.analytics.owner.selectors import day_totals
from clinicflow.analytics.reports.base import ratio
from clinicflow.core.models import Branch, Organization

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
        _("First patients who answered a survey with NPS 9-10 or a result at least as expected."),
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


def funnel_counts(
    *, org: Organization, date_from: dt.date, date_to: dt.date, branch: Branch | None
) -> dict[str, int | None]:
    """The steps' counts of the period, summed from the day facts (``facts_more`` defines the later
    steps of a first patient; they are counted on the day of the first visit)."""
    facts = day_totals(org=org, d0=date_from, d1=date_to, branch=branch)
    counts: dict[str, int | None] = {
        "leads_calls": facts["leads"] + facts["unique_calls"],
        "booked": facts["first_booked"],
        "arrived": facts["first_arrived"],
    }
    counts.update({k: facts[k] for k in FUNNEL})
    return counts


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
