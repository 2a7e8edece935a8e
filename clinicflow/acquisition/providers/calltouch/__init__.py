"""Calltouch call records (HTTP notifications / the call-diary record).

Fields used: ``callId``, ``callerphone`` (or ``callerNumber``), ``phonenumber`` (or
``phoneNumber``), ``timestamp`` (Unix seconds of the call start) or ``date``
(``dd/mm/yyyy hh:mm:ss``, Moscow time), ``duration`` and ``waitingConnect``/``waiting_time``
(seconds), ``successful`` (answered or not), ``callphase`` (``callbegin``, ``callconnected``,
``calldisconnected``/``callcompleted``), ``callUrl`` (recording), ``source``, ``medium``,
``utm_source``/``utmSource``, ``utm_medium``/``utmMedium``, ``utm_campaign``/``utmCampaign``,
``ctClientId``. Calltouch does not sign notifications: the secret URL authenticates them."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Mapping
from typing import Any

from clinicflow.acquisition.providers.base import (
    CallEvent,
    PayloadError,
    ProviderSpec,
    boolean,
    first_text,
    integer,
    timestamp,
    url,
)

MSK = zoneinfo.ZoneInfo("Europe/Moscow")
PHASES = {
    "callbegin": "ringing",
    "callconnected": "answered",
    "calldisconnected": "completed",
    "callcompleted": "completed",
}


def _date(payload: Mapping[str, Any]) -> dt.datetime | None:
    raw = payload.get("date")
    if not raw:
        return None
    try:
        local = dt.datetime.strptime(str(raw).strip(), "%d/%m/%Y %H:%M:%S")  # noqa: DTZ007 - Moscow time, set below
    except ValueError as exc:
        raise PayloadError("date", "must be dd/mm/yyyy hh:mm:ss") from exc
    try:
        return local.replace(tzinfo=MSK).astimezone(dt.UTC)
    except OverflowError as exc:  # 01/01/0001 is before the first UTC day
        raise PayloadError("date", "is out of range") from exc


def normalise(payload: Mapping[str, Any]) -> CallEvent:
    call_id = first_text(payload, "callId", "callid", max_len=100)
    if not call_id:
        raise PayloadError("callId", "is required")
    started = timestamp(payload, "timestamp") or _date(payload)
    if started is None:
        raise PayloadError("timestamp", "is required (or date)")
    caller = first_text(payload, "callerphone", "callerNumber", max_len=40)
    if not caller:
        raise PayloadError("callerphone", "is required")
    successful = boolean(payload, "successful")
    duration = integer(payload, "duration")
    waiting = integer(payload, "waitingConnect") or integer(payload, "waiting_time") or 0
    phase = first_text(payload, "callphase", max_len=40).lower()
    if phase and phase not in PHASES:
        raise PayloadError("callphase", f"must be one of {', '.join(PHASES)}")
    if phase in ("callbegin", "callconnected"):
        status = PHASES[phase]
    elif successful is False:
        status = "missed"
    elif successful is True or phase:
        status = "completed"
    else:
        status = "ringing"
    answered_at = started + dt.timedelta(seconds=waiting) if status in ("answered", "completed") else None
    ended = started + dt.timedelta(seconds=duration) if duration is not None and status != "ringing" else None
    return CallEvent(
        provider_call_id=call_id,
        status=status,
        started_at=started,
        caller=caller,
        called=first_text(payload, "phonenumber", "phoneNumber", max_len=40),
        answered_at=answered_at,
        ended_at=ended,
        duration=duration if status != "ringing" else None,
        recording_url=url(payload, "callUrl"),
        source=first_text(payload, "source", max_len=100),
        medium=first_text(payload, "medium", max_len=100),
        utm_source=first_text(payload, "utm_source", "utmSource", max_len=100),
        utm_medium=first_text(payload, "utm_medium", "utmMedium", max_len=100),
        utm_campaign=first_text(payload, "utm_campaign", "utmCampaign", max_len=200),
        client_id=first_text(payload, "ctClientId", max_len=64),
    )


SPEC = ProviderSpec(code="calltouch", normalise=normalise)
