"""The manager's follow-up plans: one per service, its steps (when, what, who, the call script)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from clinicflow.accounts.access import AuthedRequest, require_perm
from clinicflow.accounts.roles import Role
from clinicflow.care.models import Action
from clinicflow.care.selectors import plans as sel
from clinicflow.care.services import plans as svc
from clinicflow.catalogue.models import Service
from clinicflow.core.errors import DomainError, ValidationFailed
from clinicflow.core.web import flash_error, get_or_404, render_in_zone


@require_GET
@require_perm("tasks.manage")
def plan_list(request: AuthedRequest) -> HttpResponse:
    ctx = {
        "plans": list(sel.plan_list(org=request.org)),
        "services": list(sel.services_without_plan(org=request.org)),
        "actions": Action.choices,
        "roles": Role.choices,
        "staff": list(sel.staff_list(org=request.org)),
    }
    return render_in_zone(request, "care/plans.html", ctx)


@require_POST
@require_perm("tasks.manage")
def plans_defaults(request: AuthedRequest) -> HttpResponse:
    made = svc.plans_ensure_defaults(org=request.org)
    messages.success(request, _("Default plans made: %(n)s.") % {"n": made})
    return redirect("care:plans")


def _service(request: AuthedRequest) -> Service:
    for s in sel.services_without_plan(org=request.org):
        if str(s.pk) == request.POST.get("service", ""):
            return s
    raise ValidationFailed.field("service", "choose a service without a plan")


@require_POST
@require_perm("tasks.manage")
def plan_create(request: AuthedRequest) -> HttpResponse:
    try:
        svc.plan_create(org=request.org, actor=request.user, service=_service(request), request=request)
        messages.success(request, _("Plan created."))
    except DomainError as exc:
        flash_error(request, exc)
    return redirect("care:plans")


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError as exc:
        raise ValidationFailed.field("day_offset", "a whole number") from exc


@require_POST
@require_perm("tasks.manage", audit_object="followup_plan")
def step_add(request: AuthedRequest, plan_id: str) -> HttpResponse:
    plan = get_or_404(sel.plan_get, org=request.org, plan_id=plan_id)
    post = request.POST
    try:
        svc.step_add(
            org=request.org,
            actor=request.user,
            plan=plan,
            action=post.get("action", ""),
            day_offset=_int(post.get("day_offset")),
            months=_int(post.get("months")),
            role=post.get("role", ""),
            assignee=sel.staff_get(org=request.org, user_id=post.get("assignee")),
            script=post.get("script", ""),
            request=request,
        )
        messages.success(request, _("Step added."))
    except DomainError as exc:
        flash_error(request, exc)
    return redirect("care:plans")


@require_POST
@require_perm("tasks.manage", audit_object="followup_plan")
def step_remove(request: AuthedRequest, step_id: str) -> HttpResponse:
    step = get_or_404(sel.step_get, org=request.org, step_id=step_id)
    svc.step_remove(org=request.org, actor=request.user, step=step, request=request)
    messages.success(request, _("Step removed."))
    return redirect("care:plans")


@require_POST
@require_perm("tasks.manage", audit_object="followup_plan")
def plan_toggle(request: AuthedRequest, plan_id: str) -> HttpResponse:
    plan = get_or_404(sel.plan_get, org=request.org, plan_id=plan_id)
    svc.plan_set_active(
        org=request.org, actor=request.user, plan=plan, active=not plan.is_active, request=request
    )
    return redirect("care:plans")
