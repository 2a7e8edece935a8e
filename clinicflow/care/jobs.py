"""The care app's periodic jobs (``CareConfig.periodic``): each takes no arguments, does a bounded,
idempotent unit of work over every organisation and returns a one-line summary."""

from __future__ import annotations

from django.utils import timezone

from clinicflow.care.selectors.jobs import done_unhandled, organizations, thanks_due
from clinicflow.care.services.followups import tasks_mark_missed
from clinicflow.care.services.generation import followups_generate_for, thank_you_send
from clinicflow.care.services.recall import recall_bookings_link as link_bookings


def followups_generate() -> str:
    """Tasks for the visits done in the last three days that have none yet."""
    now = timezone.now()
    visits = tasks = 0
    for org in organizations():
        appts = done_unhandled(org=org, now=now)
        visits += len(appts)
        tasks += followups_generate_for(org=org, appointments=appts)
    return f"visits={visits} tasks={tasks}"


def thanks_send() -> str:
    """Thank-you messages for done visits within 48 hours."""
    now = timezone.now()
    visits = queued = 0
    for org in organizations():
        for appt in thanks_due(org=org, now=now):
            visits += 1
            queued += thank_you_send(org=org, appointment=appt, now=now)
    return f"visits={visits} messages={queued}"


def tasks_expire() -> str:
    now = timezone.now()
    missed = sum(tasks_mark_missed(org=org, now=now) for org in organizations())
    return f"missed={missed}"


def recall_bookings_link() -> str:
    now = timezone.now()
    linked = sum(link_bookings(org=org, now=now) for org in organizations())
    return f"linked={linked}"
