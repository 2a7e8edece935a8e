"""Follow-up plans: the defaults per service category, and the manager's edits (audited)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from clinicflow.accounts.models import User
from clinicflow.accounts.roles import Role
from clinicflow.care.models import Action, FollowUpPlan, FollowUpStep
from clinicflow.catalogue.models import Service, ServiceCategory
from clinicflow.core.audit import audit_record
from clinicflow.core.errors import ValidationFailed, require_choice
from clinicflow.core.models import AuditAction, Organization


@dataclass(frozen=True)
class StepSpec:
    action: str
    day_offset: int = 0
    months: int = 0
    role: str = Role.FRONTDESK


D1 = StepSpec(Action.CALL, 1, role=Role.DOCTOR)
# category -> the default steps (besides the next course session, added when the service is a course)
DEFAULTS: dict[str, tuple[StepSpec, ...]] = {
    ServiceCategory.BOTULINUM: (D1, StepSpec(Action.CHECKUP, 14), StepSpec(Action.MAINTENANCE, months=4)),
    ServiceCategory.FILLERS: (
        D1,
        StepSpec(Action.CHECKUP, 14),
        StepSpec(Action.PHOTO, 30),
        StepSpec(Action.MAINTENANCE, months=9),
    ),
    ServiceCategory.INJECTABLES: (D1, StepSpec(Action.CHECKUP, 14), StepSpec(Action.MAINTENANCE, months=6)),
    ServiceCategory.LASER: (D1, StepSpec(Action.CHECKUP, 7), StepSpec(Action.PHOTO, 30)),
    ServiceCategory.PEELS: (D1, StepSpec(Action.CHECKUP, 7)),
    ServiceCategory.BODY: (D1, StepSpec(Action.PHOTO, 30)),
    ServiceCategory.SURGERY: (
        D1,
        StepSpec(Action.CHECKUP, 7),
        StepSpec(Action.CHECKUP, 30),
        StepSpec(Action.PHOTO, 90),
        StepSpec(Action.YEARLY_CHECK, months=12),
    ),
    ServiceCategory.DENTAL: (D1, StepSpec(Action.YEARLY_CHECK, months=12)),
}


def default_script(action: str) -> str:
    """The call script a default step starts with (in the active language)."""
    if action == Action.CALL:
        return _(
            "Introduce yourself and the clinic. Ask how the patient feels after the procedure, whether "
            "there is swelling, pain or redness, and whether the aftercare advice is clear. Offer a "
            "check-up if anything worries them."
        )
    return _(
        "Introduce yourself and the clinic. Remind the patient of the planned visit and offer two "
        "convenient times."
    )


def default_steps(service: Service) -> list[StepSpec]:
    steps = list(DEFAULTS.get(service.category, ()))
    if service.course_sessions > 1 and service.course_interval_days > 0:
        steps.append(StepSpec(Action.COURSE_SESSION, service.course_interval_days))
    return steps


def plans_ensure_defaults(*, org: Organization, services: list[Service] | None = None) -> int:
    """A default plan for every active service that has none (consultations get none); returns how many
    plans were made. Idempotent: the (organisation, service) constraint keeps one plan per service."""
    chosen = services if services is not None else list(Service.objects.for_org(org).filter(is_active=True))
    have = set(
        FollowUpPlan.objects.for_org(org).filter(service__in=chosen).values_list("service_id", flat=True)
    )
    plans: list[FollowUpPlan] = []
    steps: list[FollowUpStep] = []
    with translation.override(org.default_language or "en"):
        for service in chosen:
            specs = default_steps(service)
            if service.pk in have or not specs:
                continue
            plan = FollowUpPlan(organization=org, service=service, name=service.name)
            plans.append(plan)
            steps += [
                FollowUpStep(
                    organization=org,
                    plan=plan,
                    position=i,
                    action=s.action,
                    day_offset=s.day_offset,
                    months=s.months,
                    assignee_role=s.role,
                    script=default_script(s.action),
                )
                for i, s in enumerate(specs)
            ]
    with transaction.atomic():
        FollowUpPlan.objects.bulk_create(plans)
        FollowUpStep.objects.bulk_create(steps)
    return len(plans)


def _check_step(
    *, org: Organization, action: str, day_offset: int, months: int, role: str, assignee: User | None
) -> None:
    require_choice("action", action, Action.values)
    if role:
        require_choice("assignee_role", role, Role.values)
    if not 0 <= day_offset <= 3650:
        raise ValidationFailed.field("day_offset", "must be 0..3650")
    if not 0 <= months <= 120:
        raise ValidationFailed.field("months", "must be 0..120")
    if assignee is not None and assignee.organization_id != org.id:
        raise ValidationFailed.field("assignee", "unknown staff member")
    if not role and assignee is None:
        raise ValidationFailed.field("assignee_role", "choose a role or a person")


@transaction.atomic
def step_add(
    *,
    org: Organization,
    actor: User | None,
    plan: FollowUpPlan,
    action: str,
    day_offset: int = 0,
    months: int = 0,
    role: str = "",
    assignee: User | None = None,
    script: str = "",
    request: HttpRequest | None = None,
) -> FollowUpStep:
    _check_step(org=org, action=action, day_offset=day_offset, months=months, role=role, assignee=assignee)
    last = FollowUpStep.objects.for_org(org).filter(plan=plan).order_by("-position").first()
    step = FollowUpStep.objects.create(
        organization=org,
        plan=plan,
        position=(last.position + 1) if last else 0,
        action=action,
        day_offset=day_offset,
        months=months,
        assignee_role=role,
        assignee=assignee,
        script=script.strip()[:4000],
    )
    _touch(org=org, actor=actor, plan=plan, request=request, action=AuditAction.CREATE)
    return step


@transaction.atomic
def step_remove(
    *, org: Organization, actor: User | None, step: FollowUpStep, request: HttpRequest | None = None
) -> None:
    """Retire a step: no new tasks from it; the tasks it made keep it."""
    step.is_active = False
    step.save(update_fields=["is_active"])
    _touch(org=org, actor=actor, plan=step.plan, request=request, action=AuditAction.DELETE)


@transaction.atomic
def plan_create(
    *, org: Organization, actor: User | None, service: Service, request: HttpRequest | None = None
) -> FollowUpPlan:
    if service.organization_id != org.id:
        raise ValidationFailed.field("service", "unknown service")
    if FollowUpPlan.objects.for_org(org).filter(service=service).exists():
        raise ValidationFailed.field("service", "the service has a plan already")
    plan = FollowUpPlan.objects.create(organization=org, service=service, name=service.name, updated_by=actor)
    _touch(org=org, actor=actor, plan=plan, request=request, action=AuditAction.CREATE)
    return plan


@transaction.atomic
def plan_set_active(
    *,
    org: Organization,
    actor: User | None,
    plan: FollowUpPlan,
    active: bool,
    request: HttpRequest | None = None,
) -> FollowUpPlan:
    plan.is_active = active
    plan.save(update_fields=["is_active"])
    _touch(org=org, actor=actor, plan=plan, request=request, action=AuditAction.UPDATE)
    return plan


def _touch(
    *, org: Organization, actor: User | None, plan: FollowUpPlan, request: HttpRequest | None, action: str
) -> None:
    plan.updated_at = timezone.now()
    plan.updated_by = actor
    plan.save(update_fields=["updated_at", "updated_by"])
    audit_record(
        org=org,
        actor=actor,
        action=action,
        object_type="followup_plan",
        object_id=plan.pk,
        fields=["steps"],
        request=request,
    )
