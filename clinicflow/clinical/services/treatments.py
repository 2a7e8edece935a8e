"""Writes of the treatment part: SOP versions, treatment records (save, sign off, amend) and
complication entries. Every write is audit-logged here (who, what, which field names)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from clinicflow.accounts.models import User
from clinicflow.booking.models import Appointment
from clinicflow.catalogue.models import Service
from clinicflow.clinical.models.treatments import (
    Sop,
    SopVersion,
    TreatmentAmendment,
    TreatmentProduct,
    TreatmentRecord,
    TreatmentUnit,
    normalise_lot,
)
from clinicflow.core.audit import audit_record
from clinicflow.core.errors import Conflict, ValidationFailed
from clinicflow.core.models import AuditAction, Organization

MAX_PRODUCTS = 50
MAX_AREAS = 50
AMENDABLE = ("notes", "map_notes", "sop_checked", "services_done", "products")


@dataclass
class ProductData:
    name: str
    lot: str
    amount: Any
    unit: str
    manufacturer: str = ""
    area: str = ""


@dataclass
class TreatmentData:
    services_done: list[str] = field(default_factory=list)
    products: list[ProductData] = field(default_factory=list)
    map_notes: dict[str, str] = field(default_factory=dict)
    sop_checked: list[int] = field(default_factory=list)
    notes: str = ""


class _Errors:
    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}

    def add(self, name: str, message: str) -> None:
        self.fields.setdefault(name, []).append(message)

    def raise_any(self) -> None:
        if self.fields:
            first = next(iter(self.fields))
            raise ValidationFailed(f"{first}: {self.fields[first][0]}", fields=self.fields)


def _amount(value: Any, name: str, errors: _Errors) -> Decimal | None:
    if isinstance(value, float):
        errors.add(name, "must be a decimal string, not a float")
        return None
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        errors.add(name, "must be a number")
        return None
    if not amount.is_finite() or amount <= 0:
        errors.add(name, "must be greater than zero")
        return None
    if amount >= Decimal("10000000") or amount != amount.quantize(Decimal("0.001")):
        errors.add(name, "at most 3 decimal places and below 10000000")
        return None
    return amount


def _clean(org: Organization, data: TreatmentData, sop: SopVersion | None) -> list[dict[str, Any]]:
    """Validate ``data``; the product rows ready to insert. ``ValidationFailed`` names every bad field."""
    errors = _Errors()
    if len(data.products) > MAX_PRODUCTS:
        errors.add("products", f"at most {MAX_PRODUCTS} lines")
    rows: list[dict[str, Any]] = []
    for i, p in enumerate(data.products[:MAX_PRODUCTS]):
        name, lot = str(p.name).strip()[:200], normalise_lot(p.lot)
        if not name:
            errors.add(f"products[{i}].name", "required")
        if not lot or len(lot) > 60:
            errors.add(f"products[{i}].lot", "required, at most 60 characters")
        if p.unit not in TreatmentUnit.values:
            errors.add(f"products[{i}].unit", f"must be one of {', '.join(TreatmentUnit.values)}")
        amount = _amount(p.amount, f"products[{i}].amount", errors)
        rows.append(
            {
                "name": name,
                "manufacturer": str(p.manufacturer).strip()[:200],
                "lot": lot,
                "amount": amount,
                "unit": p.unit,
                "area": str(p.area).strip()[:100],
                "position": i,
            }
        )
    if len(data.map_notes) > MAX_AREAS or any(
        not str(k).strip() or len(str(k)) > 100 or len(str(v)) > 2000 for k, v in data.map_notes.items()
    ):
        errors.add("map_notes", "areas of 1..100 characters, notes up to 2000, at most 50 areas")
    if data.sop_checked:
        count = len(sop.items) if sop is not None else 0
        if any(not isinstance(n, int) or not 0 <= n < count for n in data.sop_checked):
            errors.add("sop_checked", "item numbers of the service's current SOP checklist")
    known = {
        str(pk)
        for pk in Service.objects.for_org(org)
        .filter(pk__in=_uuids(data.services_done))
        .values_list("pk", flat=True)
    }
    if any(s not in known for s in data.services_done):
        errors.add("services_done", "unknown service")
    if len(data.notes) > 5000:
        errors.add("notes", "at most 5000 characters")
    errors.raise_any()
    return rows


def _uuids(values: list[str]) -> list[str]:
    out = []
    for v in values:
        try:
            out.append(str(uuid.UUID(str(v))))
        except ValueError:
            continue
    return out


def sop_current(*, org: Organization, service_id: uuid.UUID) -> SopVersion | None:
    return SopVersion.objects.for_org(org).filter(sop__service_id=service_id).order_by("-version").first()


@transaction.atomic
def sop_save(
    *,
    org: Organization,
    actor: User,
    service: Service,
    title: str,
    items: list[str],
    request: HttpRequest | None = None,
) -> SopVersion:
    """A new version of the service's SOP checklist (the SOP is created with its first version)."""
    clean = [str(i).strip()[:300] for i in items if str(i).strip()]
    if not clean or len(clean) > 100:
        raise ValidationFailed.field("items", "1..100 checklist items")
    title = title.strip()[:200] or service.name
    sop, _ = Sop.objects.get_or_create(organization=org, service=service, defaults={"title": title})
    if sop.title != title:
        Sop.objects.for_org(org).filter(pk=sop.pk).update(title=title)
    last = SopVersion.objects.for_org(org).filter(sop=sop).order_by("-version").first()
    version = SopVersion.objects.create(
        organization=org, sop=sop, version=(last.version + 1) if last else 1, items=clean, created_by=actor
    )
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.CREATE,
        object_type="sop_version",
        object_id=version.pk,
        fields=["title", "items"],
        request=request,
    )
    return version


@transaction.atomic
def treatment_save(
    *,
    org: Organization,
    actor: User,
    appointment: Appointment,
    data: TreatmentData,
    sign_off: bool = False,
    request: HttpRequest | None = None,
) -> TreatmentRecord:
    """Create or update the appointment's unsigned record (``Conflict`` once signed off); optionally
    sign it off in the same step."""
    record = TreatmentRecord.objects.for_org(org).select_for_update().filter(appointment=appointment).first()
    if record is not None and record.signed_at is not None:
        raise Conflict("the treatment record is signed off: add an amendment instead", code="signed_off")
    sop = record.sop_version if record is not None and record.sop_version_id else None
    sop = sop or sop_current(org=org, service_id=appointment.service_id)
    rows = _clean(org, data, sop)
    now = timezone.now()
    creating = record is None
    if record is None:
        record = TreatmentRecord(
            organization=org,
            appointment=appointment,
            patient_id=appointment.patient_id,
            doctor_id=appointment.doctor_id,
            service_id=appointment.service_id,
            created_by=actor,
        )
    record.services_done = list(data.services_done) or [str(appointment.service_id)]
    record.map_notes = {str(k).strip(): str(v) for k, v in data.map_notes.items()}
    record.sop_version = sop
    record.sop_checked = sorted(set(data.sop_checked))
    record.notes = data.notes
    record.updated_at = now
    record.save()
    record.products.all().delete()
    TreatmentProduct.objects.bulk_create(
        TreatmentProduct(organization=org, record=record, **row) for row in rows
    )
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.CREATE if creating else AuditAction.UPDATE,
        object_type="treatment_record",
        object_id=record.pk,
        fields=["services_done", "products", "map_notes", "sop_checked", "notes"],
        request=request,
    )
    if sign_off:
        record = treatment_sign_off(org=org, actor=actor, record=record, request=request)
    return record


def treatment_sign_off(
    *, org: Organization, actor: User, record: TreatmentRecord, request: HttpRequest | None = None
) -> TreatmentRecord:
    """Sign the record off; from now on it is append-only."""
    if record.signed_at is not None:
        raise Conflict("the treatment record is already signed off", code="signed_off")
    with transaction.atomic():
        updated = (
            TreatmentRecord.objects.for_org(org)
            .filter(pk=record.pk, signed_at__isnull=True)
            .update(signed_at=timezone.now(), signed_by=actor)
        )
        if not updated:
            raise Conflict("the treatment record is already signed off", code="signed_off")
        audit_record(
            org=org,
            actor=actor,
            action=AuditAction.UPDATE,
            object_type="treatment_record",
            object_id=record.pk,
            fields=["signed_at", "signed_by"],
            request=request,
        )
    return TreatmentRecord.objects.for_org(org).get(pk=record.pk)


def _amended(
    org: Organization, record: TreatmentRecord, merged: dict[str, Any], changes: dict[str, Any]
) -> dict[str, Any]:
    """``changes`` checked like a new record (the same field names in errors) and normalised (lots)."""
    shapes = {"services_done": list, "products": list, "map_notes": dict, "sop_checked": list, "notes": str}
    errors = _Errors()
    for key, kind in shapes.items():
        if not isinstance(merged.get(key), kind):
            errors.add(key, f"must be a {kind.__name__}")
    products: list[ProductData] = []
    for i, line in enumerate(merged.get("products") or []):
        try:
            products.append(
                ProductData(
                    **{k: line.get(k, "") for k in ("name", "lot", "amount", "unit", "manufacturer", "area")}
                )
            )
        except AttributeError:
            errors.add(f"products[{i}]", "must be an object with name, lot, amount, unit")
    errors.raise_any()
    data = TreatmentData(
        services_done=merged["services_done"],
        products=products,
        map_notes=merged["map_notes"],
        sop_checked=merged["sop_checked"],
        notes=merged["notes"],
    )
    rows = _clean(org, data, record.sop_version)
    if "products" in changes:
        changes = {
            **changes,
            "products": [
                {
                    k: (str(r[k]) if k == "amount" else r[k])
                    for k in ("name", "manufacturer", "lot", "amount", "unit", "area")
                }
                for r in rows
            ],
        }
    return changes


def treatment_amend(
    *,
    org: Organization,
    actor: User,
    record: TreatmentRecord,
    changes: dict[str, Any],
    reason: str,
    current: dict[str, Any],
    request: HttpRequest | None = None,
) -> TreatmentAmendment:
    """An amendment of a signed-off record: the diff of ``changes`` against the ``current`` (amended)
    values, with the reason. The record itself is never changed."""
    if record.signed_at is None:
        raise Conflict("the record is not signed off yet: edit it instead", code="not_signed")
    reason = reason.strip()
    errors = _Errors()
    if len(reason) < 5:
        errors.add("reason", "give a reason (at least 5 characters)")
    unknown = [k for k in changes if k not in AMENDABLE]
    for k in unknown:
        errors.add(k, "cannot be amended")
    errors.raise_any()
    changes = _amended(org, record, {**current, **changes}, changes)
    diff = {k: [current.get(k), v] for k, v in changes.items() if current.get(k) != v}
    if not diff:
        raise ValidationFailed.field("changes", "nothing changed")
    with transaction.atomic():
        amendment = TreatmentAmendment.objects.create(
            organization=org, record=record, by=actor, changes=diff, reason=reason[:500]
        )
        audit_record(
            org=org,
            actor=actor,
            action=AuditAction.UPDATE,
            object_type="treatment_record",
            object_id=record.pk,
            fields=[f"amendment.{k}" for k in diff],
            request=request,
        )
    return amendment
