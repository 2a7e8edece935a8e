"""Writes of booking, one module per part: ``resources`` (doctors, rooms, equipment), ``schedules``
(weeks, exceptions, settings), ``appointments`` (book, move, cancel, mark) with its ``rules`` (the
checks and the room lock) and ``notify`` (the outbox), ``payments``, ``waitlist`` and ``public`` (the
public booking page's codes, bookings, cancellations and moves). Each service is atomic."""

from clinicflow.booking.services.appointments import (
    MARK_FROM,
    appointment_book,
    appointment_build,
    appointment_cancel,
    appointment_mark,
    appointment_move,
    marks_allowed,
)
from clinicflow.booking.services.links import appointment_manage_link_rotate
from clinicflow.booking.services.notify import (
    CHANNELS,
    manage_path,
    message_context,
    public_base_url,
    reminder_prefix,
)
from clinicflow.booking.services.payments import payment_amount, payment_record
from clinicflow.booking.services.public import (
    CodeExpired,
    Contact,
    PublicSlot,
    TooLateToChange,
    TooManyCodes,
    WrongCode,
    booking_code_request,
    booking_code_verify,
    public_booking_create,
    public_cancel,
    public_move,
    public_slot_check,
    slot_search_throttled,
)
from clinicflow.booking.services.resources import (
    doctor_create,
    doctor_rotate_ical_token,
    doctor_set_account,
    doctor_set_links,
    doctor_update,
    equipment_create,
    room_create,
    room_update,
)
from clinicflow.booking.services.rules import save_appointment, schedule_problem
from clinicflow.booking.services.schedules import (
    exception_add,
    exception_delete,
    settings_save,
    working_week_set,
)
from clinicflow.booking.services.waitlist import waitlist_add, waitlist_close

__all__ = [
    "CHANNELS",
    "MARK_FROM",
    "CodeExpired",
    "Contact",
    "PublicSlot",
    "TooLateToChange",
    "TooManyCodes",
    "WrongCode",
    "appointment_book",
    "appointment_build",
    "appointment_cancel",
    "appointment_manage_link_rotate",
    "appointment_mark",
    "appointment_move",
    "booking_code_request",
    "booking_code_verify",
    "doctor_create",
    "doctor_rotate_ical_token",
    "doctor_set_account",
    "doctor_set_links",
    "doctor_update",
    "equipment_create",
    "exception_add",
    "exception_delete",
    "manage_path",
    "marks_allowed",
    "message_context",
    "payment_amount",
    "payment_record",
    "public_base_url",
    "public_booking_create",
    "public_cancel",
    "public_move",
    "public_slot_check",
    "reminder_prefix",
    "room_create",
    "room_update",
    "save_appointment",
    "schedule_problem",
    "settings_save",
    "slot_search_throttled",
    "waitlist_add",
    "waitlist_close",
    "working_week_set",
]
