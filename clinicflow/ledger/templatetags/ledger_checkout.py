"""The checkout actions other apps' pages show: ``{% checkout_action appointment %}`` on the booking
app's appointment page (a "Checkout" button that opens the visit's invoice, made from the services
done the first time) and ``{% patient_checkout_action patient access %}`` on the patient card (the
patient's invoices and the visits waiting for checkout).

Booking and patients sit below the ledger and never import it: their templates load this library,
the way the appointment page shows clinical's consent flag. Only a user with the payment permission
(``wallet.move``) sees the actions (``wallet.view`` alone: the card links to the invoices); no query
is run — the checkout views check the patient's card access themselves."""

from __future__ import annotations

from typing import Any

from django import template
from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from clinicflow.booking.models import Appointment, AppointmentStatus
from clinicflow.patients.models import Patient

register = template.Library()

PAY = "wallet.move"
VIEW = "wallet.view"
NOT_BILLED = (AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW)


def _user(context: Any) -> Any:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    return user


@register.simple_tag(takes_context=True)
def checkout_action(context: Any, appointment: Appointment) -> SafeString | str:
    """For a user with ``wallet.move``: the "Checkout" button of a visit that was not cancelled or
    missed (a POST: the first open makes the invoice)."""
    user = _user(context)
    if user is None or not user.has_perm_cf(PAY) or appointment.status in NOT_BILLED:
        return ""
    request = context["request"]
    return format_html(
        '<form method="post" action="{}" class="toolbar" id="checkout-action">'
        '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
        '<button type="submit" class="btn btn-primary">{}</button></form>',
        reverse("ledger:visit_checkout", args=[appointment.pk]),
        get_token(request),
        _("Checkout"),
    )


@register.simple_tag(takes_context=True)
def patient_checkout_action(context: Any, patient: Patient, access: Any = None) -> SafeString | str:
    """On the patient card: "Checkout" (``wallet.move`` and changes allowed on this card) or
    "Invoices" (``wallet.view``), both to the patient's invoices and visits waiting for checkout."""
    user = _user(context)
    if user is None or (access is not None and (not access.opens or access.break_glass)):
        return ""
    writes = access is None or bool(access.writes)
    if user.has_perm_cf(PAY) and writes:
        label = _("Checkout")
    elif user.has_perm_cf(VIEW):
        label = _("Invoices")
    else:
        return ""
    return format_html(
        '<div class="btn-list"><a class="btn btn-sm" href="{}" id="checkout-action">{}</a></div>',
        reverse("ledger:patient_invoices", args=[patient.pk]),
        label,
    )
