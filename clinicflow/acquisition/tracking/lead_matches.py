"""Web leads against the patient cards. A website form proves nothing about who typed it, so a lead
whose phone or e-mail matches a patient is only *flagged* (``LeadMatch.POSSIBLE`` with the candidate);
the front desk confirms it after speaking to the person (the lead is then linked to the patient) or
dismisses it. Both decisions are audited. Keyword-only, atomic, organisation first."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from clinicflow.acquisition.models import Lead, LeadMatch
from clinicflow.core.audit import audit_record
from clinicflow.core.errors import Conflict, NotFound
from clinicflow.core.models import AuditAction, Organization
from clinicflow.patients.models import Patient
from clinicflow.patients.selectors import patient_duplicates

if TYPE_CHECKING:
    from clinicflow.accounts.models import User


def possible_patient(*, org: Organization, phone: str, email: str) -> Patient | None:
    """The live patient whose phone (E.164) or e-mail the lead names, if any (the oldest card when
    several do: the front desk sees one candidate and may dismiss it)."""
    found = patient_duplicates(org=org, phones=[phone] if phone else [], email=email.strip())
    return min(found, key=lambda p: (p.created_at, str(p.pk))) if found else None


def _decide(
    *,
    org: Organization,
    actor: User,
    lead: Lead,
    match: LeadMatch,
    request: HttpRequest | None,
) -> Lead:
    if lead.organization_id != org.id:
        raise NotFound("lead not found")
    locked = Lead.objects.for_org(org).select_for_update().get(pk=lead.pk)
    if locked.match != LeadMatch.POSSIBLE or locked.possible_patient_id is None:
        raise Conflict("this lead has no match to decide", fields={"lead": ["no match to decide"]})
    locked.match = match
    locked.patient_id = locked.possible_patient_id if match == LeadMatch.CONFIRMED else None
    locked.matched_by = actor
    locked.matched_at = timezone.now()
    fields = ["match", "patient", "matched_by", "matched_at"]
    locked.save(update_fields=fields)
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="lead",
        object_id=locked.pk,
        fields=fields,
        request=request,
    )
    return locked


@transaction.atomic
def lead_confirm_patient(
    *, org: Organization, actor: User, lead: Lead, request: HttpRequest | None = None
) -> Lead:
    """The front desk confirms that the flagged lead is this patient: the lead is linked to them."""
    return _decide(org=org, actor=actor, lead=lead, match=LeadMatch.CONFIRMED, request=request)


@transaction.atomic
def lead_dismiss_match(
    *, org: Organization, actor: User, lead: Lead, request: HttpRequest | None = None
) -> Lead:
    """The front desk says the flagged lead is not that patient: nothing is linked."""
    return _decide(org=org, actor=actor, lead=lead, match=LeadMatch.DISMISSED, request=request)
