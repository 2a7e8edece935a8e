"""Reads for the FHIR API. Every function takes the organisation first and queries only its rows."""

from __future__ import annotations

import functools
import json
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Aggregate, JSONField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import JSONArray

from clinicflow.booking.models import Appointment, Doctor, DoctorBranch, DoctorService
from clinicflow.catalogue.models import Service
from clinicflow.core.audit import StatementAudit
from clinicflow.core.crypto import phone_index
from clinicflow.core.errors import NotFound
from clinicflow.core.models import Organization
from clinicflow.core.selectors import parse_uuid
from clinicflow.fhir.models import ExternalIdentifier
from clinicflow.patients.models import Patient, PatientPhone
from clinicflow.patients.selectors import PatientFilters, patient_list

APPOINTMENT_RELATED = ("branch", "patient", "service", "doctor")


class _JsonAgg(Aggregate):
    """The group's values as one JSON array: ``jsonb_agg`` on PostgreSQL (read back as text, as the
    backend reads jsonb, and decoded by the JSON field), ``json_group_array`` on SQLite."""

    function = "JSONB_AGG"
    name = "JsonAgg"
    output_field = JSONField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        return self.as_sql(compiler, connection, function="JSON_GROUP_ARRAY", **extra_context)


def _rows_json(qs: QuerySet[Any], key: str, *fields: str) -> Subquery:
    """The ``fields`` of the rows of ``qs`` whose ``key`` is the outer patient, as a JSON array of
    arrays (NULL when there is none): a correlated subquery through the org-first index, evaluated
    only for the rows the page returns."""
    rows = qs.filter(**{key: OuterRef("pk")}).order_by().values(key)
    return Subquery(rows.annotate(rows_json=_JsonAgg(JSONArray(*fields))).values("rows_json"))


@dataclass(frozen=True)
class PatientHit:
    """A card found by a search, with its phones ((E.164, primary), primary first, as the card
    lists them) and the identifiers imported with it ((system, value), sorted)."""

    patient: Patient
    phones: list[tuple[str, bool]]
    identifiers: list[tuple[str, str]]


E164 = PatientPhone._meta.get_field("e164")


def _json_rows(value: object) -> list[list[Any]]:
    """A JSON array of rows as the ORM (parsed) or a raw cursor (text) gives it back."""
    parsed = json.loads(value) if isinstance(value, str) else value
    return parsed if isinstance(parsed, list) else []


def _hit(patient: Patient) -> PatientHit:
    phones = sorted(
        _json_rows(getattr(patient, "fhir_phones", None)), key=lambda r: (not r[1], uuid.UUID(str(r[2])))
    )
    idents = sorted((str(s), str(v)) for s, v in _json_rows(getattr(patient, "fhir_identifiers", None)))
    return PatientHit(
        patient=patient,
        phones=[(E164.from_db_value(e164, None, connection), bool(primary)) for e164, primary, _ in phones],
        identifiers=idents,
    )


@dataclass(frozen=True)
class PatientQuery:
    """A Patient search: ``name`` (words of the name), ``phone`` (E.164, by its blind index),
    ``identifier`` (Clinicflow's id or an imported one), ``birthdate`` (a condition on the date)."""

    name: str | None = None
    phone_e164: str | None = None
    ident_system: str | None = None
    ident_value: str | None = None
    birthdate: Q | None = None


def local_ids_by_identifier(
    *, org: Organization, resource_type: str, system: str | None, value: str
) -> list[uuid.UUID]:
    qs = ExternalIdentifier.objects.for_org(org).filter(resource_type=resource_type, value=value)
    if system is not None:
        qs = qs.filter(system=system)
    return list(qs.values_list("local_id", flat=True)[:50])


# The search by phone alone (a caller's number: the common lookup) as one hand-written statement:
# the ORM spent more CPU building and compiling it (~3 ms) than the database spent running it.
# Every table is read through its org-first index: the phone's blind index, then the cards by id,
# then each card's phones and imported identifiers (correlated, evaluated after the LIMIT).
_BY_PHONE = """
SELECT {cols},
  (SELECT {agg}({row}(ph."e164", ph."is_primary", ph."id")) FROM {phones} ph
    WHERE ph."organization_id" = %s AND ph."patient_id" = p."id") AS "fhir_phones",
  (SELECT {agg}({row}(x."system", x."value")) FROM {idents} x
    WHERE x."organization_id" = %s AND x."resource_type" = 'Patient' AND x."local_id" = p."id")
    AS "fhir_identifiers"
FROM {patients} p
WHERE p."organization_id" = %s AND p."merged_into_id" IS NULL AND p."id" IN (
  SELECT o."patient_id" FROM {phones} o WHERE o."organization_id" = %s AND o."e164_index" = %s)
ORDER BY p."last_name", p."first_name", p."id"
LIMIT %s OFFSET %s"""
_JSON = {"postgresql": ("JSONB_AGG", "JSONB_BUILD_ARRAY"), "sqlite": ("JSON_GROUP_ARRAY", "JSON_ARRAY")}


@functools.cache
def _by_phone_sql(vendor: str) -> str | None:
    """The statement for the database ``vendor``; None without the JSON functions it uses."""
    names = _JSON.get(vendor)
    if names is None:
        return None
    return _BY_PHONE.format(  # nosec B608 - table and column names from model meta
        cols=", ".join(
            f'p."{f.column}"'
            for f in Patient._meta.concrete_fields
            if f.name not in ("notes", "clinical_notes")
        ),
        patients=f'"{Patient._meta.db_table}"',
        phones=f'"{PatientPhone._meta.db_table}"',
        idents=f'"{ExternalIdentifier._meta.db_table}"',
        agg=names[0],
        row=names[1],
    )


def _by_phone(
    *, org: Organization, e164: str, offset: int, count: int, audit: StatementAudit | None
) -> list[PatientHit] | None:
    """The live cards holding ``e164``, or None on a database without the JSON functions used;
    ``audit``, when given, is written by the same statement (and marked written)."""
    sql = _by_phone_sql(connection.vendor)
    if sql is None:
        return None
    org_id = Patient._meta.get_field("organization").get_db_prep_value(org.pk, connection)
    params = [org_id, org_id, org_id, org_id, phone_index(org.pk, e164), count + 1, offset]
    if audit is not None:
        # nosemgrep: sql-built-from-strings — the audit's Django-compiled INSERTs, values bound
        sql, params = f"WITH {audit.cte}{sql}", [*audit.params, *params]  # nosec B608
    # iterated once: the statement (and the audit row it may write) runs once
    # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
    hits = [_hit(p) for p in Patient.objects.raw(sql, params)]
    if audit is not None:
        audit.written = True
    return hits


def patient_search(
    *,
    org: Organization,
    query: PatientQuery,
    own_system: str,
    offset: int,
    count: int,
    audit: StatementAudit | None = None,
) -> list[PatientHit]:
    """Up to ``count + 1`` live patients matching every condition (one more tells a next page),
    each with its phones and imported identifiers: one statement, whatever the page holds. The
    search by phone alone also writes ``audit`` (``audit.written`` tells; else the caller must)."""
    only_phone = query.phone_e164 is not None and not (query.name or query.ident_value or query.birthdate)
    if only_phone and query.phone_e164 is not None:
        hits = _by_phone(org=org, e164=query.phone_e164, offset=offset, count=count, audit=audit)
        if hits is not None:
            return hits
    if query.name:
        qs = patient_list(org=org, filters=PatientFilters(q=query.name, search_contacts=False))
        qs = qs.select_related(None).prefetch_related(None)  # the phones ride on the rows below
    else:
        qs = Patient.objects.for_org(org).filter(merged_into__isnull=True)
        qs = qs.order_by("last_name", "first_name", "id")
    # the notes are never part of a FHIR Patient: not read, not decrypted
    qs = qs.defer("notes", "clinical_notes").annotate(
        fhir_phones=_rows_json(PatientPhone.objects.for_org(org), "patient", "e164", "is_primary", "id"),
        fhir_identifiers=_rows_json(
            ExternalIdentifier.objects.for_org(org).filter(resource_type="Patient"),
            "local_id",
            "system",
            "value",
        ),
    )
    if query.phone_e164 is not None:
        owners = PatientPhone.objects.for_org(org).filter(e164_index=phone_index(org.pk, query.phone_e164))
        owner_ids = owners.order_by().values("patient_id")
        if query.name:
            # with a name, the owners first (a few rows through the org-first blind index), then their
            # cards: a subquery would let the planner walk the organisation's patients in name order
            qs = qs.filter(pk__in=list(owner_ids.values_list("patient_id", flat=True)[:50]))
        else:
            # no index gives (last name, first name, id) order, so the planner starts from the phone's
            # blind index and sorts the few cards it finds: one round trip instead of two
            qs = qs.filter(pk__in=owner_ids)
    if query.ident_value is not None:
        ids: list[uuid.UUID] = []
        if query.ident_system in (None, own_system):
            own = parse_uuid(query.ident_value)
            ids += [own] if own else []
        if query.ident_system != own_system:
            ids += local_ids_by_identifier(
                org=org, resource_type="Patient", system=query.ident_system, value=query.ident_value
            )
        qs = qs.filter(pk__in=ids)
    if query.birthdate is not None:
        qs = qs.filter(query.birthdate)
    return [_hit(p) for p in qs[offset : offset + count + 1]]


def identifiers_of(
    *, org: Organization, resource_type: str, ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[tuple[str, str]]]:
    out: dict[uuid.UUID, list[tuple[str, str]]] = defaultdict(list)
    if ids:
        rows = ExternalIdentifier.objects.for_org(org).filter(resource_type=resource_type, local_id__in=ids)
        for local_id, system, value in rows.order_by("system", "value").values_list(
            "local_id", "system", "value"
        ):
            out[local_id].append((system, value))
    return out


@dataclass(frozen=True)
class AppointmentQuery:
    patient_id: uuid.UUID | None = None
    doctor_id: uuid.UUID | None = None
    statuses: tuple[str, ...] | None = None
    date: Q | None = None


def appointment_search(
    *, org: Organization, query: AppointmentQuery, offset: int, count: int
) -> list[Appointment]:
    qs = Appointment.objects.for_org(org).select_related(*APPOINTMENT_RELATED)
    if query.patient_id is not None:
        qs = qs.filter(patient_id=query.patient_id)
    if query.doctor_id is not None:
        qs = qs.filter(doctor_id=query.doctor_id)
    if query.statuses is not None:
        qs = qs.filter(status__in=query.statuses)
    if query.date is not None:
        qs = qs.filter(query.date)
    return list(qs.order_by("start_at", "id")[offset : offset + count + 1])


def doctor_search(*, org: Organization, name: str | None, offset: int, count: int) -> list[Doctor]:
    qs = Doctor.objects.for_org(org)
    for word in (name or "").split()[:5]:
        qs = qs.filter(full_name__icontains=word)
    return list(qs.order_by("full_name", "id")[offset : offset + count + 1])


def schedule_get(*, org: Organization, schedule_id: object) -> DoctorBranch:
    """One doctor at one branch (the id of the link row), with both loaded."""
    pk = parse_uuid(schedule_id)
    row = (
        DoctorBranch.objects.for_org(org).select_related("doctor", "branch").filter(pk=pk).first()
        if pk
        else None
    )
    if row is None:
        raise NotFound("schedule not found")
    return row


def schedule_search(
    *, org: Organization, doctor_id: uuid.UUID | None, offset: int, count: int
) -> list[DoctorBranch]:
    qs = DoctorBranch.objects.for_org(org).select_related("doctor", "branch")
    if doctor_id is not None:
        qs = qs.filter(doctor_id=doctor_id)
    return list(qs.order_by("doctor__full_name", "branch__name", "id")[offset : offset + count + 1])


def services_of_doctors(*, org: Organization, doctor_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Service]]:
    out: dict[uuid.UUID, list[Service]] = defaultdict(list)
    links = (
        DoctorService.objects.for_org(org)
        .filter(doctor_id__in=doctor_ids, service__is_active=True)
        .select_related("service")
        .order_by("service__name")
    )
    for link in links:
        out[link.doctor_id].append(link.service)
    return out


def service_by_code(*, org: Organization, code: str) -> Service:
    """A service by its code (or its id); ``NotFound`` otherwise."""
    pk = parse_uuid(code)
    service = Service.objects.for_org(org).filter(Q(code=code) | Q(pk=pk) if pk else Q(code=code)).first()
    if service is None:
        raise NotFound("service not found")
    return service
