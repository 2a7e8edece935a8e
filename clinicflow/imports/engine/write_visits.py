"""Writing batches of visits (appointments) and payments: patients resolved by their source id or by
E.164 phone, services and doctors matched or created, times in the branch's zone, money in its currency."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from django.db import connection

from clinicflow.booking.models import Appointment, AppointmentSource, AppointmentStatus, Payment
from clinicflow.core.crypto import phone_index
from clinicflow.core.ids import uuid7
from clinicflow.imports.engine.bulk import (
    BatchResult,
    Issue,
    insert,
    insert_rows,
    known,
    per_key,
    remember,
)
from clinicflow.imports.engine.catalog import Catalog
from clinicflow.imports.engine.clean import Clean, Ctx
from clinicflow.imports.models import ImportJob
from clinicflow.patients.models import Patient, PatientPhone


def resolve_patients(ctx: Ctx, rows: Sequence[Clean]) -> tuple[dict[str, uuid.UUID], dict[str, uuid.UUID]]:
    """Patients of the organisation by source id (of this source) and by phone number."""
    org = ctx.org
    by_id = known(
        org=org,
        source=ctx.source,
        kind="patients",
        ids=[r.values["patient_id"] for r in rows if r.values["patient_id"]],
    )
    phones = {
        r.values["patient_phone"]
        for r in rows
        if r.values["patient_phone"] and not by_id.get(r.values["patient_id"])
    }
    by_phone: dict[str, uuid.UUID] = {}
    if phones:
        index = {phone_index(org.pk, p): p for p in phones}
        if connection.vendor == "postgresql":
            for idx, pid in per_key(_FIRST_LIVE_BY_PHONE, index, [org.pk, org.pk]):
                by_phone[index[idx]] = pid
            return by_id, by_phone
        live = Patient.objects.for_org(org).filter(merged_into__isnull=True).values("pk")
        for idx, pid in (
            PatientPhone.objects.for_org(org)
            .filter(e164_index__in=list(index), patient_id__in=live)
            .order_by("id")
            .values_list("e164_index", "patient_id")
        ):
            by_phone.setdefault(index[idx], pid)
    return by_id, by_phone


# the first (by phone id) live patient of the organisation with the phone of blind index k.v
# nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
_FIRST_LIVE_BY_PHONE = (
    f"SELECT ph.patient_id FROM (SELECT * FROM {PatientPhone._meta.db_table}"  # nosec B608 # noqa: S608 - names from model meta
    " WHERE organization_id = %s AND e164_index = k.v OFFSET 0) ph"
    f" CROSS JOIN LATERAL (SELECT * FROM {Patient._meta.db_table} WHERE id = ph.patient_id OFFSET 0) p"
    " WHERE p.organization_id = %s AND p.merged_into_id IS NULL ORDER BY ph.id LIMIT 1"
)


def _patient(
    row: Clean, by_id: dict[str, uuid.UUID], by_phone: dict[str, uuid.UUID], ctx: Ctx
) -> uuid.UUID | Issue:
    pid = by_id.get(row.values["patient_id"]) or by_phone.get(row.values["patient_phone"])
    if pid is not None:
        return pid
    if row.values["patient_id"]:
        return Issue(
            row.line,
            "patient_id",
            f"no patient with this id was imported from {ctx.source}",
            row.values["patient_id"],
        )
    return Issue(row.line, "patient_phone", "no patient has this phone", row.values["patient_phone"])


APPOINTMENT_COLUMNS = (
    "id", "organization_id", "branch_id", "patient_id", "service_id", "doctor_id", "room_id", "start_at",
    "end_at", "busy_until", "status", "cancel_reason", "cancelled_at", "is_late_cancellation", "arrived_at",
    "price", "currency", "is_first_visit", "source", "booked_by_id", "notes", "manage_version", "created_at",
    "updated_at",
)  # fmt: skip


def write_visits(ctx: Ctx, rows: Sequence[Clean], *, job: ImportJob | None, catalog: Catalog) -> BatchResult:
    """Appointments as plain rows (every column of the table, as the model's defaults would fill them)
    in one COPY per batch: the hot path of a 500,000-visit file."""
    result = BatchResult()
    done = known(org=ctx.org, source=ctx.source, kind="visits", ids=[r.source_id for r in rows])
    todo = [r for r in rows if r.source_id not in done]
    result.unchanged = len(rows) - len(todo)
    by_id, by_phone = resolve_patients(ctx, todo)
    made: list[tuple[object, ...]] = []
    pairs: list[tuple[str, uuid.UUID]] = []
    seen: set[str] = set()
    org_id, branch_id, currency, now = ctx.org.pk, ctx.branch.pk, ctx.currency, ctx.now
    for row in todo:
        if row.source_id in seen:
            result.unchanged += 1
            continue
        patient = _patient(row, by_id, by_phone, ctx)
        if isinstance(patient, Issue):
            result.issues.append(patient)
            continue
        seen.add(row.source_id)
        values = row.values
        service = catalog.service(values["service"], values["price"], values["duration"])
        doctor = catalog.doctor(values["doctor"])
        catalog.link(doctor, service)
        start: dt.datetime = values["start_at"]
        end = start + dt.timedelta(minutes=values["duration"] or service.duration_minutes)
        status = values["status"]
        pk = uuid7()
        made.append((
            pk, org_id, branch_id, patient, service.pk, doctor.pk, None, start,
            end, end + dt.timedelta(minutes=service.buffer_minutes), status, "",
            start if status == AppointmentStatus.CANCELLED else None, False,
            start if status == AppointmentStatus.DONE else None,
            values["price"] if values["price"] is not None else service.price, currency, False,
            AppointmentSource.STAFF, None, values["notes"], 1, min(start, now), now,
        ))  # fmt: skip
        pairs.append((row.source_id, pk))
    insert_rows(Appointment, APPOINTMENT_COLUMNS, made)
    remember(org=ctx.org, source=ctx.source, kind="visits", job=job, pairs=pairs)
    result.created = len(made)
    return result


def write_payments(ctx: Ctx, rows: Sequence[Clean], *, job: ImportJob | None) -> BatchResult:
    result = BatchResult()
    done = known(org=ctx.org, source=ctx.source, kind="payments", ids=[r.source_id for r in rows])
    todo = [r for r in rows if r.source_id not in done]
    result.unchanged = len(rows) - len(todo)
    by_id, by_phone = resolve_patients(ctx, todo)
    visits = known(
        org=ctx.org,
        source=ctx.source,
        kind="visits",
        ids=[r.values["visit_id"] for r in todo if r.values["visit_id"]],
    )
    made: list[Payment] = []
    pairs: list[tuple[str, uuid.UUID]] = []
    seen: set[str] = set()
    for row in todo:
        if row.source_id in seen:
            result.unchanged += 1
            continue
        patient = _patient(row, by_id, by_phone, ctx)
        if isinstance(patient, Issue):
            result.issues.append(patient)
            continue
        values = row.values
        visit = visits.get(values["visit_id"]) if values["visit_id"] else None
        if values["visit_id"] and visit is None:
            result.issues.append(
                Issue(
                    row.line,
                    "visit_id",
                    f"no visit with this id was imported from {ctx.source}",
                    values["visit_id"],
                )
            )
            continue
        seen.add(row.source_id)
        payment = Payment(
            organization=ctx.org,
            branch=ctx.branch,
            patient_id=patient,
            appointment_id=visit,
            amount=values["amount"],
            currency=ctx.currency,
            method=values["method"],
            kind=values["kind"],
            paid_at=values["paid_at"],
            note=values["note"],
        )
        made.append(payment)
        pairs.append((row.source_id, payment.pk))
    insert(Payment, made)
    remember(org=ctx.org, source=ctx.source, kind="payments", job=job, pairs=pairs)
    result.created = len(made)
    return result
