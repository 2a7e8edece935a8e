"""Writes for YCLIENTS: import of ``/clients`` and ``/records`` responses, changes from its webhooks,
and the organisation's webhook link (secret stored hashed)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from clinicflow.booking.models import Appointment, AppointmentStatus
from clinicflow.core.audit import audit_record
from clinicflow.core.models import AuditAction, Branch, Organization
from clinicflow.core.selectors import parse_uuid
from clinicflow.imports.engine.bulk import BatchResult, Issue, known
from clinicflow.imports.engine.catalog import Catalog
from clinicflow.imports.engine.clean import Clean, Ctx, RowProblem
from clinicflow.imports.engine.write_patients import write_patients
from clinicflow.imports.engine.write_visits import write_visits
from clinicflow.imports.models import OnDuplicate, YclientsLink
from clinicflow.imports.yclients.convert import client_row, items, record_row
from clinicflow.patients.models import Patient, PatientPhone
from clinicflow.patients.services import PatientData, patient_update

SOURCE = "yclients"


def _ctx(org: Organization, branch: Branch, kind: str) -> Ctx:
    return Ctx(org=org, branch=branch, source=SOURCE, kind=kind)


def _convert(objs: Sequence[Any], ctx: Ctx, records: bool) -> tuple[list[Clean], list[Clean], list[Issue]]:
    visits: list[Clean] = []
    patients: list[Clean] = []
    issues: list[Issue] = []
    for line, obj in enumerate(objs, start=1):
        try:
            if records:
                visit, patient = record_row(obj, ctx, line)
                visits.append(visit)
                if patient is not None:
                    patients.append(patient)
            else:
                patients.append(client_row(obj, ctx, line))
        except RowProblem as exc:
            issues.append(Issue(line, exc.field, exc.problem, exc.value))
    return patients, visits, issues


@transaction.atomic
def yclients_import(
    *, org: Organization, branch: Branch, kind: str, payload: Any, on_duplicate: str = OnDuplicate.MERGE
) -> BatchResult:
    """Import a ``/clients`` (kind ``clients``) or ``/records`` (kind ``records``) response, all or nothing:
    any bad object and nothing is stored (the result's issues name it). Staff and services are matched
    by name or created; a record's client is created from the record when it is not known yet."""
    if branch.organization_id != org.pk:
        raise ValueError("branch of another organisation")
    try:
        objs = items(payload)
    except RowProblem as exc:
        return BatchResult(issues=[Issue(0, exc.field, exc.problem)])
    ctx = _ctx(org, branch, "visits" if kind == "records" else "patients")
    patients, visits, issues = _convert(objs, ctx, kind == "records")
    if issues:
        return BatchResult(issues=issues)
    result = BatchResult()
    sid = transaction.savepoint()
    unique_patients = list({p.source_id: p for p in patients}.values())
    made = write_patients(_ctx(org, branch, "patients"), unique_patients, job=None, on_duplicate=on_duplicate)
    if kind == "records":
        catalog = Catalog(ctx)
        result.add(write_visits(ctx, visits, job=None, catalog=catalog))
        result.extra.update({k: n for k, n in catalog.created.items() if n})
    else:
        result.add(made)
    if result.errors:
        transaction.savepoint_rollback(sid)
        return BatchResult(issues=result.errors)
    audit_record(org=org, actor=None, action=AuditAction.CREATE, object_type="yclients_import", fields=[kind])
    return result


# --- webhooks ---------------------------------------------------------------------------------------------


def link_create(*, org: Organization, branch: Branch, company_id: str = "") -> tuple[YclientsLink, str]:
    """A webhook link for the organisation; returns it and the secret for the URL (shown once)."""
    link = YclientsLink(organization=org, branch=branch, company_id=company_id[:40])
    token = secrets.token_urlsafe(24)
    secret = f"{link.pk.hex}{token}"
    link.secret_sha256 = hashlib.sha256(secret.encode()).hexdigest()
    link.save(force_insert=True)
    return link, secret


def link_for(secret: str) -> YclientsLink | None:
    """The active link this URL secret opens: found by the id it starts with, the hash compared in
    constant time. The organisation comes from here, never from the payload."""
    if len(secret) < 40 or len(secret) > 120:
        return None
    pk = parse_uuid(secret[:32])
    if pk is None:
        return None
    link = YclientsLink.objects.select_related("organization", "branch").filter(pk=pk, is_active=True).first()
    digest = hashlib.sha256(secret.encode()).hexdigest()
    if link is None or not hmac.compare_digest(link.secret_sha256, digest):
        return None
    return link


def _client_changed(link: YclientsLink, data: Mapping[str, Any], pid: uuid.UUID) -> str:
    org = link.organization
    row = client_row(data, _ctx(org, link.branch, "patients"))
    patient = Patient.objects.for_org(org).get(pk=pid)
    values = row.values
    current = list(PatientPhone.objects.for_org(org).filter(patient=patient).values_list("e164", flat=True))
    phones = current + [p for p in values["phones"] if p not in current]
    patient_update(
        org=org,
        actor=None,
        patient=patient,
        data=PatientData(
            last_name=values["last_name"],
            first_name=values["first_name"] or patient.first_name,
            middle_name=values["middle_name"],
            email=values["email"] or patient.email,
            birth_date=values["birth_date"] or patient.birth_date,
            phones=phones,
        ),
    )
    return "updated"


def _record_changed(link: YclientsLink, data: Mapping[str, Any], aid: uuid.UUID, deleted: bool) -> str:
    org = link.organization
    appointment = Appointment.objects.for_org(org).filter(pk=aid).first()
    if appointment is None:
        return "unchanged"
    if deleted:
        if appointment.status != AppointmentStatus.CANCELLED:
            appointment.status, appointment.cancelled_at = AppointmentStatus.CANCELLED, timezone.now()
            appointment.save(update_fields=["status", "cancelled_at", "updated_at"])
            return "cancelled"
        return "unchanged"
    ctx = _ctx(org, link.branch, "visits")
    visit, _patient = record_row(data, ctx)
    values = visit.values
    catalog = Catalog(ctx)
    service = catalog.service(values["service"], values["price"], values["duration"])
    start: dt.datetime = values["start_at"]
    end = start + dt.timedelta(minutes=values["duration"] or service.duration_minutes)
    wanted = {
        "service_id": service.pk,
        "doctor_id": catalog.doctor(values["doctor"]).pk,
        "start_at": start,
        "end_at": end,
        "busy_until": end + dt.timedelta(minutes=service.buffer_minutes),
        "status": values["status"],
        "price": values["price"],
        "notes": values["notes"],
    }
    changed = [k for k, x in wanted.items() if getattr(appointment, k) != x]
    if not changed:
        return "unchanged"
    for k in changed:
        setattr(appointment, k, wanted[k])
    appointment.updated_at = timezone.now()
    appointment.save(update_fields=[*changed, "updated_at"])
    return "updated"


@transaction.atomic
def webhook_apply(*, link: YclientsLink, payload: Mapping[str, Any]) -> str:
    """Apply one YCLIENTS webhook (``resource`` client/record, ``status`` create/update/delete,
    ``data`` the object): a create is an import of one object, an update changes the mapped object,
    a replay changes nothing. Returns what happened."""
    org = link.organization
    resource, status, data = payload.get("resource"), payload.get("status"), payload.get("data")
    if resource not in ("client", "record") or not isinstance(data, Mapping):
        raise RowProblem("resource", "must be client or record, with its data")
    kind = "patients" if resource == "client" else "visits"
    source_id = str(data.get("id") or "")
    mapped = known(org=org, source=SOURCE, kind=kind, ids=[source_id]).get(source_id)
    link.last_event_at = timezone.now()
    link.save(update_fields=["last_event_at"])
    if mapped is None:
        if status == "delete":
            return "unchanged"
        result = yclients_import(
            org=org, branch=link.branch, kind="clients" if resource == "client" else "records", payload=data
        )
        if result.errors:
            first = result.errors[0]
            raise RowProblem(first.field, first.problem, first.value)
        return "created" if result.created else "unchanged"
    if resource == "client":
        return "unchanged" if status == "delete" else _client_changed(link, data, mapped)
    return _record_changed(link, data, mapped, deleted=status == "delete")
