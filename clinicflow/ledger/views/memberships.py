"""Staff pages of memberships: the patient's memberships (sell, freeze, renew, cancel; referral code
and a secure link for the patient) and the manager's plans (list, create, edit).

The patient's page needs ``wallet.view`` and the card open; every change ``wallet.move`` and the
card writable; money-moving forms carry a one-time key (``form_key``), so a double submit posts
once. Plans need ``ledger.manage``."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinicflow.accounts.access import AuthedRequest, require_perm
from clinicflow.accounts.breakglass import access_record
from clinicflow.catalogue.models import ServiceCategory
from clinicflow.core.errors import DomainError, PermissionDenied
from clinicflow.core.models import AuditAction
from clinicflow.core.web import flash_error, get_or_404, render_in_zone
from clinicflow.ledger.models import PlanKind, PlanPeriod
from clinicflow.ledger.selectors import memberships as selectors
from clinicflow.ledger.selectors.loyalty import points_of, referrals_of
from clinicflow.ledger.selectors.wallet import plan_list, plan_named
from clinicflow.ledger.services import memberships as services
from clinicflow.ledger.services.idempotency import clean_key, fingerprint, idempotent
from clinicflow.ledger.services.patient_links import link_url, patient_link_create
from clinicflow.ledger.services.plans import plan_save
from clinicflow.ledger.services.referrals import referral_code_for
from clinicflow.patients.emergency import access_of, refused
from clinicflow.patients.selectors import patient_get


@require_GET
@require_perm("wallet.view", audit_object="wallet")
def patient_memberships(request: AuthedRequest, patient_id: str) -> HttpResponse:
    patient = get_or_404(patient_get, org=request.org, patient_id=patient_id, with_phones=False)
    access = access_of(request, patient)
    if not access.opens or access.break_glass:
        return refused(request, patient, access)
    access_record(
        access, org=request.org, actor=request.user, object_type="wallet", object_id=patient.pk,
        fields=["memberships", "points", "referrals"], request=request, action=AuditAction.VIEW,
    )  # fmt: skip
    ctx = {
        "patient": patient,
        "memberships": selectors.patient_memberships(org=request.org, patient=patient),
        "plans": plan_list(org=request.org).order_by("name", "pk"),
        "points": points_of(org=request.org, patient=patient),
        "referrals": referrals_of(org=request.org, patient=patient),
        "form_key": uuid.uuid4().hex,
        "can_move": request.user.has_perm_cf("wallet.move") and access.writes,
        "new_link": request.session.pop("cf_patient_link", None),
    }
    return render_in_zone(request, "ledger/memberships.html", ctx, branch=patient.branch)


def _writable(request: AuthedRequest, patient_id: object) -> Any:
    patient = get_or_404(patient_get, org=request.org, patient_id=patient_id, with_phones=False)
    access = access_of(request, patient)
    if not access.writes or access.break_glass:
        raise PermissionDenied(_("Your role or branch does not allow changes to this patient."))
    return patient


def _act(request: AuthedRequest, patient: Any) -> str:
    org, user, post = request.org, request.user, request.POST
    action = post.get("action", "")
    if action == "sell":
        plan = plan_named(org=org, code=post.get("plan", ""))
        if plan is None:
            raise DomainError(_("Choose a plan."))

        def run() -> tuple[int, dict[str, Any]]:
            m = services.membership_sell(org=org, actor=user, patient=patient, plan=plan, request=request)
            return 201, {"membership": str(m.pk)}

        idempotent(
            org=org, key=clean_key(post.get("form_key")), run=run,
            request_fingerprint=fingerprint("POST", request.path, {"plan": str(plan.pk)}),
        )  # fmt: skip
        return _("The membership was sold.")
    if action == "link":
        _made, token = patient_link_create(org=org, actor=user, patient=patient, request=request)
        request.session["cf_patient_link"] = link_url(token)
        return _("A new link for the patient was made; send it to them.")
    if action == "referral":
        referral_code_for(org=org, patient=patient)
        return _("The referral code was made.")
    m = selectors.membership_get(org=org, membership_id=post.get("membership", ""))
    if m.patient_id != patient.pk:
        raise DomainError(_("No such membership."))
    if action == "freeze":
        services.membership_freeze(org=org, actor=user, membership=m, days=post.get("days", ""))
        return _("The membership was frozen.")
    if action == "renew":
        services.membership_renew(org=org, actor=user, membership=m, request=request)
        return _("The membership was renewed.")
    if action == "cancel":
        services.membership_cancel(org=org, actor=user, membership=m, request=request)
        return _("The membership was cancelled.")
    raise DomainError(_("Unknown action."))


@require_POST
@require_perm("wallet.move", audit_object="wallet")
def membership_action(request: AuthedRequest, patient_id: str) -> HttpResponse:
    try:
        patient = _writable(request, patient_id)
        messages.success(request, _act(request, patient))
    except DomainError as exc:
        flash_error(request, exc)
    return redirect("ledger:memberships", patient_id=patient_id)


@require_GET
@require_perm("ledger.manage", audit_object="membership_plan")
def plans(request: AuthedRequest) -> HttpResponse:
    rows = plan_list(org=request.org, active_only=False).order_by("-is_active", "name", "pk")
    return render(request, "ledger/plans.html", {"plans": rows})


def _plan_data(post: Any) -> dict[str, Any]:
    discounts = {c: post.get(f"disc_{c}") for c in ServiceCategory.values if post.get(f"disc_{c}")}
    included: dict[str, Any] = {}
    for line in (post.get("included") or "").splitlines():
        code, _sep, count = line.partition("=")
        if code.strip():
            included[code.strip()] = int(count) if count.strip().isdigit() else count.strip()
    keys = ("kind", "code", "name", "currency", "price", "credit", "bonus_valid_days", "period",
            "duration_days", "freezable_days", "available_until")  # fmt: skip
    data = {k: post.get(k, "") for k in keys}
    data.update(
        category_discounts=discounts, included=included, priority_booking=bool(post.get("priority_booking")),
        shareable=bool(post.get("shareable")), is_active=bool(post.get("is_active")),
    )  # fmt: skip
    return data


@require_http_methods(["GET", "POST"])
@require_perm("ledger.manage", audit_object="membership_plan")
def plan_edit(request: AuthedRequest, plan_code: str = "") -> HttpResponse:
    plan = None
    if plan_code:
        try:
            plan = plan_named(org=request.org, code=plan_code)
        except DomainError as exc:
            raise Http404 from exc
    values: dict[str, Any] = {}
    errors: dict[str, Any] = {}
    if request.method == "POST":
        values = _plan_data(request.POST)
        try:
            plan_save(org=request.org, actor=request.user, data=values, plan=plan)
        except DomainError as exc:
            errors = getattr(exc, "fields", {}) or {"__all__": [str(exc.message)]}
        else:
            messages.success(request, _("Saved."))
            return redirect("ledger:plans")
    ctx = {
        "plan": plan, "values": values, "errors": errors, "kinds": PlanKind.choices,
        "periods": PlanPeriod.choices, "categories": ServiceCategory.choices,
        "discounts": (plan.category_discounts if plan else {}),
    }  # fmt: skip
    return render(request, "ledger/plan_form.html", ctx, status=422 if errors else 200)


paths: list[URLPattern] = [
    path("patients/<str:patient_id>/memberships/", patient_memberships, name="memberships"),
    path("patients/<str:patient_id>/memberships/do/", membership_action, name="membership_action"),
    path("plans/", plans, name="plans"),
    path("plans/new/", plan_edit, name="plan_new"),
    path("plans/<str:plan_code>/", plan_edit, name="plan_edit"),
]
