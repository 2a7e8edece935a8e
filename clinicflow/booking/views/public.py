"""Patients' public booking pages (no account): choose a service, a doctor or "any", a free slot;
confirm with a 6-digit code sent by SMS or e-mail; cancel or move by the link in the confirmation
until the branch's cut-off. The codes, the booking and the changes are services
(``clinicflow.booking.services.public``)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from clinicflow.booking import selectors, services
from clinicflow.booking.forms.public import (
    BranchPageForm,
    CodeForm,
    DetailsForm,
    PatientCancelForm,
    PatientMoveForm,
    SlotForm,
)
from clinicflow.booking.ics import appointment_ics
from clinicflow.booking.links import manage_expires_at, manage_token
from clinicflow.booking.models import Appointment, BookingSettings, Doctor
from clinicflow.booking.referrals import clean_ref, referral_link_online
from clinicflow.booking.selectors import Slot
from clinicflow.booking.services.public import format_start, patient_language, patient_may_change
from clinicflow.catalogue.models import Service
from clinicflow.core.access import public_view
from clinicflow.core.errors import DomainError
from clinicflow.core.formatting import fmt_datetime
from clinicflow.core.models import Branch
from clinicflow.core.net import client_ip
from clinicflow.core.web import get_or_404, render_in_zone
from clinicflow.messaging.channels.registry import demo_inbox_chosen

SLOT_DAYS = 7
MOVE_DAYS = 14


def _branch(branch_id: str) -> Branch:
    return get_or_404(selectors.public_branch_get, branch_id=branch_id)


def _day_slots(
    slots: list[Slot], *, any_doctor: bool, tz: ZoneInfo
) -> list[tuple[dt.date, list[dict[str, str]]]]:
    """Slots by local day; one per start time (whichever doctor) when "any" is chosen."""
    seen: set[dt.datetime] = set()
    days: dict[dt.date, list[dict[str, str]]] = {}
    for s in slots:
        if any_doctor and s.start in seen:
            continue
        seen.add(s.start)
        local = s.start.astimezone(tz)
        days.setdefault(local.date(), []).append(
            {
                "label": local.strftime("%H:%M"),
                "start": format_start(s.start),
                "doctor": str(s.doctor_id),
                "doctor_name": s.doctor_name,
            }
        )
    return sorted(days.items())


def _slot_page(
    branch: Branch, conf: BookingSettings, service: Service, doctor: Doctor | None, asked: dt.date | None
) -> dict[str, Any]:
    """Step 3: the free times of ``SLOT_DAYS`` days from the asked day (inside the horizon)."""
    now = timezone.now()
    today = now.astimezone(branch.tz).date()
    horizon = today + dt.timedelta(days=conf.online_booking_horizon_days)
    day = min(max(asked or today, today), horizon)
    week = dt.timedelta(days=SLOT_DAYS)
    slots = selectors.slots_find(
        org=branch.organization,
        branch=branch,
        service=service,
        doctor=doctor,
        date_from=day,
        date_to=min(day + week - dt.timedelta(days=1), horizon),
        limit=300,
        not_before=now + dt.timedelta(hours=conf.online_booking_cutoff_hours),
        one_per_start=doctor is None,
    )
    return {
        "day": day,
        "prev": (day - week).isoformat() if day > today else "",
        "next": (day + week).isoformat() if day + week <= horizon else "",
        "days": _day_slots(slots, any_doctor=doctor is None, tz=branch.tz),
    }


def _too_many_searches(request: HttpRequest, branch: Branch) -> HttpResponse:
    message = _("Too many searches. Please wait a minute and try again.")
    response = render_in_zone(
        request, "booking/public/error.html", {"branch": branch, "message": message}, status=429
    )
    response["Retry-After"] = "60"
    return response


@public_view
def branch_page(request: HttpRequest, branch_id: str) -> HttpResponse:
    """Step 1–3: service, doctor or any, a free slot (7 days from the chosen date)."""
    branch = _branch(branch_id)
    org = branch.organization
    conf = selectors.settings_for(org=org, branch=branch)
    ctx: dict[str, Any] = {"branch": branch, "org": org, "enabled": conf.online_booking_enabled}
    ctx["ref"] = clean_ref(request.GET.get("ref"))  # a friend's referral code, kept through the steps
    if not conf.online_booking_enabled:
        return render_in_zone(request, "booking/public/branch.html", ctx)
    service_id, doctor_id, asked = BranchPageForm(request.GET).values()
    ctx["services"] = selectors.service_list(org=org, online_only=True, branch=branch)
    service = next((s for s in ctx["services"] if str(s.pk) == service_id), None)
    if service is not None and services.slot_search_throttled(org=org, ip=client_ip(request)):
        return _too_many_searches(request, branch)
    if service is not None:
        doctors = selectors.doctor_list(org=org, branch=branch, service=service)
        doctor = next((d for d in doctors if str(d.pk) == doctor_id), None)
        ctx.update(service=service, doctors=doctors, doctor=doctor)
        ctx.update(_slot_page(branch, conf, service, doctor, asked))
    return render_in_zone(request, "booking/public/branch.html", ctx)


@public_view
@require_http_methods(["GET", "POST"])
def details(request: HttpRequest, branch_id: str) -> HttpResponse:
    """Step 4: name and phone or e-mail; sends the code."""
    branch = _branch(branch_id)
    org = branch.organization
    data = request.POST if request.method == "POST" else request.GET
    try:
        service_id, doctor_id, start = SlotForm(data).slot()
        slot = services.public_slot_check(
            org=org, branch=branch, service_id=service_id, doctor_id=doctor_id, start=start
        )
    except DomainError as exc:
        return render_in_zone(
            request, "booking/public/error.html", {"branch": branch, "message": exc.message}, status=422
        )
    ctx: dict[str, Any] = {
        "branch": branch,
        "service": slot.service,
        "doctor": slot.doctor,
        "start": slot.start,
        "start_local": slot.start.astimezone(branch.tz),
        "start_value": format_start(slot.start),
        "form": request.POST,
        "errors": {},
        "ref": clean_ref(data.get("ref")),
    }
    if request.method == "GET":
        return render_in_zone(request, "booking/public/details.html", ctx)
    form = DetailsForm(request.POST, country=branch.country)
    if not form.is_valid():
        ctx["errors"] = form.messages()
        return render_in_zone(request, "booking/public/details.html", ctx, status=422)
    try:
        row = services.booking_code_request(
            org=org,
            branch=branch,
            slot=slot,
            contact=form.contact(),
            ip=client_ip(request),
            language=patient_language(translation.get_language()),
        )
    except services.TooManyCodes:
        ctx["errors"] = {"form": _("Too many codes were requested. Please wait a few minutes and try again.")}
        return render_in_zone(request, "booking/public/details.html", ctx, status=429)
    confirm_url = reverse("booking_public:confirm", args=[branch.pk, row.pk])
    return redirect(f"{confirm_url}?ref={ctx['ref']}" if ctx["ref"] else confirm_url)


@public_view
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, branch_id: str, code_id: str) -> HttpResponse:
    """Step 5: enter the code; the booking is made (or a clear message if the slot was taken)."""
    branch = _branch(branch_id)
    org = branch.organization
    row = get_or_404(selectors.booking_code_get, org=org, branch=branch, code_id=code_id)
    ref = clean_ref(request.POST.get("ref") or request.GET.get("ref"))  # a friend's code, kept
    ctx: dict[str, Any] = {
        "branch": branch, "row": row, "error": "", "demo_inbox": demo_inbox_chosen(), "ref": ref,
    }  # fmt: skip
    if request.method == "GET":
        return render_in_zone(request, "booking/public/confirm.html", ctx)
    form = CodeForm(request.POST)
    code = form.cleaned_data["code"] if form.is_valid() else ""  # e.g. a NUL in it: a wrong code
    try:
        appt = services.public_booking_create(org=org, branch=branch, row=row, code=code, request=request)
    except services.CodeExpired:
        ctx["error"] = _("This code has expired. Please start again.")
        return render_in_zone(request, "booking/public/confirm.html", ctx, status=410)
    except services.WrongCode as exc:
        ctx["error"] = _("The code is not right. Attempts left: %(n)s.") % {"n": exc.attempts_left}
        return render_in_zone(request, "booking/public/confirm.html", ctx, status=422)
    except DomainError as exc:
        ctx["error"] = _("Sorry, this time is no longer available. Please choose another.")
        ctx["detail"] = exc.message
        ctx["retry"] = (
            f"{reverse('booking_public:branch', args=[branch.pk])}?service={row.payload.get('service', '')}"
            + (f"&ref={ref}" if ref else "")
        )
        return render_in_zone(request, "booking/public/confirm.html", ctx, status=409)
    if ref:
        referral_link_online(org=org, patient=appt.patient, code=ref)
    return _to_manage(appt)


def _to_manage(appt: Appointment) -> HttpResponse:
    return redirect("booking_public:manage", appointment_id=appt.pk, token=manage_token(appt))


def _manageable(request: HttpRequest, appointment_id: str, token: str) -> Appointment | HttpResponse:
    """The appointment the link opens; 404 for a link not signed for it, the "expired" page (410)
    for an older link (staff issued a new one) or one past the visit's end and its grace period."""
    try:
        return get_or_404(selectors.appointment_for_manage, appointment_id=appointment_id, token=token)
    except selectors.LinkExpired:
        response = render_in_zone(request, "booking/public/link_expired.html", {}, status=410)
        response["Cache-Control"] = "no-store"
        return response


def _manage_page(
    request: HttpRequest, appt: Appointment, *, error: str = "", status: int = 200, move: bool = False
) -> HttpResponse:
    """The patient's appointment: details, calendar file, and the changes possible until the cut-off
    (with the free times to move to when ``move``)."""
    branch, org = appt.branch, appt.organization
    conf = selectors.settings_for(org=org, branch=branch)
    can_change = patient_may_change(appt, conf)
    ctx: dict[str, Any] = {
        "a": appt,
        "token": manage_token(appt),
        "expires_at": manage_expires_at(appt).astimezone(branch.tz),
        "branch": branch,
        "org": org,
        "start_local": appt.start_at.astimezone(branch.tz),
        "can_change": can_change,
        "cutoff": conf.cancellation_cutoff_hours,
        "error": error,
        "slots": [],
    }
    if can_change and move:
        now = timezone.now()
        today = now.astimezone(branch.tz).date()
        found = selectors.slots_find(
            org=org,
            branch=branch,
            service=appt.service,
            doctor=appt.doctor,
            date_from=today,
            date_to=today + dt.timedelta(days=MOVE_DAYS - 1),
            limit=40,
            not_before=now + dt.timedelta(hours=conf.online_booking_cutoff_hours),
        )
        ctx["slots"] = [
            {
                "label": fmt_datetime(s.start, branch.tz),
                "start": format_start(s.start),
            }
            for s in found
        ]
    return render_in_zone(request, "booking/public/manage.html", ctx, status=status)


@public_view
def manage(request: HttpRequest, appointment_id: str, token: str) -> HttpResponse:
    """The patient's appointment: details, calendar file, cancel or move until the cut-off."""
    appt = _manageable(request, appointment_id, token)
    if isinstance(appt, HttpResponse):
        return appt
    move = bool(request.GET.get("move"))
    if move and services.slot_search_throttled(org=appt.organization, ip=client_ip(request)):
        return _too_many_searches(request, appt.branch)
    return _manage_page(request, appt, move=move)


def _change(request: HttpRequest, appt: Appointment, error: DomainError) -> HttpResponse:
    if isinstance(error, services.TooLateToChange):
        message = _("It is too late to change this appointment online. Please call the clinic.")
        return _manage_page(request, appt, error=message, status=409)
    return _manage_page(
        request, appt, error=_("Sorry, this time is no longer available. Please choose another.")
    )


@public_view
@require_POST
def manage_cancel(request: HttpRequest, appointment_id: str, token: str) -> HttpResponse:
    appt = _manageable(request, appointment_id, token)
    if isinstance(appt, HttpResponse):
        return appt
    form = PatientCancelForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""  # e.g. a NUL in it: no reason
    try:
        services.public_cancel(org=appt.organization, appointment=appt, reason=reason, request=request)
    except DomainError as exc:
        return _change(request, appt, exc)
    return _to_manage(appt)


@public_view
@require_POST
def manage_move(request: HttpRequest, appointment_id: str, token: str) -> HttpResponse:
    appt = _manageable(request, appointment_id, token)
    if isinstance(appt, HttpResponse):
        return appt
    try:
        start = PatientMoveForm(request.POST).start_at()  # None: not a time the page wrote
        services.public_move(org=appt.organization, appointment=appt, start=start, request=request)
    except DomainError as exc:
        return _change(request, appt, exc)
    return _to_manage(appt)


@public_view
def manage_ics(request: HttpRequest, appointment_id: str, token: str) -> HttpResponse:
    appt = _manageable(request, appointment_id, token)
    if isinstance(appt, HttpResponse):
        return appt
    response = HttpResponse(
        appointment_ics(appt, clinic=appt.organization.name), content_type="text/calendar"
    )
    response["Content-Disposition"] = 'attachment; filename="appointment.ics"'
    return response
