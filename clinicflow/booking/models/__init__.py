"""Booking and capacity: doctors, rooms, equipment, schedules, appointments, payments, the waitlist.

Times of day (working hours, breaks, exceptions) are in the branch's local time; appointment start
and end are aware datetimes stored in UTC. ``busy_until`` = ``end_at`` + the service's buffer: the
doctor and the room are held over ``[start_at, busy_until)``, and on PostgreSQL an exclusion
constraint (migration 0002) makes two live appointments of one doctor or one room over overlapping
intervals impossible.

One module per part: ``resources`` (doctors, rooms, equipment), ``schedules`` (hours, breaks,
exceptions, per-branch settings), ``appointments``, ``payments``, ``waitlist``, ``codes`` (public
booking codes). The migrations name the defaults below by this package's path.
"""

from clinicflow.booking.models.appointments import (
    HOLDING_STATUSES,
    OPEN_STATUSES,
    Appointment,
    AppointmentSource,
    AppointmentStatus,
)
from clinicflow.booking.models.codes import BookingCode, CodeChannel
from clinicflow.booking.models.payments import Payment, PaymentKind, PaymentMethod
from clinicflow.booking.models.resources import (
    Doctor,
    DoctorBranch,
    DoctorService,
    Equipment,
    Room,
    new_token,
)
from clinicflow.booking.models.schedules import (
    BookingSettings,
    ExceptionKind,
    ScheduleBreak,
    ScheduleException,
    Weekday,
    WorkingHours,
    default_reminder_channels,
    default_reminder_offsets,
)
from clinicflow.booking.models.waitlist import WaitlistEntry, WaitlistStatus

__all__ = [
    "HOLDING_STATUSES",
    "OPEN_STATUSES",
    "Appointment",
    "AppointmentSource",
    "AppointmentStatus",
    "BookingCode",
    "BookingSettings",
    "CodeChannel",
    "Doctor",
    "DoctorBranch",
    "DoctorService",
    "Equipment",
    "ExceptionKind",
    "Payment",
    "PaymentKind",
    "PaymentMethod",
    "Room",
    "ScheduleBreak",
    "ScheduleException",
    "WaitlistEntry",
    "WaitlistStatus",
    "Weekday",
    "WorkingHours",
    "default_reminder_channels",
    "default_reminder_offsets",
    "new_token",
]
