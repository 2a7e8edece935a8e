"""Per-patient figures the cohort, CLV-class, recall and balanced-doctor reports share: the first visit
that happened (``first_visit_times``, the channel report's definition), visits that happened and net
revenue to date, each in one grouped query."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Min, Q, Sum

from clinicflow.acquisition.attribution import HAPPENED, REFUND
from clinicflow.booking.models import Appointment, Payment
from clinicflow.core.models import Branch, Organization


@dataclass
class PatientLine:
    first_at: dt.datetime
    first_doctor: uuid.UUID | None = None
    visits: list[dt.datetime] = field(default_factory=list)
    payments: list[tuple[dt.datetime, Decimal]] = field(default_factory=list)

    def revenue(self) -> Decimal:
        return sum((a for _at, a in self.payments), Decimal(0))


def first_patients(
    *, org: Organization, start: dt.datetime, end: dt.datetime, branch: Branch | None, currency: str
) -> dict[uuid.UUID, PatientLine]:
    """Patients whose first visit that happened starts in [start, end) (in the branch, with one), with
    every visit that happened and their net payments in ``currency`` to date."""
    happened = Appointment.objects.for_org(org).filter(status__in=HAPPENED)
    firsts = (
        happened.order_by()
        .values("patient_id")
        .annotate(at=Min("start_at"))
        .filter(at__gte=start, at__lt=end)
        .values_list("patient_id", "at")
    )
    lines = {p: PatientLine(first_at=at) for p, at in firsts}
    visits = happened.filter(patient_id__in=firsts.values("patient_id"))
    for p, at, b, doctor in visits.values_list("patient_id", "start_at", "branch_id", "doctor_id"):
        line = lines[p]
        line.visits.append(at)
        if at == line.first_at:
            line.first_doctor = doctor
            if branch is not None and b != branch.pk:
                line.first_doctor = None
    if branch is not None:
        here = set(
            happened.filter(patient_id__in=list(lines), branch=branch).values_list("patient_id", "start_at")
        )
        lines = {p: line for p, line in lines.items() if (p, line.first_at) in here}
    pays = (
        Payment.objects.for_org(org)
        .filter(patient_id__in=firsts.values("patient_id"), currency=currency)
        .values_list("patient_id", "paid_at", "kind", "amount")
    )
    for p, at, kind, amount in pays:
        if p in lines:
            lines[p].payments.append((at, -Decimal(amount) if kind == REFUND else Decimal(amount)))
    return lines


def value_to_date(*, org: Organization, currency: str) -> dict[uuid.UUID, Decimal]:
    """Historical CLV: every patient's net revenue to date in ``currency``."""
    out: dict[uuid.UUID, Decimal] = defaultdict(Decimal)
    rows = (
        Payment.objects.for_org(org)
        .filter(currency=currency)
        .order_by()
        .values("patient_id")
        .annotate(
            paid=Sum("amount", filter=~Q(kind=REFUND)),
            refunded=Sum("amount", filter=Q(kind=REFUND)),
        )
    )
    for r in rows:
        out[r["patient_id"]] = Decimal(r["paid"] or 0) - Decimal(r["refunded"] or 0)
    return out
