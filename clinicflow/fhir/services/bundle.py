"""Import of a FHIR ``Bundle`` (transaction or collection) of Patients and Appointments: all or
nothing. Patients come first, then Appointments, whose ``urn:uuid:`` references name the Patients
of the same Bundle (or ``Patient/<id>`` an existing one)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.http import HttpRequest

from clinicflow.accounts.models import User
from clinicflow.core.models import Organization
from clinicflow.fhir.errors import FhirError, invalid, unprocessable
from clinicflow.fhir.mapping.common import resource_of
from clinicflow.fhir.services.create import Resolver, appointment_create_fhir, patient_create_fhir

KINDS = ("Patient", "Appointment")
BUNDLE_TYPES = ("transaction", "collection")
MAX_ENTRIES = 10_000


@dataclass
class BundleResult:
    """What an import did (or, dry, would do): one response entry per Bundle entry, in order."""

    entries: list[dict[str, Any]] = field(default_factory=list)
    created: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    existing: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    dry_run: bool = False

    def response_bundle(self) -> dict[str, Any]:
        return {
            "resourceType": "Bundle",
            "id": str(uuid.uuid4()),
            "type": "transaction-response",
            "entry": self.entries,
        }


class _DryRun(Exception):
    """Raised at the end of a dry run to roll the transaction back."""


def _entries(bundle: object, max_entries: int) -> list[dict[str, Any]]:
    """The Bundle's entries, each checked: a Patient or an Appointment, a unique ``urn:uuid:``
    fullUrl if any, and in a transaction a POST of its own type."""
    body = resource_of(bundle, "Bundle")
    kind = body.get("type")
    if kind not in BUNDLE_TYPES:
        raise unprocessable("a Bundle to import must be of type transaction or collection", "Bundle.type")
    entries = body.get("entry") or []
    if not isinstance(entries, list):
        raise invalid("Bundle.entry must be a list", "Bundle.entry")
    if len(entries) > max_entries:
        raise unprocessable(f"at most {max_entries} entries in one Bundle", "Bundle.entry")
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        at = f"Bundle.entry[{i}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("resource"), dict):
            raise invalid("each entry must hold a resource", at)
        resource = entry["resource"]
        rtype = resource.get("resourceType")
        if rtype not in KINDS:
            raise unprocessable(
                f"a Bundle may hold only Patient and Appointment resources, not {str(rtype)[:40]!r}",
                f"{at}.resource.resourceType",
            )
        full_url = entry.get("fullUrl")
        if full_url is not None:
            if not isinstance(full_url, str) or not full_url.startswith("urn:uuid:") or len(full_url) > 100:
                raise unprocessable("fullUrl must be a urn:uuid: of the new resource", f"{at}.fullUrl")
            if full_url in seen:
                raise unprocessable(f"fullUrl {full_url!r} appears twice", f"{at}.fullUrl")
            seen.add(full_url)
        if kind == "transaction":
            request = entry.get("request")
            if (
                not isinstance(request, dict)
                or request.get("method") != "POST"
                or request.get("url") != rtype
            ):
                raise unprocessable(f"a transaction entry must be request POST {rtype}", f"{at}.request")
    return entries


def entry_kinds(bundle: object) -> set[str]:
    """The resource types a Bundle holds (for the permission check before the import)."""
    return {str(e["resource"]["resourceType"]) for e in _entries(bundle, MAX_ENTRIES)}


def bundle_import(
    *,
    org: Organization,
    actor: User | None,
    bundle: object,
    dry_run: bool = False,
    request: HttpRequest | None = None,
    max_entries: int = MAX_ENTRIES,
    progress: Callable[[int, int], None] | None = None,
) -> BundleResult:
    """Import every entry or none (``FhirError`` naming the entry). ``dry_run`` runs every check and
    every write, then rolls them back. Imported appointments send no confirmation to the patient."""
    entries = _entries(bundle, max_entries)
    result = BundleResult(entries=[{} for _ in entries], dry_run=dry_run)
    order = sorted(range(len(entries)), key=lambda i: KINDS.index(entries[i]["resource"]["resourceType"]))
    resolve = Resolver()
    try:
        with transaction.atomic():
            for done, i in enumerate(order, 1):
                try:
                    _one(org, actor, entries[i], resolve, result, i, request)
                except FhirError as exc:
                    raise exc.at(f"Bundle.entry[{i}].resource") from exc
                if progress is not None:
                    progress(done, len(order))
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return result


def _one(
    org: Organization,
    actor: User | None,
    entry: dict[str, Any],
    resolve: Resolver,
    result: BundleResult,
    index: int,
    request: HttpRequest | None,
) -> None:
    resource = entry["resource"]
    kind = resource["resourceType"]
    if kind == "Patient":
        obj_id, created = _patient(org, actor, resource, request)
    else:
        appt, created = appointment_create_fhir(
            org=org, actor=actor, resource=resource, resolve=resolve, request=request, notify=False
        )
        obj_id = appt.pk
    if entry.get("fullUrl"):
        resolve.local[entry["fullUrl"]] = obj_id
    (result.created if created else result.existing)[kind] += 1
    result.entries[index] = {
        "response": {"status": "201 Created" if created else "200 OK", "location": f"{kind}/{obj_id}"}
    }


def _patient(
    org: Organization, actor: User | None, resource: dict[str, Any], request: HttpRequest | None
) -> tuple[uuid.UUID, bool]:
    patient, created = patient_create_fhir(org=org, actor=actor, resource=resource, request=request)
    return patient.pk, created
