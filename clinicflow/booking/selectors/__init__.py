"""Reads of booking data, one module per part: ``resources`` (doctors, rooms, equipment),
``schedules`` (weeks, exceptions, closures, settings), ``appointments``, ``slots`` (the free-slot
search), ``waitlist``, ``payments``, ``public`` (the public booking pages) and ``catalogue`` (the
service reads booking needs). Every function takes the organisation first, except the three entries
by a public key: a public page's branch, a manage link's appointment, an iCalendar feed's doctor."""

from clinicflow.booking.selectors.appointments import (
    AppointmentFilters,
    LinkExpired,
    appointment_for_manage,
    appointment_get,
    appointment_list,
    calendar_appointments,
    doctor_feed_appointments,
    doctor_upcoming,
    is_first_visit,
    live_rows,
    taken_by_doctor_and_rooms,
)
from clinicflow.booking.selectors.base import MAX_APPOINTMENT
from clinicflow.booking.selectors.catalogue import price_for, service_get, service_list
from clinicflow.booking.selectors.payments import payment_due, payment_list
from clinicflow.booking.selectors.public import booking_code_get, public_branch_get
from clinicflow.booking.selectors.resources import (
    doctor_branch_ids,
    doctor_by_ical_token,
    doctor_for_user,
    doctor_get,
    doctor_links,
    doctor_list,
    doctor_names,
    doctor_performs_and_works,
    equipment_list,
    room_get,
    room_ids,
    room_list,
)
from clinicflow.booking.selectors.schedules import (
    day_bounds,
    doctor_week,
    exception_get,
    exception_list,
    room_closures,
    schedules_load,
    settings_for,
)
from clinicflow.booking.selectors.slots import Slot, slots_find
from clinicflow.booking.selectors.waitlist import waitlist_entry_get, waitlist_list, waitlist_waiting_for

__all__ = [
    "MAX_APPOINTMENT",
    "AppointmentFilters",
    "LinkExpired",
    "Slot",
    "appointment_for_manage",
    "appointment_get",
    "appointment_list",
    "booking_code_get",
    "calendar_appointments",
    "day_bounds",
    "doctor_branch_ids",
    "doctor_by_ical_token",
    "doctor_feed_appointments",
    "doctor_for_user",
    "doctor_get",
    "doctor_links",
    "doctor_list",
    "doctor_names",
    "doctor_performs_and_works",
    "doctor_upcoming",
    "doctor_week",
    "equipment_list",
    "exception_get",
    "exception_list",
    "is_first_visit",
    "live_rows",
    "payment_due",
    "payment_list",
    "price_for",
    "public_branch_get",
    "room_closures",
    "room_get",
    "room_ids",
    "room_list",
    "schedules_load",
    "service_get",
    "service_list",
    "settings_for",
    "slots_find",
    "taken_by_doctor_and_rooms",
    "waitlist_entry_get",
    "waitlist_list",
    "waitlist_waiting_for",
]
