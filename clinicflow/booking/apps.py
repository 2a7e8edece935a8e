from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BookingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "clinicflow.booking"
    label = "booking"
    nav = [
        ("booking:calendar", _("Calendar"), "booking.view"),
        ("booking:my_schedule", _("My schedule"), "booking.own_schedule"),
        ("booking:waitlist", _("Waitlist"), "booking.book"),
        ("booking:setup", _("Schedules"), "booking.manage"),
    ]
