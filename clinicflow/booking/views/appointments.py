"""Free-slot search, booking, an appointment's card and its actions (move, cancel, mark, pay): one
endpoint per action, each redirecting back to the card with a message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from clinicflow.accounts.access import AuthedRequest, require_perm
from clinicflow.booking import selectors, services
from clinicflow.booking.forms.appointments import (
    BookForm,
    CancelForm,
    MarkForm,
    MoveForm,
    PatientPickForm,
    PaymentForm,
    SlotSearchForm,
)
from clinicflow.booking.forms.base import cleaned, on_branch_clock
from clinicflow.booking.links import manage_expires_at
from clinicflow.booking.models import Appointment, AppointmentStatus, PaymentMethod, Weekday
from clinicflow.catalogue.models import Service
from clinicflow.core.audit import audit_record
from clinicflow.core.errors import DomainError, NotFound
from clinicflow.core.models import AuditAction, Branch, Organization
from clinicflow.core.selectors import branch_list
from clinicflow.core.web import branch_from_request, flash_error, get_or_404, render_in_zone, safe_next
from clinicflow.patients.selectors import PatientFilters, patient_get, patient_list

SEARCH_LIMIT = 40


def _slot_rows(
    org: Organization, branch: Branch, service: Service, form: SlotSearchForm
) -> list[dict[str, Any]]:
    data = form.cleaned_data
    doctor = selectors.doctor_get(org=org, doctor_id=data["doctor"]) if data["doctor"] else None
    d0, d1 = form.period(timezone.now().astimezone(branch.tz).date())
    time_from, time_to = form.times()
    slots = selectors.slots_find(
        org=org,
        branch=branch,
        service=service,
        doctor=doctor,
        date_from=d0,
        date_to=d1,
        limit=SEARCH_LIMIT,
        weekdays=data["weekday"] or None,
        time_from=time_from,
        time_to=time_to,
    )
    rooms = {r.pk: r.name for r in selectors.room_list(org=org, branch=branch)}
    tz = branch.tz
    return [
        {
            "start": s.start.astimezone(tz),
            "value": s.start.astimezone(tz).strftime("%Y-%m-%dT%H:%M"),
            "doctor_id": s.doctor_id,
            "doctor": s.doctor_name,
            "room": rooms.get(s.room_id, "") if s.room_id else "",
        }
        for s in slots
    ]


@require_perm("booking.book")
def slot_search(request: AuthedRequest) -> HttpResponse:
    """ "First free laser slot with any doctor who does it, Saturday morning"."""
    org = request.org
    branch = branch_from_request(request, org)
    form = SlotSearchForm(request.GET)
    ctx: dict[str, Any] = {
        "branch": branch,
        "branches": branch_list(org=org),
        "services": selectors.service_list(org=org, branch=branch),
        "weekdays": Weekday.choices,
        "slots": None,
        "q": request.GET,
        "patient": None,
    }
    if request.GET.get("patient"):
        try:
            ctx["patient"] = patient_get(org=org, patient_id=request.GET["patient"])
        except NotFound:
            messages.error(request, _("Unknown patient."))
    if request.GET.get("service"):
        try:
            cleaned(form)
            service = selectors.service_get(org=org, service_id=form.cleaned_data["service"])
            ctx["slots"] = _slot_rows(org, branch, service, form)
            ctx["service"] = service
            ctx["doctors"] = selectors.doctor_list(org=org, branch=branch, service=service)
        except DomainError as exc:
            flash_error(request, exc)
    return render_in_zone(request, "booking/slots.html", ctx)


@require_perm("booking.book")
def patient_pick(request: AuthedRequest) -> HttpResponse:
    """Find the patient to book for (name, phone or e-mail)."""
    form = PatientPickForm(request.GET)
    form.is_valid()
    q, next_url = form.cleaned_data.get("q", ""), safe_next(request, form.cleaned_data.get("next"))
    filters = PatientFilters(q=q, search_contacts=request.user.has_perm_cf("patients.view_contacts"))
    found = list(patient_list(org=request.org, filters=filters)[:20]) if q.strip() else []
    return render_in_zone(request, "booking/patient_pick.html", {"q": q, "found": found, "next": next_url})


def _book(request: AuthedRequest, branch: Branch) -> Appointment:
    org = request.org
    data = cleaned(BookForm(request.POST))
    appt = services.appointment_book(
        org=org,
        actor=request.user,
        branch=branch,
        patient=patient_get(org=org, patient_id=data["patient"]),
        service=selectors.service_get(org=org, service_id=data["service"]),
        doctor=selectors.doctor_get(org=org, doctor_id=data["doctor"]),
        start=on_branch_clock(data["start"], branch.tz),
        notes=data["notes"],
        request=request,
    )
    if data["waitlist"]:
        try:
            entry = selectors.waitlist_entry_get(org=org, entry_id=data["waitlist"])
        except NotFound:
            return appt
        services.waitlist_close(org=org, actor=request.user, entry=entry, appointment=appt)
    return appt


@require_POST
@require_perm("booking.book")
def appointment_create(request: AuthedRequest) -> HttpResponse:
    """Book a slot from the search or the waitlist (closing the waitlist entry it was offered to)."""
    branch = branch_from_request(request, request.org)
    try:
        appt = _book(request, branch)
    except DomainError as exc:
        flash_error(request, exc)
        return redirect(safe_next(request, request.META.get("HTTP_REFERER")) or reverse("booking:slots"))
    messages.success(request, _("Booked."))
    return redirect("booking:appointment", appointment_id=appt.pk)


@require_perm("booking.view", audit_object="appointment")
def appointment_detail(request: AuthedRequest, appointment_id: str) -> HttpResponse:
    appt = get_or_404(selectors.appointment_get, org=request.org, appointment_id=appointment_id)
    audit_record(
        org=request.org,
        actor=request.user,
        action=AuditAction.VIEW,
        object_type="appointment",
        object_id=appt.pk,
        request=request,
    )
    tz = appt.branch.tz
    can_book = request.user.has_perm_cf("booking.book")
    payments = selectors.payment_list(org=request.org, appointment=appt)
    return render_in_zone(
        request,
        "booking/appointment.html",
        {
            "a": appt,
            "manage_url": services.public_base_url() + services.manage_path(appt) if can_book else "",
            "manage_expires": manage_expires_at(appt).astimezone(tz),
            "local_start": appt.start_at.astimezone(tz),
            "local_end": appt.end_at.astimezone(tz),
            "payments": payments,
            "due": selectors.payment_due(appt, payments),  # the form's amount: what is left to pay
            "methods": PaymentMethod.choices,
            "can_book": can_book,
            "marks": services.marks_allowed(appt),
            "status_labels": dict(AppointmentStatus.choices),
        },
        branch=appt.branch,
    )


def _act(
    request: AuthedRequest, appointment_id: str, action: Callable[[Appointment], object], done: str
) -> HttpResponse:
    """Run one action on the organisation's appointment (404 for another's) and go back to its card
    with ``done`` or the error."""
    appt = get_or_404(selectors.appointment_get, org=request.org, appointment_id=appointment_id)
    try:
        action(appt)
    except DomainError as exc:
        flash_error(request, exc)
    else:
        messages.success(request, done)
    return redirect("booking:appointment", appointment_id=appt.pk)


@require_POST
@require_perm("booking.book")
def appointment_move(request: AuthedRequest, appointment_id: str) -> HttpResponse:
    org = request.org

    def move(appt: Appointment) -> object:
        data = cleaned(MoveForm(request.POST))
        doctor = selectors.doctor_get(org=org, doctor_id=data["doctor"]) if data["doctor"] else None
        start = on_branch_clock(data["start"], appt.branch.tz)
        return services.appointment_move(
            org=org, actor=request.user, appointment=appt, start=start, doctor=doctor, request=request
        )

    return _act(request, appointment_id, move, _("Moved."))


@require_POST
@require_perm("booking.book")
def appointment_cancel(request: AuthedRequest, appointment_id: str) -> HttpResponse:
    def cancel(appt: Appointment) -> object:
        reason = cleaned(CancelForm(request.POST))["reason"]
        return services.appointment_cancel(
            org=request.org, actor=request.user, appointment=appt, reason=reason, request=request
        )

    return _act(request, appointment_id, cancel, _("Cancelled."))


@require_POST
@require_perm("booking.book")
def appointment_mark(request: AuthedRequest, appointment_id: str) -> HttpResponse:
    def mark(appt: Appointment) -> object:
        status = cleaned(MarkForm(request.POST))["status"]
        return services.appointment_mark(
            org=request.org, actor=request.user, appointment=appt, status=status, request=request
        )

    return _act(request, appointment_id, mark, _("Status changed."))


@require_POST
@require_perm("booking.book")
def appointment_pay(request: AuthedRequest, appointment_id: str) -> HttpResponse:
    def pay(appt: Appointment) -> object:
        data = cleaned(PaymentForm(request.POST))
        return services.payment_record(
            org=request.org,
            actor=request.user,
            patient=appt.patient,
            branch=appt.branch,
            appointment=appt,
            amount=services.payment_amount(data["amount"], None, branch=appt.branch),
            method=data["method"],
            kind=data["kind"],
        )

    return _act(request, appointment_id, pay, _("Payment recorded."))


@require_POST
@require_perm("booking.book")
def appointment_link(request: AuthedRequest, appointment_id: str) -> HttpResponse:
    """Issue the patient a new manage link; the old one answers "expired" from now on."""

    def rotate(appt: Appointment) -> object:
        return services.appointment_manage_link_rotate(
            org=request.org, actor=request.user, appointment=appt, request=request
        )

    return _act(request, appointment_id, rotate, _("A new link was issued; the old one no longer works."))
