"""Patients' public booking pages (no account): choose a service, a doctor or "any", a free slot;
confirm with a 6-digit code sent by SMS or e-mail; cancel or move by the link in the confirmation
until the branch's cut-off.

Codes are stored hashed (HMAC with the secret key), expire after 10 minutes and allow 5 attempts;
code requests are rate limited per destination and per IP address."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from typing import Any

from django.conf import settings as dj_settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from clinicflow.booking import selectors, services
from clinicflow.booking.ics import appointment_ics
from clinicflow.booking.models import (
    Appointment,
    AppointmentSource,
    AppointmentStatus,
    BookingCode,
    CodeChannel,
)
from clinicflow.core.access import public_view
from clinicflow.core.errors import DomainError, NotFound, ValidationFailed
from clinicflow.core.models import Branch
from clinicflow.core.phones import InvalidPhone, normalize
from clinicflow.core.selectors import parse_uuid
from clinicflow.patients import selectors as patient_selectors
from clinicflow.patients.models import LANGUAGE_CHOICES, Patient, Source
from clinicflow.patients.services import PatientData, patient_create

CODE_TTL = dt.timedelta(minutes=10)
CODE_ATTEMPTS = 5
PER_DESTINATION = (3, dt.timedelta(minutes=15))
PER_IP = (10, dt.timedelta(hours=1))
SLOT_DAYS = 7


def _render(request: HttpRequest, template: str, ctx: dict[str, Any], status: int = 200) -> HttpResponse:
    """Render with the branch's zone active, so every time on the page is on the branch's clock."""
    branch = ctx.get("branch")
    if branch is None and ctx.get("a") is not None:
        branch = ctx["a"].branch
    if branch is None:
        return render(request, template, ctx, status=status)
    with timezone.override(branch.tz):
        return render(request, template, ctx, status=status)


def code_hash(code_id: object, code: str) -> str:
    key = dj_settings.SECRET_KEY.encode()
    return hmac.new(key, f"{code_id}:{code}".encode(), hashlib.sha256).hexdigest()


def _branch(branch_id: str) -> Branch:
    pk = parse_uuid(branch_id)
    branch = (
        Branch.objects.select_related("organization").filter(pk=pk, is_active=True).first() if pk else None
    )
    if branch is None:
        raise Http404
    return branch


def _ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def _language() -> str:
    lang = translation.get_language() or "en"
    codes = [c for c, _n in LANGUAGE_CHOICES]
    return (
        lang
        if lang in codes
        else ("zh-hans" if lang.startswith("zh") else lang[:2] if lang[:2] in codes else "en")
    )


@public_view
def branch_page(request: HttpRequest, branch_id: str) -> HttpResponse:
    """Step 1–3: service, doctor or any, a free slot (7 days from the chosen date)."""
    branch = _branch(branch_id)
    org = branch.organization
    conf = selectors.settings_for(org=org, branch=branch)
    ctx: dict[str, Any] = {"branch": branch, "org": org, "enabled": conf.online_booking_enabled}
    if not conf.online_booking_enabled:
        return _render(request, "booking/public/branch.html", ctx)
    svc_list = selectors.service_list(org=org, online_only=True, branch=branch)
    ctx["services"] = svc_list
    service = next((s for s in svc_list if str(s.pk) == request.GET.get("service", "")), None)
    if service is None:
        return _render(request, "booking/public/branch.html", ctx)
    tz = branch.tz
    now = timezone.now()
    earliest = now + dt.timedelta(hours=conf.online_booking_cutoff_hours)
    horizon = now.astimezone(tz).date() + dt.timedelta(days=conf.online_booking_horizon_days)
    today = now.astimezone(tz).date()
    try:
        day = dt.date.fromisoformat(request.GET.get("date", "")) if request.GET.get("date") else today
    except ValueError:
        day = today
    day = min(max(day, today), horizon)
    doctors = selectors.doctor_list(org=org, branch=branch, service=service)
    doctor = next((d for d in doctors if str(d.pk) == request.GET.get("doctor", "")), None)
    slots = selectors.slots_find(
        org=org,
        branch=branch,
        service=service,
        doctor=doctor,
        date_from=day,
        date_to=min(day + dt.timedelta(days=SLOT_DAYS - 1), horizon),
        limit=300,
        not_before=earliest,
    )
    # one slot per start time (whichever doctor) when "any" is chosen
    seen: set[dt.datetime] = set()
    days: dict[dt.date, list[dict[str, Any]]] = {}
    for s in slots:
        if doctor is None and s.start in seen:
            continue
        seen.add(s.start)
        local = s.start.astimezone(tz)
        days.setdefault(local.date(), []).append(
            {
                "label": local.strftime("%H:%M"),
                "start": s.start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "doctor": str(s.doctor_id),
                "doctor_name": s.doctor_name,
            }
        )
    ctx.update(
        service=service,
        doctors=doctors,
        doctor=doctor,
        day=day,
        prev=(day - dt.timedelta(days=SLOT_DAYS)).isoformat() if day > today else "",
        next=(day + dt.timedelta(days=SLOT_DAYS)).isoformat()
        if day + dt.timedelta(days=SLOT_DAYS) <= horizon
        else "",
        days=sorted(days.items()),
    )
    return _render(request, "booking/public/branch.html", ctx)


def _parse_slot(branch: Branch, request: HttpRequest) -> tuple[Any, Any, dt.datetime]:
    org = branch.organization
    service = selectors.service_get(
        org=org, service_id=request.POST.get("service") or request.GET.get("service")
    )
    if not service.is_bookable_online:
        raise ValidationFailed.field("service", "cannot be booked online")
    doctor = selectors.doctor_get(org=org, doctor_id=request.POST.get("doctor") or request.GET.get("doctor"))
    raw = request.POST.get("start") or request.GET.get("start") or ""
    try:
        start = dt.datetime.strptime(raw, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    except ValueError as exc:
        raise ValidationFailed.field("start", "unknown time") from exc
    conf = selectors.settings_for(org=org, branch=branch)
    if start < timezone.now() + dt.timedelta(hours=conf.online_booking_cutoff_hours):
        raise ValidationFailed.field("start", "is too soon to book online; please call us")
    return service, doctor, start


def _rate_limited(branch: Branch, destination: str, ip: str | None) -> bool:
    now = timezone.now()
    org = branch.organization
    n, window = PER_DESTINATION
    if (
        BookingCode.objects.for_org(org).filter(destination=destination, created_at__gte=now - window).count()
        >= n
    ):
        return True
    n, window = PER_IP
    return (
        bool(ip) and BookingCode.objects.for_org(org).filter(ip=ip, created_at__gte=now - window).count() >= n
    )


def _find_or_create_patient(branch: Branch, *, first: str, last: str, phone: str, email: str) -> Patient:
    """Match by E.164 phone, else by e-mail; otherwise create (source: direct, language: the page's)."""
    org = branch.organization
    if phone:
        found = patient_selectors.patient_find_by_phone(org=org, e164=phone)
        if found:
            return found[0]
    if email:
        match = patient_selectors.patient_duplicates(org=org, phones=[], email=email)
        if match:
            return match[0]
    return patient_create(
        org=org,
        actor=None,
        data=PatientData(
            last_name=last,
            first_name=first,
            email=email,
            phones=[phone] if phone else [],
            preferred_language=_language(),
            source=Source.DIRECT,
            branch=branch,
        ),
    )


@public_view
@require_http_methods(["GET", "POST"])
def details(request: HttpRequest, branch_id: str) -> HttpResponse:
    """Step 4: name and phone or e-mail; sends the code."""
    branch = _branch(branch_id)
    org = branch.organization
    try:
        service, doctor, start = _parse_slot(branch, request)
    except (NotFound, ValidationFailed) as exc:
        return _render(
            request, "booking/public/error.html", {"branch": branch, "message": exc.message}, status=422
        )
    ctx: dict[str, Any] = {
        "branch": branch,
        "service": service,
        "doctor": doctor,
        "start": start,
        "start_local": start.astimezone(branch.tz),
        "start_value": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "form": request.POST,
        "errors": {},
    }
    if request.method == "GET":
        return _render(request, "booking/public/details.html", ctx)
    first = request.POST.get("first_name", "").strip()[:100]
    last = request.POST.get("last_name", "").strip()[:100]
    channel = request.POST.get("channel", CodeChannel.SMS)
    errors: dict[str, str] = {}
    if not first:
        errors["first_name"] = _("Please enter your first name.")
    if not last:
        errors["last_name"] = _("Please enter your last name.")
    phone = email = ""
    if request.POST.get("phone", "").strip():
        try:
            phone = normalize(request.POST["phone"][:40], branch.country)
        except InvalidPhone:
            errors["phone"] = _("This phone number does not look right.")
    if request.POST.get("email", "").strip():
        email = request.POST["email"].strip().lower()[:254]
        try:
            validate_email(email)
        except DjangoValidationError:
            errors["email"] = _("This e-mail address does not look right.")
    if channel not in CodeChannel.values:
        channel = CodeChannel.SMS
    if channel == CodeChannel.SMS and not phone and "phone" not in errors:
        errors["phone"] = _("Enter a phone number to receive the code by SMS.")
    if channel == CodeChannel.EMAIL and not email and "email" not in errors:
        errors["email"] = _("Enter an e-mail address to receive the code by e-mail.")
    if errors:
        ctx["errors"] = errors
        return _render(request, "booking/public/details.html", ctx, status=422)
    destination = phone if channel == CodeChannel.SMS else email
    ip = _ip(request)
    if _rate_limited(branch, destination, ip):
        ctx["errors"] = {"form": _("Too many codes were requested. Please wait a few minutes and try again.")}
        return _render(request, "booking/public/details.html", ctx, status=429)
    code = f"{secrets.randbelow(10**6):06d}"
    with transaction.atomic():
        patient = _find_or_create_patient(branch, first=first, last=last, phone=phone, email=email)
        row = BookingCode(
            organization=org,
            branch=branch,
            channel=channel,
            destination=destination,
            ip=ip,
            expires_at=timezone.now() + CODE_TTL,
            payload={
                "service": str(service.pk),
                "doctor": str(doctor.pk),
                "start": ctx["start_value"],
                "patient": str(patient.pk),
                "language": _language(),
            },
        )
        row.code_hash = code_hash(row.pk, code)
        row.save(force_insert=True)
        from clinicflow.messaging.services import message_enqueue

        message_enqueue(
            org=org,
            patient=patient,
            channel=channel,
            kind="booking_code",
            context={"code": code, "branch": branch.name},
            dedupe_key=f"code:{row.pk}",
        )
    return redirect("booking_public:confirm", branch_id=branch.pk, code_id=row.pk)


@public_view
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, branch_id: str, code_id: str) -> HttpResponse:
    """Step 5: enter the code; the booking is made (or a clear message if the slot was taken)."""
    branch = _branch(branch_id)
    org = branch.organization
    pk = parse_uuid(code_id)
    row = BookingCode.objects.for_org(org).filter(pk=pk, branch=branch).first() if pk else None
    if row is None:
        raise Http404
    ctx: dict[str, Any] = {"branch": branch, "row": row, "error": ""}
    if request.method == "GET":
        return _render(request, "booking/public/confirm.html", ctx)
    now = timezone.now()
    code = "".join(ch for ch in request.POST.get("code", "") if ch.isdigit())[:6]
    with transaction.atomic():
        locked = BookingCode.objects.for_org(org).select_for_update().get(pk=row.pk)
        if locked.used_at is not None or locked.expires_at < now or locked.attempts >= CODE_ATTEMPTS:
            ctx["error"] = _("This code has expired. Please start again.")
            return _render(request, "booking/public/confirm.html", ctx, status=410)
        locked.attempts += 1
        if not hmac.compare_digest(locked.code_hash, code_hash(locked.pk, code)):
            locked.save(update_fields=["attempts"])
            ctx["error"] = _("The code is not right. Attempts left: %(n)s.") % {
                "n": CODE_ATTEMPTS - locked.attempts
            }
            return _render(request, "booking/public/confirm.html", ctx, status=422)
        locked.used_at = now
        locked.save(update_fields=["attempts", "used_at"])
    payload = row.payload
    try:
        patient = patient_selectors.patient_get(org=org, patient_id=payload["patient"])
        service = selectors.service_get(org=org, service_id=payload["service"])
        doctor = selectors.doctor_get(org=org, doctor_id=payload["doctor"])
        start = dt.datetime.strptime(payload["start"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
        appt = services.appointment_book(
            org=org,
            actor=None,
            branch=branch,
            patient=patient,
            service=service,
            doctor=doctor,
            start=start,
            source=AppointmentSource.ONLINE,
            status=AppointmentStatus.CONFIRMED,
            request=request,
        )
    except DomainError as exc:
        ctx["error"] = _("Sorry, this time is no longer available. Please choose another.")
        ctx["detail"] = exc.message
        ctx["retry"] = (
            f"{reverse('booking_public:branch', args=[branch.pk])}?service={payload.get('service', '')}"
        )
        return _render(request, "booking/public/confirm.html", ctx, status=409)
    return redirect("booking_public:manage", appointment_id=appt.pk, token=appt.manage_token)


def _manageable(appointment_id: str, token: str) -> Appointment:
    pk = parse_uuid(appointment_id)
    appt = (
        Appointment.objects.select_related("organization", "branch", "service", "doctor", "patient", "room")
        .filter(pk=pk)
        .first()
        if pk
        else None
    )
    if appt is None or not hmac.compare_digest(appt.manage_token, token[:64]):
        raise Http404
    return appt


@public_view
@require_http_methods(["GET", "POST"])
def manage(request: HttpRequest, appointment_id: str, token: str) -> HttpResponse:
    """The patient's appointment: details, calendar file, cancel or move until the cut-off."""
    appt = _manageable(appointment_id, token)
    branch, org = appt.branch, appt.organization
    conf = selectors.settings_for(org=org, branch=branch)
    now = timezone.now()
    can_change = appt.status in (
        AppointmentStatus.BOOKED,
        AppointmentStatus.CONFIRMED,
    ) and appt.start_at - now >= dt.timedelta(hours=conf.cancellation_cutoff_hours)
    ctx: dict[str, Any] = {
        "a": appt,
        "branch": branch,
        "org": org,
        "start_local": appt.start_at.astimezone(branch.tz),
        "can_change": can_change,
        "cutoff": conf.cancellation_cutoff_hours,
        "error": "",
        "slots": [],
    }
    if request.method == "POST":
        if not can_change:
            ctx["error"] = _("It is too late to change this appointment online. Please call the clinic.")
            return _render(request, "booking/public/manage.html", ctx, status=409)
        try:
            if request.POST.get("action") == "cancel":
                services.appointment_cancel(
                    org=org,
                    actor=None,
                    appointment=appt,
                    reason=request.POST.get("reason", "").strip() or "Cancelled by the patient online",
                    by_patient=True,
                    request=request,
                )
            elif request.POST.get("action") == "move":
                start = dt.datetime.strptime(request.POST.get("start", ""), "%Y-%m-%dT%H:%M:%SZ").replace(
                    tzinfo=dt.UTC
                )
                if start < now + dt.timedelta(hours=conf.online_booking_cutoff_hours):
                    raise ValidationFailed.field("start", "is too soon")
                services.appointment_move(org=org, actor=None, appointment=appt, start=start, request=request)
            return redirect("booking_public:manage", appointment_id=appt.pk, token=appt.manage_token)
        except (DomainError, ValueError):
            ctx["error"] = _("Sorry, this time is no longer available. Please choose another.")
    if can_change and request.GET.get("move"):
        tz = branch.tz
        found = selectors.slots_find(
            org=org,
            branch=branch,
            service=appt.service,
            doctor=appt.doctor,
            date_from=now.astimezone(tz).date(),
            date_to=now.astimezone(tz).date() + dt.timedelta(days=13),
            limit=40,
            not_before=now + dt.timedelta(hours=conf.online_booking_cutoff_hours),
        )
        ctx["slots"] = [
            {
                "label": s.start.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                "start": s.start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
            for s in found
        ]
    return _render(request, "booking/public/manage.html", ctx)


@public_view
def manage_ics(request: HttpRequest, appointment_id: str, token: str) -> HttpResponse:
    appt = _manageable(appointment_id, token)
    response = HttpResponse(
        appointment_ics(appt, clinic=appt.organization.name), content_type="text/calendar"
    )
    response["Content-Disposition"] = 'attachment; filename="appointment.ics"'
    return response
