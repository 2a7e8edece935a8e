"""Reads of memberships: a patient's memberships with the benefits left, one membership, plans."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from clinicflow.core.errors import NotFound, ValidationFailed
from clinicflow.core.models import Organization
from clinicflow.core.selectors import parse_uuid
from clinicflow.ledger.models import (
    BenefitKind,
    Membership,
    MembershipMember,
    MembershipPlan,
    MembershipStatus,
    MembershipUse,
    PlanKind,
)
from clinicflow.ledger.services.benefits import period_start
from clinicflow.ledger.services.journal import lot_remaining
from clinicflow.ledger.services.memberships import refund_due
from clinicflow.patients.models import Patient


@dataclass
class MembershipView:
    membership: Membership
    state: str
    prepaid_left: Decimal
    used_value: Decimal
    refund_now: Decimal
    shared: bool = False
    # service code -> (included per period, used in this period)
    included: dict[str, tuple[int, int]] = field(default_factory=dict)
    members: list[str] = field(default_factory=list)

    @property
    def plan(self) -> MembershipPlan:
        plan: MembershipPlan = self.membership.plan
        return plan

    @property
    def freeze_days_left(self) -> int:
        return max(self.plan.freezable_days - self.membership.frozen_days, 0)


def patient_memberships(
    *, org: Organization, patient: Patient, at: dt.datetime | None = None, include_shared: bool = True
) -> list[MembershipView]:
    """The patient's memberships (own first, then shared with them), newest first, with what is left."""
    at = at or timezone.now()
    # the memberships shared with the patient: a subquery of the one statement, not a query of its own
    shared_ids = MembershipMember.objects.for_org(org).filter(patient=patient).values("membership_id")
    where = Q(patient=patient) | Q(pk__in=shared_ids) if include_shared else Q(patient=patient)
    rows = list(
        Membership.objects.for_org(org).filter(where).select_related("plan").order_by("-starts_at", "-pk")
    )
    lots = lot_remaining(org=org, lots=[m.lot_id for m in rows if m.lot_id])
    ids = [m.pk for m in rows]
    uses = list(
        MembershipUse.objects.for_org(org)
        .filter(membership_id__in=ids, released_at__isnull=True)
        .values_list("membership_id", "kind", "service__code", "value", "used_at")
    )
    names: dict[object, list[str]] = {}
    for mid, first, last in (
        MembershipMember.objects.for_org(org)
        .filter(membership_id__in=ids)
        .values_list("membership_id", "patient__first_name", "patient__last_name")
    ):
        names.setdefault(mid, []).append(f"{first} {last}".strip())
    out = []
    for m in rows:
        mine = [u for u in uses if u[0] == m.pk]
        since = period_start(m, min(max(at, m.starts_at), m.ends_at))
        included = {
            code: (
                int(n or 0),
                sum(1 for u in mine if u[1] == BenefitKind.INCLUDED and u[2] == code and u[4] >= since),
            )
            for code, n in m.plan.included.items()
        }
        out.append(
            MembershipView(
                membership=m,
                state=m.state_at(at),
                prepaid_left=lots.get(m.lot_id, Decimal(0)) if m.lot_id else Decimal(0),
                used_value=sum((u[3] for u in mine), Decimal(0)),
                refund_now=(
                    refund_due(org=org, membership=m, at=at)
                    if m.status != MembershipStatus.CANCELLED and m.plan.kind != PlanKind.STORED_VALUE
                    else Decimal(0)
                ),
                shared=m.patient_id != patient.pk,
                included=included,
                members=names.get(m.pk, []),
            )
        )
    return out


def membership_get(*, org: Organization, membership_id: object) -> Membership:
    pk = parse_uuid(membership_id)
    found = (
        Membership.objects.for_org(org).select_related("plan", "patient").filter(pk=pk).first()
        if pk
        else None
    )
    if found is None:
        raise NotFound("no such membership")
    return found


def patients_named(*, org: Organization, ids: list[str], field_name: str = "members") -> list[Patient]:
    """Patients of ``org`` named in a request (a 422 naming the field for any unknown one)."""
    parsed = [parse_uuid(i) for i in ids]
    pks = [pk for pk in parsed if pk is not None]
    if len(pks) != len(parsed):
        raise ValidationFailed.field(field_name, "no such patient in this clinic")
    found = list(Patient.objects.for_org(org).filter(pk__in=pks))
    if len(found) != len(set(pks)):
        raise ValidationFailed.field(field_name, "no such patient in this clinic")
    return found


def plan_by_code(*, org: Organization, code: str) -> MembershipPlan | None:
    return MembershipPlan.objects.for_org(org).filter(code=code[:60]).first()
