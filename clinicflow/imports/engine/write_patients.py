"""Writing a batch of patient rows: source-id map first, then duplicates against the organisation's
live patients by E.164 phone and e-mail (their blind indexes, one query per batch), then the new
cards and their phones as plain rows (one COPY each on PostgreSQL, no model instance per row)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from django.db.models import Value
from django.utils import timezone

from clinicflow.core.crypto import EMAIL, PHONE, blind_indexes
from clinicflow.imports.engine.bulk import (
    BatchResult,
    Issue,
    among,
    insert_records,
    known,
    register_any,
    remember,
    uuid7_many,
)
from clinicflow.imports.engine.clean import Clean, Ctx
from clinicflow.imports.models import ImportJob, IssueLevel, OnDuplicate
from clinicflow.patients.models import Patient, PatientPhone, Sex

FILLABLE = ("email", "birth_date", "middle_name", "notes")
register_any(PatientPhone, "e164_index")
register_any(Patient, "email_index")


def existing(
    ctx: Ctx, phone_keys: Iterable[str], email_keys: Iterable[str]
) -> tuple[dict[str, uuid.UUID], dict[str, uuid.UUID]]:
    """Live patients of the organisation by phone blind index and by e-mail blind index, in one query
    (the oldest card wins when several share a key)."""
    org = ctx.org
    phones, emails = sorted(set(phone_keys) - {""}), sorted(set(email_keys) - {""})
    parts: list[Any] = []  # two value-list querysets of the same columns, joined by UNION ALL
    if phones:
        parts.append(
            PatientPhone.objects.for_org(org)
            .filter(patient__merged_into__isnull=True, **among("e164_index", phones))
            .annotate(k=Value("p"))
            .values_list("k", "e164_index", "patient_id", "patient__created_at", "id")
            .order_by()
        )
    if emails:
        parts.append(
            Patient.objects.for_org(org)
            .filter(merged_into__isnull=True, **among("email_index", emails))
            .annotate(k=Value("e"))
            .values_list("k", "email_index", "id", "created_at", "id")
            .order_by()
        )
    if not parts:
        return {}, {}
    query = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    by_phone: dict[str, uuid.UUID] = {}
    by_email: dict[str, uuid.UUID] = {}
    for kind, key, pid, _created, _id in sorted(query, key=lambda r: (r[3], r[4])):
        (by_phone if kind == "p" else by_email).setdefault(key, pid)
    return by_phone, by_email


def _merge(patient: Patient, have: set[str], values: dict[str, Any], keys: list[str]) -> bool:
    """Fill the existing card's empty fields and add its missing phones; whether anything changed."""
    changed = False
    for name in FILLABLE:
        if values.get(name) and not getattr(patient, name):
            setattr(patient, name, values[name])
            changed = True
    if patient.sex == Sex.UNKNOWN and values.get("sex") != Sex.UNKNOWN:
        patient.sex = str(values["sex"])
        changed = True
    new = [(p, k) for p, k in zip(values["phones"], keys, strict=True) if k not in have]
    if new:
        first = not have
        PatientPhone.objects.bulk_create(
            PatientPhone(
                organization_id=patient.organization_id, patient=patient, e164=p, is_primary=first and i == 0
            )
            for i, (p, _k) in enumerate(new)
        )
        have.update(k for _p, k in new)
        changed = True
    if changed:
        patient.updated_at = timezone.now()
        patient.save()
    return changed


Merge = tuple[uuid.UUID, dict[str, Any], list[str]]  # (existing card, the row's values, its phone keys)


def _merge_all(ctx: Ctx, merges: list[Merge], result: BatchResult) -> None:
    """Merge rows into existing cards: the cards and their phones read in two queries per batch."""
    if not merges:
        return
    ids = {pid for pid, _, _ in merges}
    cards = {p.pk: p for p in Patient.objects.for_org(ctx.org).filter(pk__in=ids)}
    have: dict[uuid.UUID, set[str]] = {pid: set() for pid in ids}
    for pid, key in (
        PatientPhone.objects.for_org(ctx.org)
        .filter(patient_id__in=ids)
        .values_list("patient_id", "e164_index")
    ):
        have[pid].add(key)
    for pid, values, keys in merges:
        if _merge(cards[pid], have[pid], values, keys):
            result.updated += 1
        else:
            result.unchanged += 1


def write_patients(
    ctx: Ctx, rows: Sequence[Clean], *, job: ImportJob | None, on_duplicate: str
) -> BatchResult:
    result = BatchResult()
    org = ctx.org
    done = known(org=org, source=ctx.source, kind="patients", ids=[r.source_id for r in rows])
    todo: list[Clean] = []
    seen: set[str] = set()
    for row in rows:
        if row.source_id in done or row.source_id in seen:
            result.unchanged += 1
        else:
            seen.add(row.source_id)
            todo.append(row)
    flat = blind_indexes(PHONE, org.pk, [p for r in todo for p in r.values["phones"]])
    mails = blind_indexes(EMAIL, org.pk, [r.values["email"] for r in todo])
    by_phone, by_email = existing(ctx, flat, mails)
    now = timezone.now()
    new_patients: dict[uuid.UUID, dict[str, Any]] = {}
    new_phones: list[dict[str, Any]] = []
    merges: list[Merge] = []
    pairs: list[tuple[str, uuid.UUID]] = []
    at = 0
    ids = iter(uuid7_many(len(todo) + len(flat)))
    for row, mail in zip(todo, mails, strict=True):
        values = row.values
        phones: list[str] = values["phones"]
        keys, at = flat[at : at + len(phones)], at + len(phones)
        match = next((by_phone[k] for k in keys if k in by_phone), None) or by_email.get(mail)
        if match is not None and on_duplicate != OnDuplicate.FLAG:
            pairs.append((row.source_id, match))
            if on_duplicate == OnDuplicate.SKIP:
                result.skipped += 1
            elif (fresh := new_patients.get(match)) is not None:
                # an earlier row of this batch: fill the card before it is written
                for name in FILLABLE:
                    if values.get(name) and not fresh.get(name):
                        fresh[name] = values[name]
                        if name == "email":
                            fresh["email_index"] = mail
                result.updated += 1
            else:
                merges.append((match, values, keys))
            continue
        pk = next(ids)
        new_patients[pk] = {
            "id": pk,
            "organization_id": org.pk,
            "branch_id": ctx.branch.pk,
            **{k: v for k, v in values.items() if k != "phones"},
            "email_index": mail,
            "created_at": now,
            "updated_at": now,
        }
        new_phones.extend(
            {
                "id": next(ids),
                "organization_id": org.pk,
                "patient_id": pk,
                "e164": p,
                "e164_index": k,
                "is_primary": i == 0,
            }
            for i, (p, k) in enumerate(zip(phones, keys, strict=True))
        )
        pairs.append((row.source_id, pk))
        result.created += 1
        if match is not None:
            result.flagged += 1
            result.issues.append(
                Issue(
                    row.line,
                    "phone" if any(k in by_phone for k in keys) else "email",
                    "may be the same person as an existing patient",
                    level=IssueLevel.DUPLICATE,
                    object_id=pk,
                    other_id=match,
                )
            )
        # later rows of this batch with the same phone or e-mail are duplicates of this one
        for k in keys:
            by_phone.setdefault(k, pk)
        if mail:
            by_email.setdefault(mail, pk)
    for record in new_patients.values():
        record["search_name"] = Patient.make_search_name(
            record["last_name"], record["first_name"], record["middle_name"]
        )
    insert_records(Patient, list(new_patients.values()))
    insert_records(PatientPhone, new_phones)
    _merge_all(ctx, merges, result)
    remember(org=org, source=ctx.source, kind="patients", job=job, pairs=pairs)
    return result
