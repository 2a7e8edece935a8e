"""``{% consent_flag appointment %}``: the "consent missing" badge on the booking app's appointment
page (booking sits below clinical and cannot call its selectors; the template loads this tag)."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from clinicflow.booking.models import Appointment
from clinicflow.clinical.selectors.consents import missing_for_appointment

register = template.Library()


@register.simple_tag(takes_context=True)
def consent_flag(context: dict[str, Any], appointment: Appointment) -> SafeString | str:
    """For a user with ``consents.missing``: a badge per consent the patient has not signed for this
    (open, today's or later) appointment, with the tablet page's link for a user with ``consents.sign``."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.has_perm_cf("consents.missing"):
        return ""
    missing = missing_for_appointment(org=user.organization, appointment=appointment)
    if not missing:
        return ""
    can_sign = user.has_perm_cf("consents.sign")
    items = format_html_join(
        " ",
        '<a class="btn btn-sm btn-outline-danger" href="{}">{}</a>' if can_sign else "<span>{1}</span>",
        (
            (
                reverse("clinical:consent_sign", args=[appointment.patient_id, t.pk]) if can_sign else "",
                t.name,
            )
            for t in missing
        ),
    )
    return format_html(
        '<div class="alert alert-warning d-flex flex-wrap gap-2 align-items-center" id="consent-missing">'
        '<span class="badge bg-danger">{}</span> {}</div>',
        _("Consent missing"),
        items,
    )
