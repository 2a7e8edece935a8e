"""Creating and editing membership plans (the manager's products). Every refusal names its field;
memberships already sold keep the price and term they were sold with."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError
from django.db import transaction as db_transaction

from clinicflow.accounts.models import User
from clinicflow.catalogue.models import Service, ServiceCategory
from clinicflow.core.audit import audit_record
from clinicflow.core.errors import ValidationFailed
from clinicflow.core.models import AuditAction, Organization
from clinicflow.ledger.models import MembershipPlan, PlanKind, PlanPeriod
from clinicflow.ledger.services.inputs import clean_amount, clean_currency

SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,59}$")
FIELDS = (
    "kind", "code", "name", "currency", "price", "credit", "bonus_valid_days", "period", "duration_days",
    "category_discounts", "included", "priority_booking", "shareable", "freezable_days", "available_until",
    "is_active",
)  # fmt: skip


def _days(value: object, name: str, *, required: bool = False) -> int | None:
    if value in (None, ""):
        if required:
            raise ValidationFailed.field(name, "required")
        return None
    try:
        days = int(str(value))
    except ValueError as exc:
        raise ValidationFailed.field(name, "a whole number of days") from exc
    if not 0 <= days <= 3660:
        raise ValidationFailed.field(name, "between 0 and 3660 days")
    return days


def _discounts(raw: object) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise ValidationFailed.field("category_discounts", "a mapping of service category to percent")
    out = {}
    for key, value in raw.items():
        if key not in ServiceCategory.values:
            raise ValidationFailed.field("category_discounts", f"unknown service category {str(key)[:30]}")
        try:
            pct = Decimal(str(value))
        except InvalidOperation as exc:
            raise ValidationFailed.field("category_discounts", "a percent from 0 to 100") from exc
        if not Decimal(0) < pct <= Decimal(100):
            raise ValidationFailed.field("category_discounts", "a percent from 0 to 100")
        out[str(key)] = str(pct)
    return out


def _included(org: Organization, raw: object) -> dict[str, int]:
    if not isinstance(raw, dict):
        raise ValidationFailed.field("included", "a mapping of service code to a number per period")
    known = set(Service.objects.for_org(org).filter(code__in=list(raw)).values_list("code", flat=True))
    out = {}
    for code, count in raw.items():
        if code not in known:
            raise ValidationFailed.field("included", f"unknown service {str(code)[:60]}")
        if isinstance(count, bool) or not isinstance(count, int) or not 0 < count <= 1000:
            raise ValidationFailed.field("included", "a whole number from 1 to 1000 per service")
        out[str(code)] = count
    return out


def clean_plan(org: Organization, data: dict[str, Any]) -> dict[str, Any]:
    kind = str(data.get("kind") or "")
    if kind not in PlanKind.values:
        raise ValidationFailed.field("kind", f"one of {', '.join(PlanKind.values)}")
    code = str(data.get("code") or "").strip()
    if not SLUG.match(code):
        raise ValidationFailed.field("code", "lower-case letters, digits, - and _ (at most 60)")
    name = str(data.get("name") or "").strip()
    if not name:
        raise ValidationFailed.field("name", "required")
    currency = clean_currency(org, data.get("currency"))
    price = clean_amount(data.get("price"), currency, field="price")
    credit = None
    if kind == PlanKind.STORED_VALUE:
        credit = clean_amount(data.get("credit"), currency, field="credit")
        if credit < price:
            raise ValidationFailed.field("credit", "at least the price")
    period = str(data.get("period") or "")
    if period and period not in PlanPeriod.values:
        raise ValidationFailed.field("period", f"one of {', '.join(PlanPeriod.values)}")
    if kind == PlanKind.FEE and not period:
        raise ValidationFailed.field("period", "a fee-based plan is monthly or yearly")
    return {
        "kind": kind, "code": code, "name": name[:200], "currency": currency, "price": price,
        "credit": credit,
        "bonus_valid_days": _days(data.get("bonus_valid_days"), "bonus_valid_days"), "period": period,
        "duration_days": _days(data.get("duration_days"), "duration_days", required=kind == PlanKind.PACKAGE),
        "category_discounts": _discounts(data.get("category_discounts") or {}),
        "included": _included(org, data.get("included") or {}),
        "priority_booking": bool(data.get("priority_booking")), "shareable": bool(data.get("shareable")),
        "freezable_days": _days(data.get("freezable_days"), "freezable_days") or 0,
        "available_until": data.get("available_until") or None,
        "is_active": bool(data.get("is_active", True)),
    }  # fmt: skip


def plan_save(
    *, org: Organization, actor: User | None, data: dict[str, Any], plan: MembershipPlan | None = None
) -> MembershipPlan:
    """Create a plan, or change ``plan``'s terms; a code already used is a 422 naming ``code``."""
    values = clean_plan(org, data)
    target = plan or MembershipPlan(organization=org)
    for key, value in values.items():
        setattr(target, key, value)
    try:
        with db_transaction.atomic():
            target.save()
    except IntegrityError as exc:
        raise ValidationFailed.field("code", "another plan has this code") from exc
    audit_record(
        org=org, actor=actor, action=AuditAction.UPDATE if plan else AuditAction.CREATE,
        object_type="membership_plan", object_id=target.pk, fields=sorted(values),
    )  # fmt: skip
    return target
