"""Everything held on one patient, found by walking the models: every installed model with a foreign
key to ``Patient`` (any app, so a new app's records are included without a change here) contributes
its rows for the patient, every concrete column serialised to JSON (encrypted columns decrypted,
blind indexes left out: they are keyed hashes, not data)."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import models

from clinicflow.core.fields import BlindIndexField
from clinicflow.core.models import Organization
from clinicflow.patients.models import Patient

MAX_ROWS_PER_MODEL = 100_000


@dataclass(frozen=True)
class PatientLink:
    """A model and the foreign key of it that names the patient."""

    model: type[models.Model]
    field: str

    @property
    def label(self) -> str:
        return str(self.model._meta.label)


def patient_links() -> list[PatientLink]:
    """Every (model, field) with a foreign key to ``Patient``, in a stable order."""
    found: list[PatientLink] = []
    for model in apps.get_models():
        if model is Patient:
            continue
        for f in model._meta.concrete_fields:
            if isinstance(f, models.ForeignKey) and f.related_model is Patient:
                found.append(PatientLink(model, f.name))
    return sorted(found, key=lambda link: (link.label, link.field))


def jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return None
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def row_dict(obj: models.Model) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in obj._meta.concrete_fields:
        if isinstance(f, BlindIndexField) or f.name == "organization":
            continue
        out[f.attname] = jsonable(getattr(obj, f.attname))
    return out


def link_rows(org: Organization, patient: Patient, link: PatientLink) -> Iterator[models.Model]:
    qs = link.model._default_manager.filter(organization=org, **{link.field: patient.pk})
    yield from qs.order_by("pk")[:MAX_ROWS_PER_MODEL].iterator(chunk_size=1000)


def collect(org: Organization, patient: Patient) -> dict[str, Any]:
    """``{"patient": {...}, "records": {"app.Model": [rows]}}`` for ``patient`` of ``org``."""
    records: dict[str, list[dict[str, Any]]] = {}
    for link in patient_links():
        rows = [row_dict(obj) for obj in link_rows(org, patient, link)]
        if rows:
            key = link.label if link.field == "patient" else f"{link.label}.{link.field}"
            records.setdefault(key, []).extend(rows)
    return {"patient": row_dict(patient), "records": records}
