"""Reads behind the public marketing links (the signed link names the organisation and the patient)."""

from __future__ import annotations

import uuid

from django.utils import timezone

from clinicflow.core.models import Branch, Organization
from clinicflow.core.selectors import parse_uuid
from clinicflow.marketing.links import LinkData
from clinicflow.marketing.models import Recipient
from clinicflow.patients.models import Patient


def link_target(data: LinkData) -> tuple[Organization, Patient] | None:
    org = Organization.objects.filter(pk=data.org_id).first()
    if org is None:
        return None
    patient = Patient.objects.for_org(org).filter(pk=data.patient_id).first()
    return (org, patient) if patient is not None else None


def recipient_for_link(*, org: Organization, campaign_key: str, patient: Patient) -> Recipient | None:
    pk = parse_uuid(campaign_key)
    if pk is None:
        return None
    return (
        Recipient.objects.for_org(org)
        .filter(campaign_id=pk, patient=patient)
        .select_related("campaign")
        .first()
    )


def mark_clicked(*, org: Organization, recipient: Recipient) -> None:
    Recipient.objects.for_org(org).filter(pk=recipient.pk, clicked_at__isnull=True).update(
        clicked_at=timezone.now()
    )


def first_branch_id(*, org: Organization) -> uuid.UUID | None:
    return Branch.objects.for_org(org).order_by("name").values_list("pk", flat=True).first()
