"""The day facts beyond counts of rows: the lifecycle funnel of each day's first patients, the survey
answers (NPS counts) and the doctors' load. Each function adds to a ``bump(branch, day, name, n)``
accumulator of ``facts.compute``; each reads its raw rows in bounded chunks.

- funnel (of a first patient, counted on their first visit's local day and branch, read to date):
  ``treated`` — a later visit that happened other than a first visit (``is_first_visit`` false);
  ``returned`` — a visit that happened on a later (UTC) day within 183 days of the first;
  ``third`` — three or more visits that happened; ``referred`` — the patient's source is a referral;
  ``satisfied`` — an answer with NPS 9-10 or a rated result at least the expectation recorded.
- answers: the answers given that local day at the branch of the visit, with promoters (NPS 9-10) and
  detractors (0-6) (``feedback.models.PROMOTER_MIN``/``DETRACTOR_MAX``: the one definition).
- load: the doctors' available and booked seconds of the day (``capacity.compute_load``, the capacity
  report's definition: working windows less breaks and exceptions, live appointments inside them)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from clinicflow.acquisition.attribution import HAPPENED
from clinicflow.analytics.reports.capacity import compute_load
from clinicflow.booking.models import Appointment
from clinicflow.core.models import Organization
from clinicflow.core.selectors import branch_list
from clinicflow.feedback.models import DETRACTOR_MAX, PROMOTER_MIN, SurveyAnswer
from clinicflow.patients.models import Patient, Source

RETURN_DAYS = 183
CHUNK = 5000
FUNNEL = ("treated", "returned", "third", "referred", "satisfied")
ANSWERS = ("answers", "promoters", "detractors")
LOAD = ("available_seconds", "booked_seconds")
COUNTS = (
    "appointments",
    "no_shows",
    "happened",
    "first_booked",
    "first_arrived",
    "calls",
    "unique_calls",
    "missed_calls",
    "leads",
    "new_patients",
    *FUNNEL,
    *ANSWERS,
    *LOAD,
)
# the counts of a day that depend on its first patients' history on other days
FIRST_COUNTS = ("first_booked", "first_arrived", *FUNNEL)

Bump = Callable[..., None]
Arrival = tuple[uuid.UUID, uuid.UUID | None, dt.date, dt.datetime]  # patient, branch, day, first visit


def _chunks(ids: list[uuid.UUID]) -> Iterable[list[uuid.UUID]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


def is_satisfied(nps: int, result: int | None, expectation: int | None) -> bool:
    """The funnel's "satisfied": NPS 9-10, or a rated result at least the expectation (seed 000)."""
    return nps >= PROMOTER_MIN or (result is not None and expectation is not None and result >= expectation)


def funnel_flags(org: Organization, arrivals: list[Arrival], bump: Bump) -> None:
    """The funnel steps after "arrived" of these first patients, on their first visit's day."""
    ids = list({a[0] for a in arrivals})
    visits: dict[uuid.UUID, list[tuple[dt.datetime, bool]]] = defaultdict(list)
    referred: set[uuid.UUID] = set()
    satisfied: set[uuid.UUID] = set()
    for part in _chunks(ids):
        for p, at, first in (
            Appointment.objects.for_org(org)
            .filter(patient_id__in=part, status__in=HAPPENED)
            .values_list("patient_id", "start_at", "is_first_visit")
        ):
            visits[p].append((at, first))
        referred.update(
            Patient.objects.for_org(org)
            .filter(pk__in=part, source=Source.REFERRAL)
            .values_list("pk", flat=True)
        )
        for p, nps, result, expectation in (
            SurveyAnswer.objects.for_org(org)
            .filter(patient_id__in=part)
            .values_list("patient_id", "nps", "result", "expectation")
        ):
            if is_satisfied(nps, result, expectation):
                satisfied.add(p)
    limit = dt.timedelta(days=RETURN_DAYS)
    for patient, branch, day, first_at in arrivals:
        history = visits.get(patient, [])
        if any(not first and at > first_at for at, first in history):
            bump(branch, day, "treated")
        if any(first_at.date() < at.date() and at - first_at <= limit for at, _f in history):
            bump(branch, day, "returned")
        if len(history) >= 3:
            bump(branch, day, "third")
        if patient in referred:
            bump(branch, day, "referred")
        if patient in satisfied:
            bump(branch, day, "satisfied")


def answer_counts(
    org: Organization,
    rows_in_range: Callable[[Iterable[tuple[Any, ...]]], Iterable[Any]],
    start: dt.datetime,
    end: dt.datetime,
    bump: Bump,
) -> None:
    """Answers, promoters and detractors by the answer's local day and the visit's branch."""
    qs = SurveyAnswer.objects.for_org(org).filter(answered_at__gte=start, answered_at__lt=end)
    rows = qs.values_list("branch_id", "answered_at", "nps")
    for branch, day, nps in rows_in_range(rows):
        bump(branch, day, "answers")
        if nps >= PROMOTER_MIN:
            bump(branch, day, "promoters")
        elif nps <= DETRACTOR_MAX:
            bump(branch, day, "detractors")


def load_seconds(org: Organization, d0: dt.date, d1: dt.date, bump: Bump) -> None:
    """The doctors' available and booked seconds per branch and local day."""
    for branch in branch_list(org=org):
        data = compute_load(org=org, branch=branch, date_from=d0, date_to=d1)
        for name, cells in (("available_seconds", data.available), ("booked_seconds", data.booked)):
            per_day: dict[dt.date, float] = defaultdict(float)
            for (kind, _obj, day, _hour), minutes in cells.items():
                if kind == "doctor" and d0 <= day <= d1:
                    per_day[day] += minutes
            for day, minutes in per_day.items():
                seconds = round(minutes * 60)
                if seconds:
                    bump(branch.pk, day, name, seconds)
