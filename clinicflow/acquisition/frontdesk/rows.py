"""What the front-desk pages show of a call, formatted in the branch's time zone: the call-log row (the
page renders it and the live feed sends it as JSON) and local times."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone

from clinicflow.acquisition.models import Call, CallbackTask, CallStatus, CallTag
from clinicflow.core.formatting import fmt_date
from clinicflow.core.phones import display


def duration(seconds: int | None) -> str:
    if seconds is None:
        return ""
    return f"{seconds // 60}:{seconds % 60:02d}"


def local(at: dt.datetime, tz: dt.tzinfo) -> dict[str, str]:
    """A moment as the branch sees it, formatted here: the template's date filter would convert an aware
    datetime back to the request's time zone."""
    moment = timezone.localtime(at, tz)
    return {"time": moment.strftime("%H:%M"), "date": fmt_date(moment.date()), "iso": moment.isoformat()}


def safe_url(url: str) -> str:
    return url if url.startswith(("https://", "http://")) else ""


def _patient(call: Call, *, can_create_patient: bool) -> tuple[dict[str, str] | None, str]:
    """The matched patient card (name, link), else the link that opens a new card with the phone."""
    if call.patient is not None:
        return {"name": call.patient.full_name, "url": reverse("patients:detail", args=[call.patient.pk])}, ""
    if call.caller_e164 and can_create_patient:
        return None, reverse("patients:create") + "?" + urlencode({"phone": call.caller_e164})
    return None, ""


def call_row(call: Call, tz: dt.tzinfo, *, can_create_patient: bool) -> dict[str, Any]:
    """What one call-log row shows; the page renders it and the live feed sends it as JSON."""
    patient, new_lead_url = _patient(call, can_create_patient=can_create_patient)
    admin = call.administrator
    return {
        "id": str(call.pk),
        "url": reverse("acquisition:call_detail", args=[call.pk]),
        **local(call.started_at, tz),
        "caller": display(call.caller_e164) if call.caller_e164 else call.caller_raw,
        "patient": patient,
        "new_lead_url": new_lead_url,
        "number": call.tracking_number.e164 if call.tracking_number else call.called_number,
        "source": " / ".join(x for x in (call.source, call.medium) if x),
        "campaign": call.campaign.name if call.campaign else call.utm_campaign,
        "status": call.status,
        "status_label": str(call.get_status_display()),
        "missed": call.status == CallStatus.MISSED,
        "duration": duration(call.duration),
        "administrator": (admin.full_name or admin.email) if admin else "",
        "unique": call.is_unique,
        "tags": [str(CallTag(t.tag).label) for t in call.taggings.all()],
        "score": f"{call.score}%" if call.score is not None else "",
    }


def callback_rows(tasks: Iterable[CallbackTask], tz: dt.tzinfo, now: dt.datetime) -> list[dict[str, Any]]:
    """The open callbacks as the call log lists them: deadline and call time, the phone to call back."""
    return [
        {
            "task": t,
            "overdue": t.due_at < now,
            "phone": display(t.phone) if t.phone.startswith("+") else t.phone,
            "due": local(t.due_at, tz),
            "call": local(t.call.started_at, tz),
        }
        for t in tasks
    ]
