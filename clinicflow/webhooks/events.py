"""Where events come from: model signals connected in ``WebhooksConfig.ready`` (no other app's file
is edited). Payloads carry ids, statuses, times and amounts, not names or contacts (a receiver reads
those through the API with its own token): data minimisation, and nothing personal leaves the region
in a webhook.

- ``patient.created`` / ``patient.updated``: ``Patient`` saved (created or not);
- ``appointment.booked`` (created), ``appointment.moved`` (start changed), ``appointment.cancelled``,
  ``appointment.done`` (status changed to it): ``Appointment`` saved, compared with the values it was
  loaded with (``post_init``);
- ``payment.created``: ``Payment`` created; ``call.created``: ``Call`` created;
- ``survey.answered``: feedback's ``SurveyAnswer`` created (connected by label when that model is
  installed).

Bulk writes (``bulk_create``, ``update``; the simulator and imports) send no signals and so no
webhooks."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db.models.signals import post_init, post_save

from clinicflow.acquisition.models import Call
from clinicflow.booking.models import Appointment, Payment
from clinicflow.patients.models import Patient
from clinicflow.webhooks.models import Event
from clinicflow.webhooks.services import enqueue

ORIGINAL = "_webhooks_original"


def _patient(sender: Any, instance: Patient, created: bool, raw: bool = False, **kw: Any) -> None:
    if raw:
        return
    data = {"id": instance.pk, "created_at": instance.created_at, "updated_at": instance.updated_at}
    enqueue(
        org_id=instance.organization_id,
        event=Event.PATIENT_CREATED if created else Event.PATIENT_UPDATED,
        data=data,
    )


def _remember(sender: Any, instance: Appointment, **kw: Any) -> None:
    values = instance.__dict__
    setattr(instance, ORIGINAL, (values.get("start_at"), values.get("status")))


def _appointment_data(a: Appointment) -> dict[str, Any]:
    return {
        "id": a.pk,
        "patient_id": a.patient_id,
        "branch_id": a.branch_id,
        "doctor_id": a.doctor_id,
        "service_id": a.service_id,
        "start_at": a.start_at,
        "end_at": a.end_at,
        "status": a.status,
        "price": a.price,
        "currency": a.currency,
    }


def _appointment(sender: Any, instance: Appointment, created: bool, raw: bool = False, **kw: Any) -> None:
    if raw:
        return
    start, status = getattr(instance, ORIGINAL, (None, None))
    events: list[str] = []
    if created:
        events.append(Event.APPOINTMENT_BOOKED)
    else:
        if start is not None and instance.start_at != start:
            events.append(Event.APPOINTMENT_MOVED)
        if instance.status != status and instance.status == "cancelled":
            events.append(Event.APPOINTMENT_CANCELLED)
        if instance.status != status and instance.status == "done":
            events.append(Event.APPOINTMENT_DONE)
    for event in events:
        enqueue(org_id=instance.organization_id, event=event, data=_appointment_data(instance))
    setattr(instance, ORIGINAL, (instance.start_at, instance.status))


def _payment(sender: Any, instance: Payment, created: bool, raw: bool = False, **kw: Any) -> None:
    if created and not raw:
        data = {
            "id": instance.pk,
            "patient_id": instance.patient_id,
            "appointment_id": instance.appointment_id,
            "branch_id": instance.branch_id,
            "amount": instance.amount,
            "currency": instance.currency,
            "method": instance.method,
            "kind": instance.kind,
            "paid_at": instance.paid_at,
        }
        enqueue(org_id=instance.organization_id, event=Event.PAYMENT_CREATED, data=data)


def _call(sender: Any, instance: Call, created: bool, raw: bool = False, **kw: Any) -> None:
    if created and not raw:
        data = {
            "id": instance.pk,
            "patient_id": instance.patient_id,
            "branch_id": instance.branch_id,
            "status": instance.status,
            "started_at": instance.started_at,
            "duration": instance.duration,
            "channel_id": instance.channel_id,
            "is_unique": instance.is_unique,
        }
        enqueue(org_id=instance.organization_id, event=Event.CALL_CREATED, data=data)


def _survey(sender: Any, instance: Any, created: bool, raw: bool = False, **kw: Any) -> None:
    if created and not raw:
        data = {
            "id": instance.pk,
            "patient_id": getattr(instance, "patient_id", None),
            "nps": getattr(instance, "nps", None),
            "csat": getattr(instance, "csat", None),
            "answered_at": getattr(instance, "answered_at", None),
        }
        enqueue(org_id=instance.organization_id, event=Event.SURVEY_ANSWERED, data=data)


def connect() -> None:
    uid = "clinicflow.webhooks"
    post_save.connect(_patient, sender=Patient, dispatch_uid=f"{uid}.patient")
    post_init.connect(_remember, sender=Appointment, dispatch_uid=f"{uid}.appointment_init")
    post_save.connect(_appointment, sender=Appointment, dispatch_uid=f"{uid}.appointment")
    post_save.connect(_payment, sender=Payment, dispatch_uid=f"{uid}.payment")
    post_save.connect(_call, sender=Call, dispatch_uid=f"{uid}.call")
    try:
        survey_answer = apps.get_model("feedback", "SurveyAnswer")
    except LookupError:
        return
    post_save.connect(_survey, sender=survey_answer, dispatch_uid=f"{uid}.survey")
