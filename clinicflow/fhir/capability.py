"""The CapabilityStatement: exactly what this server supports, and nothing more."""

from __future__ import annotations

from typing import Any

from clinicflow.fhir.mapping.common import FHIR_VERSION

RELEASED = "2026-12-05"


def _param(name: str, kind: str, doc: str) -> dict[str, str]:
    return {"name": name, "type": kind, "documentation": doc}


def _resource(kind: str, interactions: list[str], params: list[dict[str, str]], doc: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": kind,
        "documentation": doc,
        "interaction": [{"code": code} for code in interactions],
        "versioning": "no-version",
        "readHistory": False,
        "updateCreate": False,
    }
    if params:
        out["searchParam"] = params
    return out


PAGING = "paged with _count (1-100, default 20); the next link carries _offset"

RESOURCES = [
    _resource(
        "Patient",
        ["read", "search-type", "create"],
        [
            _param(
                "identifier", "token", "Clinicflow's id (urn:clinicflow:patient) or an imported identifier"
            ),
            _param("name", "string", "words of the name"),
            _param("phone", "token", "a whole number, E.164; needs the contacts permission"),
            _param("birthdate", "date", "eq, ne, ge, gt, le, lt"),
        ],
        "Patients; telecom only for roles that see contacts. " + PAGING,
    ),
    _resource(
        "Appointment",
        ["read", "search-type", "create"],
        [
            _param("patient", "reference", "Patient/<id>"),
            _param("date", "date", "the start: eq, ne, ge, gt, le, lt; a date without a zone is UTC"),
            _param("status", "token", "booked, arrived, fulfilled, cancelled, noshow (comma list)"),
            _param("practitioner", "reference", "Practitioner/<id>"),
        ],
        "Create books through Clinicflow's booking rules: a Slot, or a Practitioner, a serviceType "
        "(urn:clinicflow:service) and a start; a taken time is 409. " + PAGING,
    ),
    _resource(
        "Practitioner", ["read", "search-type"], [_param("name", "string", "words of the name")], "Doctors."
    ),
    _resource(
        "Schedule",
        ["read", "search-type"],
        [_param("actor", "reference", "Practitioner/<id>")],
        "One doctor at one branch.",
    ),
    _resource(
        "Slot",
        ["read", "search-type"],
        [
            _param("schedule", "reference", "required: Schedule/<id>"),
            _param("service-type", "token", "required: a service code"),
            _param("start", "date", "ge, gt, le, lt, eq; default the next 14 days, at most 62"),
            _param("status", "token", "free (the only status searched)"),
        ],
        "Free slots, computed by the booking slot search.",
    ),
]


def capability_statement(base_url: str) -> dict[str, Any]:
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": RELEASED,
        "publisher": "Clinicflow",
        "kind": "instance",
        "software": {"name": "Clinicflow"},
        "implementation": {"description": "Clinicflow FHIR R4 API", "url": base_url},
        "fhirVersion": FHIR_VERSION,
        "format": ["application/fhir+json", "json"],
        "rest": [
            {
                "mode": "server",
                "documentation": "Bearer tokens of the Clinicflow API (POST /api/v1/auth/token). "
                "Errors are OperationOutcomes. POST [base] takes a transaction Bundle of Patients and "
                "Appointments, applied all or nothing.",
                "security": {
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                    "code": "OAuth",
                                }
                            ],
                            "text": "Bearer token",
                        }
                    ]
                },
                "resource": RESOURCES,
                "interaction": [{"code": "transaction"}],
            }
        ],
    }
