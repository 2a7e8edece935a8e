"""Writing a batch of patient rows: source-id map first, then duplicates against the organisation's
live patients by E.164 phone and e-mail (their blind indexes, one query per batch), then the new
cards and their phones as plain rows (one COPY each on PostgreSQL, no model instance per row)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import Value
from django.utils import timezone

from clinicflow.core.crypto import EMAIL, PHONE, blind_indexes
from clinicflow.core.fields import EncryptedTextField
from clinicflow.imports.engine.bulk import (
    BatchResult,
    Issue,
    among,
    insert_records,
    known,
    per_key,
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
    if connection.vendor == "postgresql":
        return _existing_per_key(org.pk, phones, emails)
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


# live patients of the organisation by the blind index k.v of a phone, of an e-mail:
# (patient, its creation, the row's id) — the phone's id, the card's; the phone's card by its key, one
# descent per phone (a join the planner may hash, scanning every card per key on stale statistics);
# each table's conditions are the key's alone (fenced by OFFSET 0), so no other index of the
# organisation (its merged cards, say) looks as good to a planner with stale statistics
# nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
_BY_PHONE = (
    f"SELECT ph.patient_id, p.created_at, ph.id FROM (SELECT * FROM {PatientPhone._meta.db_table}"  # nosec B608 # noqa: S608 - names from model meta
    " WHERE organization_id = %s AND e164_index = k.v OFFSET 0) ph"
    f" CROSS JOIN LATERAL (SELECT * FROM {Patient._meta.db_table} WHERE id = ph.patient_id OFFSET 0) p"
    " WHERE p.merged_into_id IS NULL"
)
# nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
_BY_EMAIL = (
    f"SELECT p.id, p.created_at, p.id FROM (SELECT * FROM {Patient._meta.db_table}"  # nosec B608 # noqa: S608 - names from model meta
    " WHERE organization_id = %s AND email_index = k.v OFFSET 0) p WHERE p.merged_into_id IS NULL"
)


def _existing_per_key(
    org_id: Any, phones: list[str], emails: list[str]
) -> tuple[dict[str, uuid.UUID], dict[str, uuid.UUID]]:
    """``existing`` on PostgreSQL: one index descent per key (``bulk.per_key``), whatever the
    statistics say of a table the import is filling."""
    found = [("p", *row) for row in per_key(_BY_PHONE, phones, [org_id])]
    found += [("e", *row) for row in per_key(_BY_EMAIL, emails, [org_id])]
    by_phone: dict[str, uuid.UUID] = {}
    by_email: dict[str, uuid.UUID] = {}
    for kind, key, pid, _created, _id in sorted(found, key=lambda r: (r[3], r[4])):
        (by_phone if kind == "p" else by_email).setdefault(key, pid)
    return by_phone, by_email


def index_rows(org_id: Any, rows: Sequence[Clean]) -> None:
    """The blind indexes of each row's phones and e-mail (``Clean.keys``, ``Clean.mail_key``) and their
    stored forms (``sealed_phones``, ``sealed_mail``: what ``insert_records`` would seal), a batch at a
    time: done by the reader, ahead of the writer."""
    phones = [p for r in rows for p in r.values["phones"]]
    emails = [r.values["email"] for r in rows]
    flat = blind_indexes(PHONE, org_id, phones)
    mails = blind_indexes(EMAIL, org_id, emails)
    sealed = _field(PatientPhone, "e164").seal_column(phones)
    sealed_mails = _field(Patient, "email").seal_column(emails)
    at = 0
    for row, mail, box in zip(rows, mails, sealed_mails, strict=True):
        n = len(row.values["phones"])
        row.keys, row.sealed_phones = flat[at : at + n], sealed[at : at + n]
        row.mail_key, row.sealed_mail, at = mail, box, at + n


def _field(model: type[Patient] | type[PatientPhone], name: str) -> EncryptedTextField:
    found = model._meta.get_field(name)
    assert isinstance(found, EncryptedTextField)
    return found


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
        patient.search_name = Patient.make_search_name(
            patient.last_name, patient.first_name, patient.middle_name
        )
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


def _keys(org_id: Any, todo: Sequence[Clean]) -> tuple[list[str], list[str], bool]:
    """The rows' phone indexes (flat), e-mail indexes, and whether the reader computed them and sealed
    the values (``index_rows``); else they are computed here and sealed by ``insert_records``."""
    if all(r.keys is not None and r.mail_key is not None and r.sealed_mail is not None for r in todo):
        return [k for r in todo for k in r.keys or ()], [r.mail_key or "" for r in todo], True
    flat = blind_indexes(PHONE, org_id, [p for r in todo for p in r.values["phones"]])
    return flat, blind_indexes(EMAIL, org_id, [r.values["email"] for r in todo]), False


@dataclass
class _Batch:
    """A batch's state while its rows are matched in file order."""

    org_id: Any
    branch_id: Any
    pre: bool  # the reader indexed and sealed the rows (``index_rows``)
    by_phone: dict[str, uuid.UUID]
    by_email: dict[str, uuid.UUID]
    no_email: set[uuid.UUID]  # existing cards without an e-mail (a merge fills it)
    ids: Iterator[uuid.UUID]
    result: BatchResult = field(default_factory=BatchResult)
    cards: dict[uuid.UUID, dict[str, Any]] = field(default_factory=dict)  # new cards by id
    card_keys: dict[uuid.UUID, list[str]] = field(default_factory=dict)  # their phones' indexes
    phones: list[dict[str, Any]] = field(default_factory=list)
    merges: list[Merge] = field(default_factory=list)

    def add_phones(self, pk: uuid.UUID, row: Clean, keys: list[str], *, first: bool) -> list[str]:
        """The row's phones not yet on card ``pk`` (a new card), the first one primary when ``first``;
        their indexes."""
        have = self.card_keys.setdefault(pk, [])
        sealed = row.sealed_phones if self.pre and row.sealed_phones is not None else None
        added: list[str] = []
        for i, (phone, key) in enumerate(zip(row.values["phones"], keys, strict=True)):
            if key in have or key in added:
                continue
            record = {
                "id": next(self.ids),
                "organization_id": self.org_id,
                "patient_id": pk,
                "e164": phone,
                "e164_index": key,
                "is_primary": first and not added,
            }
            if sealed is not None:
                record["e164:sealed"] = sealed[i]
            self.phones.append(record)
            added.append(key)
        have.extend(added)
        return added

    def merge(self, match: uuid.UUID, row: Clean, keys: list[str], mail: str) -> None:
        """Merge the row into card ``match`` as ``_merge`` would (empty fields filled, sex if unstated,
        missing phones added), then let later rows find the card by what it gained."""
        fresh = self.cards.get(match)
        if fresh is None:  # an existing card: merged after the batch's inserts
            self.merges.append((match, row.values, keys))
            if mail and match in self.no_email:
                self.no_email.discard(match)
                self.by_email.setdefault(mail, match)
        elif _fill(fresh, row, mail, self.pre) | bool(
            self.add_phones(match, row, keys, first=not self.card_keys.get(match))
        ):
            self.result.updated += 1
            if fresh.get("email_index") == mail and mail:
                self.by_email.setdefault(mail, match)
        else:
            self.result.unchanged += 1
        for key in keys:  # the card has every phone of the row now
            self.by_phone.setdefault(key, match)


def _fill(fresh: dict[str, Any], row: Clean, mail: str, pre: bool) -> bool:
    """Fill the empty fields of a card this batch creates from a later row that duplicates it (as
    ``_merge`` fills an existing card); whether anything changed."""
    changed = False
    for name in FILLABLE:
        if row.values.get(name) and not fresh.get(name):
            fresh[name] = row.values[name]
            changed = True
            if name == "email":
                fresh["email_index"] = mail
                if pre:
                    fresh["email:sealed"] = row.sealed_mail
    if fresh.get("sex") == Sex.UNKNOWN and row.values.get("sex") != Sex.UNKNOWN:
        fresh["sex"] = str(row.values["sex"])
        changed = True
    return changed


def _without_email(ctx: Ctx, ids: set[uuid.UUID]) -> set[uuid.UUID]:
    if not ids:
        return set()
    found = Patient.objects.for_org(ctx.org).filter(pk__in=ids, email_index="").values_list("pk", flat=True)
    return set(found)


def write_patients(
    ctx: Ctx, rows: Sequence[Clean], *, job: ImportJob | None, on_duplicate: str
) -> BatchResult:
    org = ctx.org
    done = known(org=org, source=ctx.source, kind="patients", ids=[r.source_id for r in rows])
    todo: list[Clean] = []
    seen: set[str] = set()
    unchanged = 0
    for row in rows:
        if row.source_id in done or row.source_id in seen:
            unchanged += 1
        else:
            seen.add(row.source_id)
            todo.append(row)
    flat, mails, pre = _keys(org.pk, todo)
    by_phone, by_email = existing(ctx, flat, mails)
    merging = on_duplicate == OnDuplicate.MERGE
    no_email = _without_email(ctx, {*by_phone.values(), *by_email.values()}) if merging else set()
    now = timezone.now()
    batch = _Batch(
        org.pk, ctx.branch.pk, pre, by_phone, by_email, no_email, iter(uuid7_many(len(todo) + len(flat)))
    )
    result = batch.result
    result.unchanged = unchanged
    pairs: list[tuple[str, uuid.UUID]] = []
    at = 0
    for row, mail in zip(todo, mails, strict=True):
        values = row.values
        keys, at = flat[at : at + len(values["phones"])], at + len(values["phones"])
        match = next((by_phone[k] for k in keys if k in by_phone), None) or by_email.get(mail)
        if match is not None and on_duplicate != OnDuplicate.FLAG:
            pairs.append((row.source_id, match))
            if merging:
                batch.merge(match, row, keys, mail)
            else:
                result.skipped += 1
            continue
        pk = next(batch.ids)
        batch.cards[pk] = {
            "id": pk,
            "organization_id": batch.org_id,
            "branch_id": batch.branch_id,
            **{k: v for k, v in values.items() if k != "phones"},
            "email_index": mail,
            "created_at": now,
            "updated_at": now,
        }
        if pre:
            batch.cards[pk]["email:sealed"] = row.sealed_mail
        batch.add_phones(pk, row, keys, first=True)
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
    for record in batch.cards.values():
        record["search_name"] = Patient.make_search_name(
            record["last_name"], record["first_name"], record["middle_name"]
        )
    insert_records(Patient, list(batch.cards.values()))
    insert_records(PatientPhone, batch.phones)
    _merge_all(ctx, batch.merges, result)
    remember(org=org, source=ctx.source, kind="patients", job=job, pairs=pairs)
    return result
