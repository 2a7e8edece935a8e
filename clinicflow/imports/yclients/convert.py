"""YCLIENTS REST API v2 objects → the rows the import engine writes.

A client (``GET /company/{id}/clients/search``, ``/clients/{company_id}``): ``id``, ``name``,
``surname``, ``patronymic``, ``phone``, ``email``, ``sex_id`` (1 male, 2 female), ``birth_date``,
``comment``. A record (``GET /records/{company_id}``): ``id``, ``datetime`` (ISO with the company's
offset) or ``date``, ``seance_length``/``length`` (seconds), ``services`` [{``id``, ``title``,
``cost``}], ``staff`` {``id``, ``name``}, ``client`` {``id``, ``name``, ``phone``, ``email``},
``visit_attendance``/``attendance`` (-1 did not come, 0 waiting, 1 came, 2 confirmed), ``deleted``,
``comment``.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from clinicflow.booking.models import AppointmentStatus
from clinicflow.imports.engine import values as v
from clinicflow.imports.engine.clean import Clean, Ctx, RowProblem, clean_patient

ATTENDANCE = {
    -1: AppointmentStatus.NO_SHOW,
    0: AppointmentStatus.BOOKED,
    1: AppointmentStatus.DONE,
    2: AppointmentStatus.CONFIRMED,
}
SEX = {1: "M", 2: "F"}


def _text(obj: Mapping[str, Any], key: str) -> str:
    value = obj.get(key)
    return "" if value is None or isinstance(value, dict | list) else str(value).strip()


def client_row(obj: Mapping[str, Any], ctx: Ctx, line: int = 0) -> Clean:
    """A YCLIENTS client as a patient row (``RowProblem`` naming the field when it is unusable)."""
    if not isinstance(obj, Mapping) or not _text(obj, "id"):
        raise RowProblem("id", "a client needs an id")
    surname, name = _text(obj, "surname"), _text(obj, "name")
    names = {"last_name": surname, "first_name": name} if surname else {"full_name": name}
    row: dict[str, Any] = {
        **names,
        "middle_name": _text(obj, "patronymic"),
        "phone": _text(obj, "phone"),
        "email": _text(obj, "email"),
        "birth_date": _text(obj, "birth_date") if _text(obj, "birth_date") not in ("", "0000-00-00") else "",
        "sex": SEX.get(int(obj.get("sex_id") or 0), ""),
        "notes": _text(obj, "comment"),
    }
    values = clean_patient(row, ctx)
    return Clean(line=line, source_id=_text(obj, "id"), values=values)


def record_row(obj: Mapping[str, Any], ctx: Ctx, line: int = 0) -> tuple[Clean, Clean | None]:
    """A YCLIENTS record as a visit row, with its nested client as a patient row (None without one)."""
    if not isinstance(obj, Mapping) or not _text(obj, "id"):
        raise RowProblem("id", "a record needs an id")
    client = obj.get("client") if isinstance(obj.get("client"), Mapping) else None
    patient = client_row(client, ctx, line) if client else None
    services = [s for s in obj.get("services") or [] if isinstance(s, Mapping)]
    if not services:
        raise RowProblem("services", "a record needs a service")
    staff = obj.get("staff") if isinstance(obj.get("staff"), Mapping) else {}
    staff_name = _text(staff, "name") if staff else ""
    if not staff_name:
        raise RowProblem("staff", "a record needs its staff member")
    when = obj.get("datetime") or obj.get("date")
    start = v.moment("datetime", when, ctx.tz)
    seconds = obj.get("seance_length") or obj.get("length") or 0
    attendance = obj.get("visit_attendance", obj.get("attendance", 0))
    try:
        status = ATTENDANCE.get(int(attendance or 0), AppointmentStatus.BOOKED)
        minutes = int(seconds) // 60
    except (TypeError, ValueError) as exc:
        raise RowProblem("visit_attendance", "is not a number", attendance) from exc
    if obj.get("deleted"):
        status = AppointmentStatus.CANCELLED
    total = sum(
        (v.decimal("cost", s.get("cost"), required=False) or Decimal(0) for s in services), Decimal(0)
    )
    title = _text(services[0], "title")
    if not title:
        raise RowProblem("services", "a service needs a title")
    values = {
        "patient_id": _text(client, "id") if client else "",
        "patient_phone": patient.values["phones"][0] if patient and patient.values["phones"] else "",
        "start_at": start,
        "duration": minutes,
        "service": title[:200],
        "doctor": staff_name[:200],
        "price": total,
        "status": status,
        "notes": _text(obj, "comment")[:500],
    }
    if not values["patient_id"] and not values["patient_phone"]:
        raise RowProblem("client", "a record needs its client")
    return Clean(line=line, source_id=_text(obj, "id"), values=values), patient


def items(payload: Any) -> list[Any]:
    """The objects of an API response (``{"success": true, "data": [...]}``), a bare list, or one object."""
    if isinstance(payload, Mapping) and "data" in payload:
        payload = payload["data"]
    if isinstance(payload, Mapping):
        return [payload]
    if isinstance(payload, list):
        return payload
    raise RowProblem("data", "is not a list of objects")
