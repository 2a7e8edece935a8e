"""The owner's and managers' page of emergency ("break-glass") grants: every grant, active and
past, who opened it for which patient and why, how often the card was read under it; revocation."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from clinicflow.accounts.access import AuthedRequest, require_perm
from clinicflow.accounts.breakglass import break_glass_revoke, patient_labels
from clinicflow.accounts.selectors import break_glass_grant_get, break_glass_grants
from clinicflow.core.audit import audit_record
from clinicflow.core.models import AuditAction
from clinicflow.core.web import get_or_404


@require_perm("patients.break_glass_review")
def grant_list(request: AuthedRequest) -> HttpResponse:
    org, now = request.org, timezone.now()
    grants = break_glass_grants(org=org)
    labels = patient_labels(org, [g.patient_id for g in grants])
    rows = [(g, labels.get(g.patient_id, ""), g.is_active(now)) for g in grants]
    audit_record(
        org=org, actor=request.user, action=AuditAction.LIST, object_type="break_glass_grant", request=request
    )
    sections = [
        (_("Active"), [r for r in rows if r[2]], True),
        (_("Ended"), [r for r in rows if not r[2]], False),
    ]
    return render(request, "accounts/break_glass_list.html", {"sections": sections})


@require_POST
@require_perm("patients.break_glass_review", audit_object="break_glass_grant")
def grant_revoke(request: AuthedRequest, grant_id: str) -> HttpResponse:
    grant = get_or_404(break_glass_grant_get, org=request.org, grant_id=grant_id)
    break_glass_revoke(org=request.org, actor=request.user, grant=grant, request=request)
    messages.success(request, _("Emergency access revoked."))
    return redirect("accounts:break_glass_list")
