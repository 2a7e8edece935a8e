"""An appointment's messages: the confirmation, change and cancellation on each channel and the
reminders, written to the outbox in the caller's transaction (``clinicflow.messaging``).

Dedupe keys follow ``appt:<id>:<kind>:<offset or tag>:<channel>``."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from django.conf import settings as dj_settings
from django.utils import timezone

from clinicflow.booking import selectors
from clinicflow.booking.ics import appointment_ics
from clinicflow.booking.links import manage_token
from clinicflow.booking.models import Appointment, BookingSettings
from clinicflow.core.models import Organization
from clinicflow.messaging.services import EnqueueItem, message_cancel, message_enqueue_many

CHANNELS = ("sms", "email")


def public_base_url() -> str:
    """Absolute prefix for links in messages (``CLINICFLOW["PUBLIC_URL"]`` or ``CLINICFLOW_PUBLIC_URL``)."""
    base = (
        dj_settings.CLINICFLOW.get("PUBLIC_URL")
        or os.environ.get("CLINICFLOW_PUBLIC_URL")
        or "http://localhost:8000"
    )
    return str(base).rstrip("/")


def manage_path(appt: Appointment) -> str:
    """The patient's current manage link (signed, expiring: ``clinicflow.booking.links``)."""
    return f"/book/manage/{appt.pk}/{manage_token(appt)}/"


def message_context(appt: Appointment) -> dict[str, Any]:
    tz = appt.branch.tz
    local = appt.start_at.astimezone(tz)
    return {
        "appointment_id": str(appt.pk),
        "service": appt.service.name,
        "doctor": appt.doctor.full_name,
        "branch": appt.branch.name,
        "address": ", ".join(p for p in (appt.branch.address, appt.branch.city) if p),
        "start_local": local.strftime("%Y-%m-%d %H:%M"),
        "date": local.date().isoformat(),
        "time": local.strftime("%H:%M"),
        "timezone": appt.branch.timezone,
        "start_utc": appt.start_at.astimezone(dt.UTC).isoformat(),
        "manage_url": public_base_url() + manage_path(appt),
    }


def reminder_prefix(appt: Appointment) -> str:
    return f"appt:{appt.pk}:appointment_reminder:"


def reminders_cancel(org: Organization, appt: Appointment) -> None:
    """Cancel the appointment's queued reminders and its still unsent confirmation or change notices
    (it moved, was cancelled or missed: they would announce a time that no longer holds)."""
    message_cancel(org=org, dedupe_key_prefix=reminder_prefix(appt))
    for kind in ("appointment_confirmation", "appointment_changed"):
        message_cancel(org=org, dedupe_key_prefix=f"appt:{appt.pk}:{kind}:")


def _reminders(appt: Appointment, conf: BookingSettings, context: dict[str, Any]) -> list[EnqueueItem]:
    channels = [c for c in (conf.reminder_channels or CHANNELS) if c in CHANNELS] or list(CHANNELS)
    now = timezone.now()
    items: list[EnqueueItem] = []
    for offset in conf.reminder_offsets_minutes or []:
        send_after = appt.start_at - dt.timedelta(minutes=int(offset))
        if send_after <= now:
            continue
        items += [
            {
                "channel": channel,
                "kind": "appointment_reminder",
                "context": context,
                "send_after": send_after,
                "not_after": appt.start_at,
                "dedupe_key": f"appt:{appt.pk}:appointment_reminder:{int(offset)}:{channel}",
            }
            for channel in channels
        ]
    return items


def appointment_notify(
    appt: Appointment, kind: str, *, tag: str, with_ics: bool, reminders: bool, new: bool = False
) -> None:
    """Outbox rows for a change: the message of ``kind`` on each channel and (re)scheduled reminders."""
    org = appt.organization
    conf = selectors.settings_for(org=org, branch=appt.branch)
    context = message_context(appt)
    ics = appointment_ics(appt, clinic=org.name) if with_ics else None
    items: list[EnqueueItem] = [
        {
            "channel": channel,
            "kind": kind,
            "context": context,
            "not_after": appt.start_at,  # never sent once the visit has begun
            "dedupe_key": f"appt:{appt.pk}:{kind}:{tag}:{channel}",
            "attachments": [("appointment.ics", "text/calendar", ics)] if ics and channel == "email" else [],
        }
        for channel in CHANNELS
    ]
    if reminders:
        items += _reminders(appt, conf, context)
    # one batch: the patient's contacts, templates and dedupe keys are read once, one INSERT
    message_enqueue_many(org=org, patient=appt.patient, items=items, fresh_keys=new)
