"""iCalendar (RFC 5545) files: one appointment for the patient, a doctor's subscription feed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from icalendar import Calendar, Event

from clinicflow.booking.models import Appointment, AppointmentStatus

PRODID = "-//Clinicflow//Booking//EN"


def _calendar(name: str = "") -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if name:
        cal.add("x-wr-calname", name)
    return cal


def _uid(appt: Appointment) -> str:
    return f"{appt.pk}@clinicflow"


def initials(first: str, last: str) -> str:
    """``Anna K.``-style short name: first name's initial and last name's initial only."""
    parts = [p[:1].upper() + "." for p in (first.strip(), last.strip()) if p]
    return " ".join(parts) or "?"


def appointment_ics(appt: Appointment, *, method: str = "PUBLISH", clinic: str = "") -> bytes:
    """The patient's calendar file for one appointment (times in UTC: every calendar shows them right)."""
    cal = _calendar()
    cal.add("method", method)
    ev = Event()
    ev.add("uid", _uid(appt))
    ev.add("dtstamp", dt.datetime.now(dt.UTC))
    ev.add("dtstart", appt.start_at.astimezone(dt.UTC))
    ev.add("dtend", appt.end_at.astimezone(dt.UTC))
    ev.add("summary", f"{appt.service.name} — {clinic or appt.branch.name}")
    ev.add("location", ", ".join(p for p in (appt.branch.name, appt.branch.address, appt.branch.city) if p))
    ev.add("description", f"{appt.doctor.full_name}")
    ev.add("sequence", int(appt.updated_at.timestamp()) % 2_000_000_000)
    ev.add("status", "CANCELLED" if appt.status == AppointmentStatus.CANCELLED else "CONFIRMED")
    cal.add_component(ev)
    return bytes(cal.to_ical())


def doctor_feed(doctor_name: str, appointments: Iterable[Appointment]) -> bytes:
    """A doctor's feed. Patients appear by initials only (no surname beyond its initial)."""
    cal = _calendar(doctor_name)
    for appt in appointments:
        ev = Event()
        ev.add("uid", _uid(appt))
        ev.add("dtstamp", appt.updated_at.astimezone(dt.UTC))
        ev.add("dtstart", appt.start_at.astimezone(dt.UTC))
        ev.add("dtend", appt.end_at.astimezone(dt.UTC))
        who = initials(appt.patient.first_name, appt.patient.last_name)
        ev.add("summary", f"{appt.service.name} — {who}")
        room = appt.room.name if appt.room_id and appt.room is not None else ""
        ev.add("location", ", ".join(p for p in (appt.branch.name, room) if p))
        ev.add("status", "CANCELLED" if appt.status == AppointmentStatus.CANCELLED else "CONFIRMED")
        cal.add_component(ev)
    return bytes(cal.to_ical())
