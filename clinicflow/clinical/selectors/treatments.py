"""Reads of the treatment part: a record with its amended values, lot traceability, the complication
case-review list and the complication rate per doctor and per service."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, OuterRef, QuerySet

from clinicflow.accounts.models import User
from clinicflow.booking.models import Appointment, Doctor
from clinicflow.catalogue.models import Service
from clinicflow.clinical.models.treatments import (
    Complication,
    ComplicationOutcome,
    Severity,
    SopVersion,
    TreatmentAmendment,
    TreatmentProduct,
    TreatmentRecord,
    normalise_lot,
)
from clinicflow.core.errors import NotFound
from clinicflow.core.models import Organization


def _uuid(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def treatment_for(*, org: Organization, appointment: Appointment) -> TreatmentRecord | None:
    return (
        TreatmentRecord.objects.for_org(org)
        .select_related("sop_version", "signed_by", "doctor", "service")
        .filter(appointment=appointment)
        .first()
    )


def products_of(*, org: Organization, record: TreatmentRecord) -> list[TreatmentProduct]:
    return list(TreatmentProduct.objects.for_org(org).filter(record=record).order_by("position"))


def amendments_of(*, org: Organization, record: TreatmentRecord) -> list[TreatmentAmendment]:
    return list(
        TreatmentAmendment.objects.for_org(org)
        .filter(record=record)
        .select_related("by")
        .order_by("at", "id")
    )


def product_dict(p: TreatmentProduct) -> dict[str, Any]:
    return {
        "name": p.name,
        "manufacturer": p.manufacturer,
        "lot": p.lot,
        "amount": str(p.amount.normalize()) if p.amount == p.amount.to_integral() else str(p.amount),
        "unit": p.unit,
        "area": p.area,
    }


def original_values(*, org: Organization, record: TreatmentRecord) -> dict[str, Any]:
    return {
        "services_done": list(record.services_done),
        "products": [product_dict(p) for p in products_of(org=org, record=record)],
        "map_notes": dict(record.map_notes),
        "sop_checked": list(record.sop_checked),
        "notes": record.notes,
    }


def current_values(*, org: Organization, record: TreatmentRecord) -> dict[str, Any]:
    """The record's values with its amendments applied in order (the original stays stored)."""
    values = original_values(org=org, record=record)
    for amendment in amendments_of(org=org, record=record):
        for key, (_old, new) in amendment.changes.items():
            values[key] = new
    return values


def services_all(*, org: Organization) -> list[Service]:
    return list(Service.objects.for_org(org).order_by("name"))


def doctors_all(*, org: Organization) -> list[Doctor]:
    return list(Doctor.objects.for_org(org).order_by("full_name"))


def sop_versions(*, org: Organization, service_id: uuid.UUID) -> list[SopVersion]:
    return list(SopVersion.objects.for_org(org).filter(sop__service_id=service_id).order_by("-version"))


@dataclass(frozen=True)
class LotHit:
    patient_id: uuid.UUID
    patient_name: str
    branch_id: uuid.UUID
    date: dt.datetime
    doctor: str
    product: str
    lot: str
    amount: Decimal
    unit: str
    area: str
    signed: bool
    appointment_id: uuid.UUID


def lot_search(*, org: Organization, lot: str, user: User | None = None, limit: int = 1000) -> list[LotHit]:
    """Every use of lot ``lot`` (normalised) in the organisation, newest first; limited to the
    user's branch when the user has one."""
    key = normalise_lot(lot)
    if not key:
        return []
    qs = (
        TreatmentProduct.objects.for_org(org)
        .filter(lot=key)
        .select_related("record__appointment", "record__patient", "record__doctor")
        .order_by("-record__appointment__start_at", "position")
    )
    # records whose product lines were amended are read with their amendments applied (rare)
    amended = TreatmentRecord.objects.for_org(org).filter(
        Exists(
            TreatmentAmendment.objects.for_org(org).filter(record=OuterRef("pk"), changes__has_key="products")
        )
    )
    if user is not None and user.branch_id is not None:
        qs = qs.filter(record__appointment__branch_id=user.branch_id)
        amended = amended.filter(appointment__branch_id=user.branch_id)
    amended = amended.select_related("appointment", "patient", "doctor")
    hits = [
        _hit(p.record, p.name, p.lot, p.amount, p.unit, p.area)
        for p in qs.exclude(record__in=amended)[:limit]
    ]
    for record in amended:
        for line in current_values(org=org, record=record)["products"]:
            if normalise_lot(line["lot"]) == key:
                hits.append(
                    _hit(record, line["name"], key, Decimal(line["amount"]), line["unit"], line["area"])
                )
    hits.sort(key=lambda h: h.date, reverse=True)
    return hits[:limit]


def _hit(record: TreatmentRecord, name: str, lot: str, amount: Decimal, unit: str, area: str) -> LotHit:
    return LotHit(
        patient_id=record.patient_id,
        patient_name=record.patient.full_name,
        branch_id=record.appointment.branch_id,
        date=record.appointment.start_at,
        doctor=record.doctor.full_name,
        product=name,
        lot=lot,
        amount=amount,
        unit=unit,
        area=area,
        signed=record.signed_at is not None,
        appointment_id=record.appointment_id,
    )


@dataclass(frozen=True)
class CaseFilters:
    month: dt.date | None = None  # any day of the month
    severity: str = ""
    doctor_id: uuid.UUID | None = None
    open_follow_ups: bool = False
    patient_id: uuid.UUID | None = None


def month_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    start = day.replace(day=1)
    end = (start + dt.timedelta(days=32)).replace(day=1)
    return start, end


def parse_month(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(f"{value.strip()[:7]}-01")
    except ValueError:
        return None


def complication_cases(*, org: Organization, filters: CaseFilters) -> QuerySet[Complication]:
    """The current entry of each complication case (entries not corrected by a later one)."""
    corrected = Complication.objects.for_org(org).filter(corrects=OuterRef("pk"))
    qs = (
        Complication.objects.for_org(org)
        .filter(~Exists(corrected))
        .select_related("patient", "doctor", "service", "recorded_by")
        .order_by("-onset_date", "-created_at")
    )
    if filters.month is not None:
        start, end = month_bounds(filters.month)
        qs = qs.filter(onset_date__gte=start, onset_date__lt=end)
    if filters.severity in Severity.values:
        qs = qs.filter(severity=filters.severity)
    if filters.doctor_id is not None:
        qs = qs.filter(doctor_id=filters.doctor_id)
    if filters.patient_id is not None:
        qs = qs.filter(patient_id=filters.patient_id)
    if filters.open_follow_ups:
        qs = qs.filter(follow_up_date__isnull=False).exclude(outcome=ComplicationOutcome.RESOLVED)
    return qs


def complication_get(*, org: Organization, complication_id: object) -> Complication:
    pk = _uuid(complication_id)
    entry = (
        Complication.objects.for_org(org).select_related("patient", "doctor", "service").filter(pk=pk).first()
        if pk
        else None
    )
    if entry is None:
        raise NotFound("complication not found")
    return entry


@dataclass(frozen=True)
class RateRow:
    key: uuid.UUID
    label: str
    complications: int
    treatments: int

    @property
    def rate(self) -> Decimal | None:
        """complications / signed-off treatments (None when there were no treatments)."""
        if not self.treatments:
            return None
        return Decimal(self.complications) / Decimal(self.treatments)


def complication_rates(
    *, org: Organization, start: dt.date, end: dt.date, by: str = "doctor"
) -> list[RateRow]:
    """The complication rate per doctor (``by="doctor"``) or per service (``"service"``) over
    ``[start, end)``: complication cases with onset in the period, divided by treatment records
    signed off in the period (by the record's doctor or service). The one definition of the rate."""
    if by not in ("doctor", "service"):
        raise ValueError(by)
    name = "full_name" if by == "doctor" else "name"
    cases = complication_cases(org=org, filters=CaseFilters()).filter(
        onset_date__gte=start, onset_date__lt=end, **{f"{by}__isnull": False}
    )
    counts = {
        row[f"{by}_id"]: (row[f"{by}__{name}"], row["n"])
        for row in cases.order_by().values(f"{by}_id", f"{by}__{name}").annotate(n=Count("id"))
    }
    signed = (
        TreatmentRecord.objects.for_org(org)
        .filter(signed_at__date__gte=start, signed_at__date__lt=end)
        .order_by()
        .values(f"{by}_id", f"{by}__{name}")
        .annotate(n=Count("id"))
    )
    treated = {row[f"{by}_id"]: (row[f"{by}__{name}"], row["n"]) for row in signed}
    rows = [
        RateRow(
            key=key,
            label=(treated.get(key) or counts[key])[0],
            complications=counts.get(key, ("", 0))[1],
            treatments=treated.get(key, ("", 0))[1],
        )
        for key in set(counts) | set(treated)
    ]
    return sorted(rows, key=lambda r: (-(r.rate or Decimal(-1)), r.label))
