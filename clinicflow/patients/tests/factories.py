from __future__ import annotations

import datetime as dt
from typing import Any

from clinicflow.core.models import Organization
from clinicflow.patients.models import Patient
from clinicflow.patients.services import PatientData, patient_create


def make_patient(org: Organization, *, phones: list[str] | None = None, **fields: Any) -> Patient:
    data = PatientData(
        last_name=fields.pop("last_name", "Ivanova"),
        first_name=fields.pop("first_name", "Anna"),
        birth_date=fields.pop("birth_date", dt.date(1990, 5, 17)),
        phones=phones if phones is not None else ["+7 916 123-45-67"],
        **fields,
    )
    return patient_create(org=org, actor=None, data=data)
