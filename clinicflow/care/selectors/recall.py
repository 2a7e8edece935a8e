"""Reads of recall lists: the lists, their members (computed when opened) and each list's result —
contacted patients and the share who booked within 7 and 60 days, with 95% Wilson intervals.

Members of a "due" list (next course session, maintenance, yearly check): patients with an open
follow-up task of that action due within ``DUE_AHEAD_DAYS`` (or overdue) and no visit booked ahead.
Members of the "lapsed" list: patients with a stored prediction whose P(alive) has fallen to at most
the list's ``max_p_alive``, with no visit in ``lapsed_days`` and none booked ahead, ranked by the
predicted lifetime value (highest first), through the patients' own selector
(``patients.selectors.patient_list`` sorted by ``-clv``). A patient contacted from the list in the last
``QUIET_DAYS`` days is left out."""

from __future__ import annotations

import datetime as dt
import math
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Min, Q, QuerySet

from clinicflow.booking.models import OPEN_STATUSES, Appointment, AppointmentStatus
from clinicflow.care.models import FollowUpTask, RecallContact, RecallKind, RecallList, TaskStatus
from clinicflow.core.errors import NotFound
from clinicflow.core.models import Organization
from clinicflow.core.selectors import parse_uuid
from clinicflow.patients.models import Patient
from clinicflow.patients.selectors import PatientFilters, patient_list, patients_named

DUE_AHEAD_DAYS = 14
QUIET_DAYS = 30
WEEK, TWO_MONTHS = dt.timedelta(days=7), dt.timedelta(days=60)


def recall_lists(*, org: Organization) -> QuerySet[RecallList]:
    return RecallList.objects.for_org(org).order_by("kind", "id")


def recall_list_get(*, org: Organization, list_id: object) -> RecallList:
    pk = parse_uuid(list_id)
    row = recall_lists(org=org).filter(pk=pk).first() if pk else None
    if row is None:
        raise NotFound("recall list not found")
    return row


@dataclass(frozen=True)
class Member:
    patient: Patient
    due_on: dt.date | None = None
    clv: Decimal | None = None
    p_alive: float | None = None
    currency: str = ""


def _ahead(org: Organization, now: dt.datetime) -> QuerySet[Appointment]:
    return Appointment.objects.for_org(org).filter(status__in=OPEN_STATUSES, start_at__gte=now)


def _quiet(org: Organization, rl: RecallList, now: dt.datetime) -> QuerySet[RecallContact]:
    return RecallContact.objects.for_org(org).filter(
        recall_list=rl, contacted_at__gte=now - dt.timedelta(days=QUIET_DAYS)
    )


def recall_members(
    *, org: Organization, rl: RecallList, now: dt.datetime, limit: int = 50, offset: int = 0
) -> list[Member]:
    """One page of the list's members, in the list's order (see the module)."""
    ahead = _ahead(org, now).values("patient_id")
    quiet = _quiet(org, rl, now).values("patient_id")
    if rl.kind == RecallKind.LAPSED:
        qs = patient_list(org=org, filters=PatientFilters(sort="-clv", max_p_alive=str(rl.max_p_alive)))
        recent = Appointment.objects.for_org(org).filter(
            status=AppointmentStatus.DONE, start_at__gte=now - dt.timedelta(days=rl.lapsed_days)
        )
        rows = list(
            qs.exclude(pk__in=recent.values("patient_id"))
            .exclude(pk__in=ahead)
            .exclude(pk__in=quiet)[offset : offset + limit]
        )
        return [
            Member(
                patient=p,
                clv=getattr(p, "prediction_clv", None),
                p_alive=getattr(p, "prediction_p_alive", None),
                currency=getattr(p, "prediction_currency", "") or "",
            )
            for p in rows
        ]
    due = (
        FollowUpTask.objects.for_org(org)
        .filter(
            action=rl.kind,
            status=TaskStatus.OPEN,
            due_on__lte=(now + dt.timedelta(days=DUE_AHEAD_DAYS)).date(),
        )
        .exclude(patient_id__in=ahead)
        .exclude(patient_id__in=quiet)
        .values("patient_id")
        .annotate(due=Min("due_on"))
        .order_by("due", "patient_id")[offset : offset + limit]
    )
    due_rows = list(due)
    named = {p.pk: p for p in patients_named(org=org, ids=[r["patient_id"] for r in due_rows])}
    return [
        Member(patient=named[r["patient_id"]], due_on=r["due"]) for r in due_rows if r["patient_id"] in named
    ]


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float] | None:
    """The 95% Wilson score interval of a share k/n (None without data)."""
    if n <= 0:
        return None
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class ListResult:
    recall_list: RecallList
    contacted: int
    booked_7: int
    booked_60: int

    @property
    def share_7(self) -> float | None:
        return self.booked_7 / self.contacted if self.contacted else None

    @property
    def share_60(self) -> float | None:
        return self.booked_60 / self.contacted if self.contacted else None

    @property
    def ci_7(self) -> tuple[float, float] | None:
        return wilson(self.booked_7, self.contacted)

    @property
    def ci_60(self) -> tuple[float, float] | None:
        return wilson(self.booked_60, self.contacted)


def recall_results(
    *,
    org: Organization,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    list_ids: list[uuid.UUID] | None = None,
) -> list[ListResult]:
    """Per list: the contacts made in [start, end) (each a contacted patient; a patient contacted
    twice counts twice) and how many of them booked within 7 and within 60 days of the contact."""
    qs = RecallContact.objects.for_org(org)
    if start is not None:
        qs = qs.filter(contacted_at__gte=start)
    if end is not None:
        qs = qs.filter(contacted_at__lt=end)
    if list_ids is not None:
        qs = qs.filter(recall_list_id__in=list_ids)
    counts: dict[uuid.UUID, dict[str, Any]] = {
        r["recall_list_id"]: dict(r)
        for r in qs.values("recall_list_id").annotate(
            contacted=Count("id"),
            booked_7=Count("id", filter=Q(booked_at__isnull=False) & _within(WEEK)),
            booked_60=Count("id", filter=Q(booked_at__isnull=False) & _within(TWO_MONTHS)),
        )
    }
    lists = recall_lists(org=org)
    if list_ids is not None:
        lists = lists.filter(pk__in=list_ids)
    out = []
    for rl in lists:
        c = counts.get(rl.pk, {})
        out.append(ListResult(rl, c.get("contacted", 0), c.get("booked_7", 0), c.get("booked_60", 0)))
    return out


def _within(window: dt.timedelta) -> Q:
    return Q(booked_at__gte=F("contacted_at"), booked_at__lte=F("contacted_at") + window)
