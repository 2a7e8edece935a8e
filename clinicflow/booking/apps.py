from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BookingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "clinicflow.booking"
    label = "booking"
    timeline = "clinicflow.booking.timeline.source"  # its rows on the patient card
    nav = [
        ("booking:calendar", _("Calendar"), "booking.view", "calendar"),
        ("booking:my_schedule", _("My schedule"), "booking.own_schedule", "calendar"),
        ("booking:waitlist", _("Waitlist"), "booking.book", "calendar"),
        ("booking:setup", _("Schedules"), "booking.manage", "settings"),
    ]
