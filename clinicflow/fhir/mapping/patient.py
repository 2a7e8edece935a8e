"""Patient <-> FHIR ``Patient``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from clinicflow.fhir.errors import unprocessable
from clinicflow.fhir.mapping.common import PATIENT_SYSTEM, meta, parse_date
from clinicflow.patients.models import LANGUAGE_CHOICES, Patient, Sex
from clinicflow.patients.services import PatientData

GENDER_OUT = {Sex.FEMALE: "female", Sex.MALE: "male", Sex.UNKNOWN: "unknown"}
GENDER_IN = {"female": Sex.FEMALE, "male": Sex.MALE, "unknown": Sex.UNKNOWN, "other": Sex.UNKNOWN}
LANGUAGES = {code for code, _ in LANGUAGE_CHOICES}
LANGUAGE_IN = {
    "zh": "zh-hans",
    "zh-cn": "zh-hans",
    "zh-hans": "zh-hans",
    "ru-ru": "ru",
    "en-us": "en",
    "en-gb": "en",
}
OUT_LANGUAGE = {"zh-hans": "zh-Hans"}
MAX_IDENTIFIERS = 10


def patient_to_fhir(
    patient: Patient,
    *,
    can: Callable[[str], bool],
    identifiers: Sequence[tuple[str, str]] = (),
    phones: Sequence[tuple[str, bool]] | None = None,
) -> dict[str, Any]:
    """The FHIR Patient of a card. Contacts (telecom) only when ``can("patients.view_contacts")``,
    as the REST API's field rules; ``identifiers``: the (system, value) pairs stored from imports;
    ``phones``: the (E.164, primary) pairs when the caller read them (else the card's phones)."""
    name: dict[str, Any] = {"use": "official", "text": patient.full_name, "family": patient.last_name}
    given = [g for g in (patient.first_name, patient.middle_name) if g]
    if given:
        name["given"] = given
    out: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(patient.pk),
        "meta": meta(patient.updated_at),
        "identifier": [
            {"use": "official", "system": PATIENT_SYSTEM, "value": str(patient.pk)},
            *({"system": s, "value": v} for s, v in identifiers),
        ],
        "active": patient.merged_into_id is None,
        "name": [name],
        "gender": GENDER_OUT.get(Sex(patient.sex), "unknown"),
        "communication": [
            {
                "language": {
                    "coding": [
                        {
                            "system": "urn:ietf:bcp:47",
                            "code": OUT_LANGUAGE.get(patient.preferred_language, patient.preferred_language),
                        }
                    ]
                },
                "preferred": True,
            }
        ],
    }
    if patient.birth_date:
        out["birthDate"] = patient.birth_date.isoformat()
    if patient.merged_into_id:
        out["link"] = [{"other": {"reference": f"Patient/{patient.merged_into_id}"}, "type": "replaced-by"}]
    if can("patients.view_contacts"):
        pairs = phones if phones is not None else [(p.e164, p.is_primary) for p in patient.phones.all()]
        telecom = [
            {"system": "phone", "value": e164, "use": "mobile", **({"rank": 1} if primary else {})}
            for e164, primary in pairs
        ]
        if patient.email:
            telecom.append({"system": "email", "value": patient.email})
        if telecom:
            out["telecom"] = telecom
    return out


@dataclass
class PatientIn:
    """A FHIR Patient as the patients service's input, and the identifiers it carries."""

    data: PatientData
    identifiers: list[tuple[str, str]] = field(default_factory=list)


def _text(value: object, element: str, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise unprocessable("must be a string", element)
    if len(value) > limit:
        raise unprocessable(f"at most {limit} characters", element)
    return value.strip()


def _name(resource: dict[str, Any]) -> tuple[str, str, str]:
    names = resource.get("name")
    if not isinstance(names, list) or not names or not isinstance(names[0], dict):
        raise unprocessable("a patient needs a name with a family name", "Patient.name")
    official = next((n for n in names if isinstance(n, dict) and n.get("use") == "official"), names[0])
    family = _text(official.get("family"), "Patient.name.family", 100)
    given = official.get("given") or []
    if not isinstance(given, list):
        raise unprocessable("must be a list of strings", "Patient.name.given")
    first = _text(given[0], "Patient.name.given", 100) if given else ""
    middle = _text(" ".join(str(g) for g in given[1:]), "Patient.name.given", 100) if len(given) > 1 else ""
    if not family:
        raise unprocessable("a patient needs a family name", "Patient.name.family")
    return family, first, middle


def _identifiers(resource: dict[str, Any]) -> list[tuple[str, str]]:
    raw = resource.get("identifier") or []
    if not isinstance(raw, list) or len(raw) > MAX_IDENTIFIERS:
        raise unprocessable(f"must be a list of at most {MAX_IDENTIFIERS} identifiers", "Patient.identifier")
    out = []
    for i, ident in enumerate(raw):
        element = f"Patient.identifier[{i}]"
        if not isinstance(ident, dict):
            raise unprocessable("must be an Identifier", element)
        system = _text(ident.get("system"), f"{element}.system", 200)
        value = _text(ident.get("value"), f"{element}.value", 200)
        if not system or not value:
            raise unprocessable("an identifier needs a system and a value", element)
        if system != PATIENT_SYSTEM:  # our own id is not stored twice
            out.append((system, value))
    return out


def _language(resource: dict[str, Any]) -> str | None:
    for comm in resource.get("communication") or []:
        codings = (comm.get("language") or {}).get("coding") or [] if isinstance(comm, dict) else []
        for coding in codings:
            code = str(coding.get("code", "")).lower() if isinstance(coding, dict) else ""
            code = LANGUAGE_IN.get(code, code)
            if code in LANGUAGES:
                return code
    return None


def patient_from_fhir(resource: dict[str, Any]) -> PatientIn:
    """The service input of a FHIR Patient (``resourceType`` already checked). 422 naming the
    element for what Clinicflow cannot store."""
    family, first, middle = _name(resource)
    gender = resource.get("gender", "unknown")
    if gender not in GENDER_IN:
        raise unprocessable("must be one of male, female, other, unknown", "Patient.gender")
    data = PatientData(last_name=family, first_name=first or "-", middle_name=middle, sex=GENDER_IN[gender])
    data.given = {"last_name", "first_name", "middle_name", "sex"}
    if resource.get("birthDate") is not None:
        data.birth_date = parse_date(resource["birthDate"], "Patient.birthDate")
        data.given.add("birth_date")
    phones: list[str] = []
    telecom = resource.get("telecom") or []
    if not isinstance(telecom, list):
        raise unprocessable("must be a list of ContactPoints", "Patient.telecom")
    for i, point in enumerate(telecom):
        element = f"Patient.telecom[{i}]"
        if not isinstance(point, dict):
            raise unprocessable("must be a ContactPoint", element)
        value = _text(point.get("value"), f"{element}.value", 254)
        if point.get("system") in ("phone", "sms") and value:
            phones.append(value)
        elif point.get("system") == "email" and value and data.email is None:
            data.email = value
            data.given.add("email")
    if phones:
        data.phones = phones
        data.given.add("phones")
    language = _language(resource)
    if language:
        data.preferred_language = language
        data.given.add("preferred_language")
    return PatientIn(data=data, identifiers=_identifiers(resource))
