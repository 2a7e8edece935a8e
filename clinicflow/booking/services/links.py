"""A patient's manage link issued anew by staff (the old one stops working at once)."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from clinicflow.accounts.models import User
from clinicflow.booking.models import Appointment
from clinicflow.booking.services.appointments import CHANGEABLE
from clinicflow.booking.services.checks import same_org
from clinicflow.booking.services.notify import appointment_notify, reminders_cancel
from clinicflow.core.audit import audit_record
from clinicflow.core.models import AuditAction, Organization


@transaction.atomic
def appointment_manage_link_rotate(
    *,
    org: Organization,
    actor: User | None,
    appointment: Appointment,
    request: HttpRequest | None = None,
) -> Appointment:
    """Issue a new manage link: the appointment's ``manage_version`` goes up, so every older link
    answers "expired" from now on (audited). While the visit is open and ahead, the patient is sent
    the confirmation again with the new link, and the queued reminders and notices, which carry the
    old link, are written again with the new one."""
    same_org(org, appointment=appointment)
    locked = (
        Appointment.objects.for_org(org).select_for_update().only("manage_version").get(pk=appointment.pk)
    )
    appointment.manage_version = locked.manage_version + 1
    appointment.save(update_fields=["manage_version"])
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="appointment",
        object_id=appointment.pk,
        fields=["manage_version"],
        request=request,
    )
    if appointment.status in CHANGEABLE and appointment.start_at > timezone.now():
        reminders_cancel(org, appointment)
        appointment_notify(
            appointment,
            "appointment_confirmation",
            tag=f"link{appointment.manage_version}",
            with_ics=False,
            reminders=True,
        )
    return appointment
