"""The span of days the daily facts cover (``data_span``: the first and last local day with raw data,
what a full rebuild builds) and consecutive days as runs (``runs``: the incremental update builds each
run of days together)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db.models import Max, Min

from clinicflow.acquisition.models import Call, Lead
from clinicflow.booking.models import Appointment, Payment
from clinicflow.core.models import Branch, Organization
from clinicflow.feedback.models import SurveyAnswer
from clinicflow.patients.models import Patient


def runs(days: Iterable[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Consecutive days as (first, last) runs."""
    out: list[tuple[dt.date, dt.date]] = []
    for day in sorted(set(days)):
        if out and day - out[-1][1] == dt.timedelta(days=1):
            out[-1] = (out[-1][0], day)
        else:
            out.append((day, day))
    return out


def data_span(org: Organization) -> tuple[dt.date, dt.date] | None:
    """The first and last local day that has any raw data (UTC days widened by one)."""
    moments: list[tuple[Any, str]] = [
        (Payment, "paid_at"),
        (Call, "started_at"),
        (Lead, "created_at"),
        (Patient, "created_at"),
        (SurveyAnswer, "answered_at"),
    ]
    spans = [m.objects.for_org(org).aggregate(a=Min(f), b=Max(f)) for m, f in moments]
    # appointments per branch: their index leads with (organization, branch, start_at)
    branches = Branch.objects.for_org(org).order_by().values_list("pk", flat=True)
    appts = Appointment.objects.for_org(org)
    spans += [appts.filter(branch_id=b).aggregate(a=Min("start_at"), b=Max("start_at")) for b in branches]
    known = [s for s in spans if s["a"] is not None]
    if not known:
        return None
    first, last = min(s["a"] for s in known), max(s["b"] for s in known)
    return first.date() - dt.timedelta(days=1), last.date() + dt.timedelta(days=1)
