"""Erasure on request (GDPR Art 17, 152-FZ Art 21, PIPL Art 47).

What the law allows to erase is erased or irreversibly pseudonymised, in one transaction:

- the patient row keeps its id (appointments, payments, the ledger and clinical records point at it,
  and every report counts through it) but loses the person: names become ``Erased`` and a random
  token (not derived from anything), e-mail and administrative notes are emptied, the birth date is
  cut to 1 January of its year; phones (with their blind indexes) and stored predictions are deleted;
- messages keep their kind, channel, status and times (delivery counts) but lose recipient, subject,
  text and context; queued ones are cancelled; attachments and demo-inbox copies are deleted;
- calls keep their times, status and attribution (the channel reports) but lose the caller's number,
  recording link and raw payload; leads lose name, phone, e-mail and message;
- appointment notes and payment notes are emptied; granted marketing and photo-publication
  consents are withdrawn (which also cancels queued marketing).

Held for the medical-records or accounting retention period (``retention.periods``) and named as
held in the outcome: signed consents and consent events (proof), consultations, quotes, treatment
records, complications and photos (medical records; append-only), appointments and payments as
rows, the ledger (append-only). The audit chain is never touched. Money and counts stay."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.apps import apps
from django.db import transaction
from django.db.models import F, Max, Q, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils import timezone

from clinicflow.accounts.models import User
from clinicflow.acquisition.models import Call, Lead
from clinicflow.booking.models import Appointment, Payment
from clinicflow.core.audit import audit_record
from clinicflow.core.models import AuditAction, Organization
from clinicflow.messaging.models import DemoInboxMessage, Message, MessageAttachment, Status
from clinicflow.patients.models import (
    ConsentEvent,
    ConsentEventKind,
    ConsentMethod,
    ConsentPurpose,
    Patient,
    PatientPhone,
    PatientPrediction,
)
from clinicflow.patients.services import consent_record
from clinicflow.privacy.models import RequestKind, SubjectRequest
from clinicflow.privacy.retention.periods import ACCOUNTING, MEDICAL, legal_region, period_days
from clinicflow.privacy.rights.collect import patient_links
from clinicflow.privacy.rights.requests import request_close, request_open

ERASED_NAME = "Erased"
WITHDRAWN_ON_ERASURE = (
    ConsentPurpose.MARKETING_SMS,
    ConsentPurpose.MARKETING_EMAIL,
    ConsentPurpose.MARKETING_CALLS,
    ConsentPurpose.PHOTO_PUBLICATION,
)
# held records: model label -> the kind of retention that holds them
HELD: dict[str, str] = {
    "patients.ConsentEvent": MEDICAL,
    "clinical.SignedConsent": MEDICAL,
    "clinical.Consultation": MEDICAL,
    "clinical.Quote": MEDICAL,
    "clinical.Photo": MEDICAL,
    "clinical.TreatmentRecord": MEDICAL,
    "clinical.Complication": MEDICAL,
    "booking.Appointment": MEDICAL,
    "booking.Payment": ACCOUNTING,
    "ledger.Account": ACCOUNTING,
    "ledger.Transaction": ACCOUNTING,
}
# optional apps' free-text columns emptied on erasure when the model is installed
OPTIONAL_TEXT: dict[str, tuple[str, ...]] = {"feedback.SurveyAnswer": ("comment",)}


def _granted(org: Organization, patient: Patient) -> list[str]:
    latest: dict[str, str] = {}
    for purpose, kind in (
        ConsentEvent.objects.for_org(org)
        .filter(patient=patient)
        .order_by("at")
        .values_list("purpose", "kind")
    ):
        latest[purpose] = kind
    return [p for p in WITHDRAWN_ON_ERASURE if latest.get(p) == ConsentEventKind.GRANTED]


def _last_activity(org: Organization, patient: Patient) -> dt.datetime:
    visits = Appointment.objects.for_org(org).filter(patient=patient).aggregate(m=Max("start_at"))["m"]
    paid = Payment.objects.for_org(org).filter(patient=patient).aggregate(m=Max("paid_at"))["m"]
    return max([t for t in (visits, paid, patient.updated_at) if t is not None])


def _messages(org: Organization, patient: Patient) -> dict[str, int]:
    qs = Message.objects.for_org(org).filter(patient=patient)
    cancelled = qs.filter(status=Status.QUEUED).update(
        status=Status.CANCELLED,
        cancelled_key=Coalesce(F("dedupe_key"), Value("")),
        dedupe_key=None,
        last_error="patient erased",
    )
    ids = list(qs.values_list("pk", flat=True))
    attachments = MessageAttachment.objects.for_org(org).filter(message_id__in=ids).delete()[0]
    inbox = DemoInboxMessage.objects.for_org(org).filter(message_id__in=ids).delete()[0]
    blanked = qs.update(to="", subject="", body_text="", body_html="", context={}, updated_at=timezone.now())
    return {"cancelled": cancelled, "pseudonymised": blanked, "attachments_deleted": attachments + inbox}


def _acquisition(org: Organization, patient: Patient, phones: list[str]) -> dict[str, int]:
    calls = Call.objects.for_org(org).filter(Q(patient=patient) | Q(caller_e164__in=phones))
    calls_n = calls.update(caller_e164="", caller_raw="", recording_url="", payload={})
    leads = Lead.objects.for_org(org).filter(Q(patient=patient) | Q(possible_patient=patient))
    leads_n = leads.update(name="", phone="", phone_raw="", email="", message="")
    return {"calls": calls_n, "leads": leads_n}


def _optional(org: Organization, patient: Patient) -> dict[str, int]:
    out: dict[str, int] = {}
    for label, fields in OPTIONAL_TEXT.items():
        try:
            model = apps.get_model(label)
        except LookupError:
            continue
        out[label] = model._default_manager.filter(organization=org, patient=patient).update(
            **dict.fromkeys(fields, "")
        )
    return out


def _pseudonymise(patient: Patient) -> None:
    patient.last_name = ERASED_NAME
    patient.first_name = secrets.token_hex(4)
    patient.middle_name = ""
    patient.email = ""
    patient.notes = ""
    patient.restriction_reason = ""
    if patient.birth_date is not None:
        patient.birth_date = dt.date(patient.birth_date.year, 1, 1)
    patient.search_name = Patient.make_search_name(patient.last_name, patient.first_name, "")
    patient.updated_at = timezone.now()
    patient.save()


def _held(org: Organization, patient: Patient) -> list[dict[str, Any]]:
    last = _last_activity(org, patient)
    region = legal_region(org)
    out: list[dict[str, Any]] = []
    for link in patient_links():
        kind = HELD.get(link.label)
        if kind is None:
            continue
        rows = link.model._default_manager.filter(organization=org, **{link.field: patient.pk}).count()
        if rows:
            until = (last + dt.timedelta(days=period_days(org, kind))).date().isoformat()
            out.append(
                {"records": link.label, "rows": rows, "retention": kind, "region": region, "until": until}
            )
    return out


def subject_erase(
    *, org: Organization, actor: User | None, patient: Patient, request: HttpRequest | None = None
) -> SubjectRequest:
    """Erase what may be erased, hold the rest; the request's outcome says which was which."""
    if patient.organization_id != org.id:
        raise ValueError("patient belongs to another organisation")
    row = request_open(org=org, patient_id=patient.pk, kind=RequestKind.ERASURE, actor=actor)
    with transaction.atomic():
        for purpose in _granted(org, patient):
            consent_record(
                org=org,
                actor=actor,
                patient=patient,
                purpose=purpose,
                granted=False,
                method=ConsentMethod.ELECTRONIC,
                evidence="erasure request",
                request=request,
            )
        phones = list(
            PatientPhone.objects.for_org(org).filter(patient=patient).values_list("e164", flat=True)
        )
        erased = {
            "patients.PatientPhone": PatientPhone.objects.for_org(org).filter(patient=patient).delete()[0],
            "patients.PatientPrediction": PatientPrediction.objects.for_org(org)
            .filter(patient=patient)
            .delete()[0],
        }
        pseudonymised: dict[str, Any] = {
            "patients.Patient": [
                "last_name",
                "first_name",
                "middle_name",
                "email",
                "notes",
                "restriction_reason",
                "birth_date",
            ],
            "messaging.Message": _messages(org, patient),
            "booking.Appointment.notes": Appointment.objects.for_org(org)
            .filter(patient=patient)
            .update(notes=""),
            "booking.Payment.note": Payment.objects.for_org(org).filter(patient=patient).update(note=""),
            **_acquisition(org, patient, phones),
            **_optional(org, patient),
        }
        held = _held(org, patient)
        _pseudonymise(patient)
        audit_record(
            org=org,
            actor=actor,
            action=AuditAction.UPDATE,
            object_type="patient",
            object_id=patient.pk,
            fields=["erased"],
            request=request,
        )
        outcome = {"erased": erased, "pseudonymised": pseudonymised, "held": held}
        request_close(row, outcome=outcome)
    return row
