"""Reads of follow-up plans."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from clinicflow.accounts.models import User
from clinicflow.care.models import FollowUpPlan, FollowUpStep
from clinicflow.catalogue.models import Service
from clinicflow.core.errors import NotFound
from clinicflow.core.models import Organization
from clinicflow.core.selectors import parse_uuid


def plan_list(*, org: Organization) -> QuerySet[FollowUpPlan]:
    steps = FollowUpStep.objects.for_org(org).filter(is_active=True).select_related("assignee")
    return (
        FollowUpPlan.objects.for_org(org)
        .select_related("service")
        .prefetch_related(Prefetch("steps", queryset=steps))
        .order_by("service__category", "name", "id")
    )


def plan_get(*, org: Organization, plan_id: object) -> FollowUpPlan:
    pk = parse_uuid(plan_id)
    plan = plan_list(org=org).filter(pk=pk).first() if pk else None
    if plan is None:
        raise NotFound("plan not found")
    return plan


def step_get(*, org: Organization, step_id: object) -> FollowUpStep:
    pk = parse_uuid(step_id)
    step = FollowUpStep.objects.for_org(org).select_related("plan").filter(pk=pk).first() if pk else None
    if step is None:
        raise NotFound("step not found")
    return step


def services_without_plan(*, org: Organization) -> QuerySet[Service]:
    have = FollowUpPlan.objects.for_org(org).values("service_id")
    return Service.objects.for_org(org).filter(is_active=True).exclude(pk__in=have).order_by("name")


def staff_list(*, org: Organization) -> QuerySet[User]:
    return User.objects.filter(organization=org, is_active=True).order_by("full_name", "email")


def staff_get(*, org: Organization, user_id: object) -> User | None:
    pk = parse_uuid(user_id)
    return staff_list(org=org).filter(pk=pk).first() if pk else None
