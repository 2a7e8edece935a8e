"""Factories of the ledger tests: a points programme, plans, a patient with a wallet."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from clinicflow.core.models import Organization
from clinicflow.ledger.models import Account, MembershipPlan, PlanKind, PointsProgram, Posting
from clinicflow.patients.models import Patient
from clinicflow.patients.tests.factories import make_patient

__all__ = ["make_patient", "make_plan", "make_program", "patient_balance", "replay"]


def make_program(org: Organization, *, currency: str = "RUB", **fields: Any) -> PointsProgram:
    values: dict[str, Any] = {
        "default_rate": Decimal("0.05"),
        "category_rates": {"laser": "0.1"},
        "point_value": Decimal("1"),
        "valid_days": 365,
    }
    values.update(fields)
    return PointsProgram.objects.create(organization=org, currency=currency, **values)


def make_plan(org: Organization, *, code: str = "sv-50", **fields: Any) -> MembershipPlan:
    values: dict[str, Any] = {
        "kind": PlanKind.STORED_VALUE,
        "name": "Pay 50,000, get 55,000",
        "currency": "RUB",
        "price": Decimal("50000"),
        "credit": Decimal("55000"),
        "bonus_valid_days": 180,
    }
    values.update(fields)
    return MembershipPlan.objects.create(organization=org, code=code, **values)


def patient_balance(org: Organization, patient: Patient, kind: str, unit: str = "RUB") -> Decimal:
    """The cached balance of one of the patient's accounts (0 when it has none)."""
    found = Account.objects.for_org(org).filter(patient=patient, kind=kind, unit=unit).first()
    return found.balance if found else Decimal(0)


def replay(org: Organization, patient: Patient, kind: str, unit: str = "RUB") -> Decimal:
    """The same balance replayed from the postings."""
    rows = Posting.objects.for_org(org).filter(account__patient=patient, account__kind=kind, unit=unit)
    return sum((p.amount for p in rows), Decimal(0))


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)
