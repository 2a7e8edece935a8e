"""Recall: the default lists, a contact's outcome, and the bookings that followed contacts.

A recall *call* needs no consent check here (the person is a patient of the clinic, reached by staff);
a recall *message* advertises, so ``recall_message_send`` refuses it without the channel's marketing
consent and queues it as marketing: the outbox checks the consent again when sending
(``clinicflow.messaging``)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Min, OuterRef, Subquery
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from clinicflow.accounts.models import User
from clinicflow.booking.models import Appointment, AppointmentStatus
from clinicflow.booking.services.notify import public_base_url
from clinicflow.care.models import ContactChannel, Outcome, RecallContact, RecallKind, RecallList
from clinicflow.core.audit import audit_record
from clinicflow.core.errors import Conflict, ValidationFailed, require_choice
from clinicflow.core.models import AuditAction, Organization
from clinicflow.messaging.models import Kind, Purpose
from clinicflow.messaging.rendering import language_for
from clinicflow.messaging.services import message_enqueue
from clinicflow.patients.models import MARKETING_PURPOSE_BY_CHANNEL, Patient
from clinicflow.patients.selectors import has_consent

LINK_WINDOW = dt.timedelta(days=60)


def _names() -> dict[str, str]:
    return {
        RecallKind.COURSE_SESSION: _("Next course session due"),
        RecallKind.MAINTENANCE: _("Maintenance due"),
        RecallKind.YEARLY_CHECK: _("Yearly check due"),
        RecallKind.LAPSED: _("Lapsed patients by predicted value"),
    }


def recall_lists_ensure(*, org: Organization) -> int:
    """The four standard lists, made once (the (organisation, kind) constraint)."""
    with translation.override(org.default_language or "en"):
        rows = [RecallList(organization=org, kind=k, name=n) for k, n in _names().items()]
    before = RecallList.objects.for_org(org).count()
    RecallList.objects.bulk_create(rows, ignore_conflicts=True)
    return RecallList.objects.for_org(org).count() - before


@transaction.atomic
def recall_contact_record(
    *,
    org: Organization,
    actor: User | None,
    recall_list: RecallList,
    patient: Patient,
    outcome: str,
    channel: str = ContactChannel.CALL,
    reason: str = "",
    at: dt.datetime | None = None,
    request: HttpRequest | None = None,
) -> RecallContact:
    """One contact with a patient from a list and its outcome; "booked" stamps ``booked_at`` now."""
    require_choice("outcome", outcome, Outcome.values)
    require_choice("channel", channel, ContactChannel.values)
    if patient.organization_id != org.id or recall_list.organization_id != org.id:
        raise ValidationFailed.field("patient", "unknown patient")
    reason = " ".join(reason.split())[:300]
    if outcome == Outcome.DECLINED and not reason:
        raise ValidationFailed.field("reason", "say why the patient declined")
    now = at or timezone.now()
    contact = RecallContact.objects.create(
        organization=org,
        recall_list=recall_list,
        patient=patient,
        channel=channel,
        outcome=outcome,
        reason=reason,
        contacted_at=now,
        contacted_by=actor,
        booked_at=now if outcome == Outcome.BOOKED else None,
    )
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.CREATE,
        object_type="recall_contact",
        object_id=contact.pk,
        fields=["outcome", "channel"] + (["reason"] if reason else []),
        request=request,
    )
    return contact


def _last_service_name(org: Organization, patient: Patient, language: str) -> str:
    """The service of the patient's latest done visit, named in the patient's language."""
    last = (
        Appointment.objects.for_org(org)
        .filter(patient=patient, status=AppointmentStatus.DONE, service__isnull=False)
        .select_related("service")
        .order_by("-start_at")
        .first()
    )
    if last is None or last.service is None:
        return ""
    with translation.override(language):
        return last.service.display_name


@transaction.atomic
def recall_message_send(
    *,
    org: Organization,
    actor: User | None,
    recall_list: RecallList,
    patient: Patient,
    channel: str,
    service_name: str = "",
    request: HttpRequest | None = None,
) -> RecallContact:
    """Queue a recall message by SMS or e-mail, in the patient's language, and record the contact.

    It advertises, so it needs the patient's marketing consent for the channel: checked here (refused
    with ``Conflict`` code ``no_marketing_consent``, nothing recorded) and again by the outbox when it
    sends. A patient without an address on the channel is refused (``no_address``). The service named
    in the message is ``service_name``, else the one of the patient's latest visit."""
    if channel not in (ContactChannel.SMS, ContactChannel.EMAIL):
        raise ValidationFailed.field("channel", "a recall message goes by sms or email")
    if patient.organization_id != org.id or recall_list.organization_id != org.id:
        raise ValidationFailed.field("patient", "unknown patient")
    label = ContactChannel(channel).label
    if not has_consent(org=org, patient_id=patient.pk, purpose=MARKETING_PURPOSE_BY_CHANNEL[channel]):
        raise Conflict(
            _("The patient has not consented to marketing by %(channel)s: the message was not sent.")
            % {"channel": label},
            code="no_marketing_consent",
            fields={"channel": ["no marketing consent"]},
        )
    language = language_for(patient.preferred_language)
    message = message_enqueue(
        org=org,
        patient=patient,
        channel=channel,
        kind=Kind.RECALL,
        purpose=Purpose.MARKETING,
        context={
            "service": service_name or _last_service_name(org, patient, language),
            "manage_url": _booking_url(patient),
        },
        dedupe_key=f"care:recall:{recall_list.pk}:{patient.pk}:{timezone.now():%Y%m%d}:{channel}",
    )
    if message is None:
        raise Conflict(
            _("The patient has no address for %(channel)s: the message was not sent.") % {"channel": label},
            code="no_address",
            fields={"channel": ["no address"]},
        )
    return recall_contact_record(
        org=org,
        actor=actor,
        recall_list=recall_list,
        patient=patient,
        outcome=Outcome.SENT,
        channel=channel,
        request=request,
    )


def _booking_url(patient: Patient) -> str:
    base = public_base_url()
    return f"{base}/book/{patient.branch_id}/" if patient.branch_id else base


def recall_bookings_link(*, org: Organization, now: dt.datetime, limit: int = 5000) -> int:
    """Contacts of the last 60 days without a booking get the first appointment the patient booked
    after the contact (its ``created_at``, within 60 days). Bounded; idempotent."""
    first_booking = (
        Appointment.objects.for_org(org)
        .filter(
            patient_id=OuterRef("patient_id"),
            created_at__gte=OuterRef("contacted_at"),
        )
        .order_by()
        .values("patient_id")
        .annotate(first=Min("created_at"))
        .values("first")[:1]
    )
    rows = list(
        RecallContact.objects.for_org(org)
        .filter(booked_at__isnull=True, contacted_at__gte=now - LINK_WINDOW)
        .annotate(first=Subquery(first_booking))
        .filter(first__isnull=False)
        .values_list("pk", "first", "contacted_at")[:limit]
    )
    linked = 0
    for pk, first, contacted_at in rows:
        if first - contacted_at <= LINK_WINDOW:
            linked += (
                RecallContact.objects.for_org(org)
                .filter(pk=pk, booked_at__isnull=True)
                .update(booked_at=first)
            )
    return linked
