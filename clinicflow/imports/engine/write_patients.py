"""Writing a batch of patient rows: source-id map first, then duplicates by E.164 phone and e-mail
(through the blind indexes), then new cards with their phones."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from django.utils import timezone

from clinicflow.core.crypto import email_index, phone_index
from clinicflow.imports.engine.bulk import BatchResult, Issue, insert, known, remember
from clinicflow.imports.engine.clean import Clean, Ctx
from clinicflow.imports.models import ImportJob, IssueLevel, OnDuplicate
from clinicflow.patients.models import Patient, PatientPhone, Sex

FILLABLE = ("email", "birth_date", "middle_name", "notes")


def _existing(ctx: Ctx, rows: Sequence[Clean]) -> tuple[dict[str, uuid.UUID], dict[str, uuid.UUID]]:
    """Live patients of the organisation by phone blind index and by e-mail blind index."""
    org = ctx.org
    phones = {phone_index(org.pk, p) for r in rows for p in r.values["phones"]}
    emails = {email_index(org.pk, r.values["email"]) for r in rows if r.values["email"]}
    by_phone: dict[str, uuid.UUID] = {}
    if phones:
        live = Patient.objects.for_org(org).filter(merged_into__isnull=True).values("pk")
        for idx, pid in (
            PatientPhone.objects.for_org(org)
            .filter(e164_index__in=phones, patient_id__in=live)
            .order_by("id")
            .values_list("e164_index", "patient_id")
        ):
            by_phone.setdefault(idx, pid)
    by_email: dict[str, uuid.UUID] = {}
    if emails:
        for idx, pid in (
            Patient.objects.for_org(org)
            .filter(email_index__in=emails, merged_into__isnull=True)
            .order_by("created_at")
            .values_list("email_index", "pk")
        ):
            by_email.setdefault(idx, pid)
    return by_phone, by_email


def _merge(ctx: Ctx, patient: Patient, values: dict[str, object]) -> bool:
    """Fill the existing card's empty fields and add its missing phones; whether anything changed."""
    changed = False
    for name in FILLABLE:
        if values.get(name) and not getattr(patient, name):
            setattr(patient, name, values[name])
            changed = True
    if patient.sex == Sex.UNKNOWN and values.get("sex") != Sex.UNKNOWN:
        patient.sex = str(values["sex"])
        changed = True
    have = set(
        PatientPhone.objects.for_org(ctx.org).filter(patient=patient).values_list("e164_index", flat=True)
    )
    new = [p for p in values["phones"] if phone_index(ctx.org.pk, str(p)) not in have]  # type: ignore[attr-defined]
    if new:
        PatientPhone.objects.bulk_create(
            PatientPhone(organization=ctx.org, patient=patient, e164=p, is_primary=not have and i == 0)
            for i, p in enumerate(new)
        )
        changed = True
    if changed:
        patient.updated_at = timezone.now()
        patient.save()
    return changed


def write_patients(
    ctx: Ctx, rows: Sequence[Clean], *, job: ImportJob | None, on_duplicate: str
) -> BatchResult:
    result = BatchResult()
    org = ctx.org
    done = known(org=org, source=ctx.source, kind="patients", ids=[r.source_id for r in rows])
    by_phone, by_email = _existing(ctx, rows)
    new_patients: list[Patient] = []
    new_phones: list[PatientPhone] = []
    pairs: list[tuple[str, uuid.UUID]] = []
    seen: set[str] = set()
    new_by_pk: dict[uuid.UUID, Patient] = {}
    for row in rows:
        if row.source_id in done or row.source_id in seen:
            result.unchanged += 1
            continue
        seen.add(row.source_id)
        values = dict(row.values)
        phones: list[str] = values.pop("phones")
        keys = [phone_index(org.pk, p) for p in phones]
        mail = email_index(org.pk, values["email"]) if values["email"] else ""
        match = next((by_phone[k] for k in keys if k in by_phone), None) or by_email.get(mail)
        if match is not None and on_duplicate != OnDuplicate.FLAG:
            pairs.append((row.source_id, match))
            if on_duplicate == OnDuplicate.SKIP:
                result.skipped += 1
                continue
            fresh = new_by_pk.get(match)
            if fresh is not None:  # an earlier row of this batch: fill the card before it is written
                for name in FILLABLE:
                    if values.get(name) and not getattr(fresh, name):
                        setattr(fresh, name, values[name])
                result.updated += 1
                continue
            existing = Patient.objects.for_org(org).get(pk=match)
            if _merge(ctx, existing, {**values, "phones": phones}):
                result.updated += 1
            else:
                result.unchanged += 1
            continue
        patient = Patient(organization=org, branch=ctx.branch, created_by=None, **values)
        patient.search_name = Patient.make_search_name(
            patient.last_name, patient.first_name, patient.middle_name
        )
        new_patients.append(patient)
        new_by_pk[patient.pk] = patient
        new_phones.extend(
            PatientPhone(organization=org, patient=patient, e164=p, is_primary=(i == 0))
            for i, p in enumerate(phones)
        )
        pairs.append((row.source_id, patient.pk))
        result.created += 1
        if match is not None:
            result.flagged += 1
            result.issues.append(
                Issue(
                    row.line,
                    "phone" if any(k in by_phone for k in keys) else "email",
                    "may be the same person as an existing patient",
                    level=IssueLevel.DUPLICATE,
                    object_id=patient.pk,
                    other_id=match,
                )
            )
        # later rows of this batch with the same phone or e-mail are duplicates of this one
        for k in keys:
            by_phone.setdefault(k, patient.pk)
        if mail:
            by_email.setdefault(mail, patient.pk)
    insert(Patient, new_patients)
    insert(PatientPhone, new_phones)
    remember(org=org, source=ctx.source, kind="patients", job=job, pairs=pairs)
    return result
