"""Staff booking pages: the calendar (day/week, by doctor or room, in the branch's zone), free-slot
search, an appointment's card with its actions, the waitlist, resources and schedules, a doctor's own
schedule and the iCalendar feed (the capacity heat map is in analytics). Thin: selectors and services
do the work."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from clinicflow.accounts.access import AuthedRequest, require_perm
from clinicflow.booking import selectors, services
from clinicflow.booking.ics import doctor_feed
from clinicflow.booking.models import (
    Appointment,
    AppointmentStatus,
    Doctor,
    Equipment,
    ExceptionKind,
    PaymentMethod,
    ScheduleException,
    Weekday,
    WorkingHours,
)
from clinicflow.catalogue.models import RoomType
from clinicflow.core.access import public_view
from clinicflow.core.errors import DomainError, NotFound, ValidationFailed
from clinicflow.core.models import Branch
from clinicflow.core.selectors import branch_find, branch_list, parse_uuid
from clinicflow.patients.selectors import PatientFilters, patient_get, patient_list

# --- parsing helpers -------------------------------------------------------------------------------


def _date(value: str | None, default: dt.date, name: str = "date") -> dt.date:
    if not value:
        return default
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError as exc:
        raise ValidationFailed.field(name, "must be a date as YYYY-MM-DD") from exc


def _time(value: str | None, name: str, *, required: bool = True) -> dt.time | None:
    value = (value or "").strip()
    if not value:
        if required:
            raise ValidationFailed.field(name, "is required")
        return None
    try:
        return dt.time.fromisoformat(value)
    except ValueError as exc:
        raise ValidationFailed.field(name, "must be a time as HH:MM") from exc


def local_start(branch: Branch, value: str, name: str = "start") -> dt.datetime:
    """A ``datetime-local`` value read on the branch's wall clock."""
    try:
        naive = dt.datetime.fromisoformat((value or "").strip())
    except ValueError as exc:
        raise ValidationFailed.field(name, "must be a date and time") from exc
    if naive.tzinfo is not None:
        return naive
    from clinicflow.booking.availability import local_dt

    return local_dt(naive.date(), naive.time(), branch.tz)


def _branch(request: AuthedRequest) -> Branch:
    branches = branch_list(org=request.org)
    key = request.GET.get("branch") or request.POST.get("branch") or ""
    if key:
        branch = branch_find(org=request.org, key=key)
        if branch is None:
            raise Http404
        return branch
    if not branches:
        raise Http404
    return branches[0]


def _obj(func: Any, **kwargs: Any) -> Any:
    try:
        return func(**kwargs)
    except NotFound as exc:
        raise Http404 from exc


def _uuid(value: object) -> Any:
    pk = parse_uuid(value)
    if pk is None:
        raise Http404
    return pk


def _render(request: HttpRequest, template: str, ctx: dict[str, Any], status: int = 200) -> HttpResponse:
    """Render with the branch's zone active, so every time on the page is on the branch's clock."""
    branch = ctx.get("branch")
    if branch is None and ctx.get("a") is not None:
        branch = ctx["a"].branch
    if branch is None:
        return render(request, template, ctx, status=status)
    with timezone.override(branch.tz):
        return render(request, template, ctx, status=status)


def _fail(request: HttpRequest, exc: DomainError) -> None:
    messages.error(request, str(exc.message))


# --- calendar --------------------------------------------------------------------------------------


@require_perm("booking.view")
def calendar(request: AuthedRequest) -> HttpResponse:
    """Day or week, columns by doctor or room, times on the branch's clock."""
    org = request.org
    branch = _branch(request)
    tz = branch.tz
    today = timezone.now().astimezone(tz).date()
    try:
        day = _date(request.GET.get("date"), today)
    except ValidationFailed:
        day = today
    view = request.GET.get("view", "day")
    by = request.GET.get("by", "doctor")
    view = view if view in ("day", "week") else "day"
    by = by if by in ("doctor", "room") else "doctor"
    first = day - dt.timedelta(days=day.weekday()) if view == "week" else day
    days = [first + dt.timedelta(days=i) for i in range(7 if view == "week" else 1)]
    start, end = selectors.day_bounds(branch, days[0], days[-1])
    appts = selectors.calendar_appointments(org=org, branch=branch, start=start, end=end)
    if by == "doctor":
        columns = [(d.pk, d.full_name) for d in selectors.doctor_list(org=org, branch=branch)]
        key = "doctor_id"
    else:
        columns = [(r.pk, r.name) for r in selectors.room_list(org=org, branch=branch)]
        key = "room_id"
    seen = {c[0] for c in columns}
    for a in appts:
        if getattr(a, key) not in seen and getattr(a, key) is not None:
            obj = a.doctor if by == "doctor" else a.room
            columns.append((getattr(a, key), str(obj)))
            seen.add(getattr(a, key))
    cells: dict[tuple[Any, Any], list[Appointment]] = defaultdict(list)
    hours: set[int] = set(range(8, 20))
    for a in appts:
        local = a.start_at.astimezone(tz)
        a.local_start = local  # type: ignore[attr-defined]
        a.local_end = a.end_at.astimezone(tz)  # type: ignore[attr-defined]
        row = local.hour if view == "day" else local.date()
        hours.add(local.hour)
        cells[(row, getattr(a, key))].append(a)
    if view == "day":
        rows = [(f"{h:02d}:00", [(c, cells.get((h, c[0]), [])) for c in columns]) for h in sorted(hours)]
    else:
        rows = [(d.strftime("%a %d.%m"), [(c, cells.get((d, c[0]), [])) for c in columns]) for d in days]
    step = dt.timedelta(days=7 if view == "week" else 1)
    return _render(
        request,
        "booking/calendar.html",
        {
            "branch": branch,
            "branches": branch_list(org=org),
            "day": day,
            "prev": (day - step).isoformat(),
            "next": (day + step).isoformat(),
            "view": view,
            "by": by,
            "columns": columns,
            "rows": rows,
            "count": len(appts),
        },
    )


# --- free slots and booking ------------------------------------------------------------------------


@require_perm("booking.book")
def slot_search(request: AuthedRequest) -> HttpResponse:
    """ "First free laser slot with any doctor who does it, Saturday morning"."""
    org = request.org
    branch = _branch(request)
    service_list = selectors.service_list(org=org, branch=branch)
    tz = branch.tz
    today = timezone.now().astimezone(tz).date()
    ctx: dict[str, Any] = {
        "branch": branch,
        "branches": branch_list(org=org),
        "services": service_list,
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
    service_id = request.GET.get("service")
    if service_id:
        try:
            service = selectors.service_get(org=org, service_id=service_id)
            doctor = (
                selectors.doctor_get(org=org, doctor_id=request.GET["doctor"])
                if request.GET.get("doctor")
                else None
            )
            d0 = _date(request.GET.get("from"), today, "from")
            d1 = min(
                _date(request.GET.get("to"), d0 + dt.timedelta(days=13), "to"), d0 + dt.timedelta(days=61)
            )
            weekdays = [
                int(w) for w in request.GET.getlist("weekday") if w.isdigit() and int(w) in range(7)
            ] or None
            part = request.GET.get("part", "")
            t_from, t_to = {
                "morning": (None, dt.time(12)),
                "afternoon": (dt.time(12), dt.time(17)),
                "evening": (dt.time(17), None),
            }.get(part, (None, None))
            slots = selectors.slots_find(
                org=org,
                branch=branch,
                service=service,
                doctor=doctor,
                date_from=d0,
                date_to=d1,
                limit=40,
                weekdays=weekdays,
                time_from=t_from,
                time_to=t_to,
            )
            rooms = {r.pk: r.name for r in selectors.room_list(org=org, branch=branch)}
            ctx["service"] = service
            ctx["doctors"] = selectors.doctor_list(org=org, branch=branch, service=service)
            ctx["slots"] = [
                {
                    "start": s.start.astimezone(tz),
                    "value": s.start.astimezone(tz).strftime("%Y-%m-%dT%H:%M"),
                    "doctor_id": s.doctor_id,
                    "doctor": s.doctor_name,
                    "room": rooms.get(s.room_id, "") if s.room_id else "",
                }
                for s in slots
            ]
        except (NotFound, ValidationFailed) as exc:
            _fail(request, exc)
    return _render(request, "booking/slots.html", ctx)


@require_perm("booking.book")
def patient_pick(request: AuthedRequest) -> HttpResponse:
    """Find the patient to book for (name, phone or e-mail)."""
    q = request.GET.get("q", "")[:100]
    found = list(patient_list(org=request.org, filters=PatientFilters(q=q))[:20]) if q.strip() else []
    return _render(
        request, "booking/patient_pick.html", {"q": q, "found": found, "next": request.GET.get("next", "")}
    )


@require_POST
@require_perm("booking.book")
def appointment_create(request: AuthedRequest) -> HttpResponse:
    org = request.org
    branch = _branch(request)
    try:
        patient = patient_get(org=org, patient_id=request.POST.get("patient"))
        service = selectors.service_get(org=org, service_id=request.POST.get("service"))
        doctor = selectors.doctor_get(org=org, doctor_id=request.POST.get("doctor"))
        appt = services.appointment_book(
            org=org,
            actor=request.user,
            branch=branch,
            patient=patient,
            service=service,
            doctor=doctor,
            start=local_start(branch, request.POST.get("start", "")),
            notes=request.POST.get("notes", ""),
            request=request,
        )
    except (NotFound, ValidationFailed) as exc:
        _fail(request, exc)
        return redirect(request.META.get("HTTP_REFERER") or reverse("booking:slots"))
    except DomainError as exc:
        _fail(request, exc)
        return redirect(request.META.get("HTTP_REFERER") or reverse("booking:slots"))
    entry_id = request.POST.get("waitlist")
    if entry_id:
        entry = selectors.waitlist_list(org=org, open_only=True).filter(pk=parse_uuid(entry_id) or "").first()
        if entry is not None:
            services.waitlist_close(org=org, actor=request.user, entry=entry, appointment=appt)
    messages.success(request, _("Booked."))
    return redirect("booking:appointment", appointment_id=appt.pk)


@require_perm("booking.view", audit_object="appointment")
def appointment_detail(request: AuthedRequest, appointment_id: str) -> HttpResponse:
    from clinicflow.core.audit import audit_record
    from clinicflow.core.models import AuditAction

    appt = _obj(selectors.appointment_get, org=request.org, appointment_id=appointment_id)
    tz = appt.branch.tz
    audit_record(
        org=request.org,
        actor=request.user,
        action=AuditAction.VIEW,
        object_type="appointment",
        object_id=appt.pk,
        request=request,
    )
    from clinicflow.booking.models import Payment

    return _render(
        request,
        "booking/appointment.html",
        {
            "a": appt,
            "local_start": appt.start_at.astimezone(tz),
            "local_end": appt.end_at.astimezone(tz),
            "payments": Payment.objects.for_org(request.org).filter(appointment=appt).order_by("paid_at"),
            "methods": PaymentMethod.choices,
            "can_book": request.user.has_perm_cf("booking.book"),
            "marks": [s for s in services.MARK_FROM if appt.status in services.MARK_FROM[s]],
            "status_labels": dict(AppointmentStatus.choices),
        },
    )


@require_POST
@require_perm("booking.book")
def appointment_action(request: AuthedRequest, appointment_id: str, action: str) -> HttpResponse:
    org, user = request.org, request.user
    appt = _obj(selectors.appointment_get, org=org, appointment_id=appointment_id)
    try:
        if action == "move":
            doctor = (
                selectors.doctor_get(org=org, doctor_id=request.POST["doctor"])
                if request.POST.get("doctor")
                else None
            )
            services.appointment_move(
                org=org,
                actor=user,
                appointment=appt,
                start=local_start(appt.branch, request.POST.get("start", "")),
                doctor=doctor,
                request=request,
            )
            messages.success(request, _("Moved."))
        elif action == "cancel":
            services.appointment_cancel(
                org=org, actor=user, appointment=appt, reason=request.POST.get("reason", ""), request=request
            )
            messages.success(request, _("Cancelled."))
        elif action == "mark":
            services.appointment_mark(
                org=org, actor=user, appointment=appt, status=request.POST.get("status", ""), request=request
            )
            messages.success(request, _("Status changed."))
        elif action == "pay":
            services.payment_record(
                org=org,
                actor=user,
                patient=appt.patient,
                branch=appt.branch,
                appointment=appt,
                amount=request.POST.get("amount", ""),
                method=request.POST.get("method", ""),
                kind=request.POST.get("kind", "payment"),
            )
            messages.success(request, _("Payment recorded."))
        else:
            raise Http404
    except (NotFound, DomainError) as exc:
        _fail(request, exc)
    return redirect("booking:appointment", appointment_id=appt.pk)


# --- waitlist --------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@require_perm("booking.book")
def waitlist(request: AuthedRequest) -> HttpResponse:
    org = request.org
    branch = _branch(request)
    if request.method == "POST":
        try:
            patient = patient_get(org=org, patient_id=request.POST.get("patient"))
            service = selectors.service_get(org=org, service_id=request.POST.get("service"))
            doctor = (
                selectors.doctor_get(org=org, doctor_id=request.POST["doctor"])
                if request.POST.get("doctor")
                else None
            )
            today = timezone.now().astimezone(branch.tz).date()
            services.waitlist_add(
                org=org,
                actor=request.user,
                branch=branch,
                patient=patient,
                service=service,
                doctor=doctor,
                date_from=_date(request.POST.get("date_from"), today, "date_from"),
                date_to=_date(request.POST.get("date_to"), today + dt.timedelta(days=14), "date_to"),
                time_from=_time(request.POST.get("time_from"), "time_from", required=False),
                time_to=_time(request.POST.get("time_to"), "time_to", required=False),
                notes=request.POST.get("notes", ""),
            )
            messages.success(request, _("Added to the waitlist."))
        except (NotFound, DomainError) as exc:
            _fail(request, exc)
        return redirect(f"{reverse('booking:waitlist')}?branch={branch.pk}")
    entries = list(selectors.waitlist_list(org=org, branch=branch))
    for e in entries:
        e.offered_local = e.offered_start.astimezone(branch.tz) if e.offered_start else None  # type: ignore[attr-defined]
    return _render(
        request,
        "booking/waitlist.html",
        {
            "branch": branch,
            "branches": branch_list(org=org),
            "entries": entries,
            "services": selectors.service_list(org=org, branch=branch),
            "doctors": selectors.doctor_list(org=org, branch=branch),
        },
    )


@require_POST
@require_perm("booking.book")
def waitlist_close(request: AuthedRequest, entry_id: str) -> HttpResponse:
    entry = selectors.waitlist_list(org=request.org, open_only=True).filter(pk=_uuid(entry_id)).first()
    if entry is None:
        raise Http404
    services.waitlist_close(org=request.org, actor=request.user, entry=entry)
    return redirect(f"{reverse('booking:waitlist')}?branch={entry.branch_id}")


# --- resources and schedules (manager) -------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@require_perm("booking.manage")
def setup(request: AuthedRequest) -> HttpResponse:
    org, user = request.org, request.user
    branch = _branch(request)
    if request.method == "POST":
        what = request.POST.get("what", "")
        try:
            if what == "doctor":
                service_ids = request.POST.getlist("services")
                chosen = [s for s in selectors.service_list(org=org) if str(s.pk) in service_ids]
                services.doctor_create(
                    org=org,
                    actor=user,
                    full_name=request.POST.get("full_name", ""),
                    specialty=request.POST.get("specialty", ""),
                    is_consultant=bool(request.POST.get("is_consultant")),
                    branches=[branch],
                    services=chosen,
                )
            elif what == "room":
                services.room_create(
                    org=org,
                    actor=user,
                    branch=branch,
                    name=request.POST.get("name", ""),
                    room_type=request.POST.get("room_type", ""),
                )
            elif what == "equipment":
                room = (
                    selectors.room_get(org=org, room_id=request.POST["room"])
                    if request.POST.get("room")
                    else None
                )
                services.equipment_create(
                    org=org, actor=user, branch=branch, name=request.POST.get("name", ""), room=room
                )
            elif what == "settings":
                offsets = [
                    int(x)
                    for x in request.POST.get("reminders", "").replace(" ", "").split(",")
                    if x.isdigit()
                ]
                services.settings_save(
                    org=org,
                    actor=user,
                    branch=branch,
                    reminder_offsets_minutes=offsets,
                    reminder_channels=request.POST.getlist("channels") or ["sms", "email"],
                    online_booking_enabled=bool(request.POST.get("online")),
                    online_booking_cutoff_hours=int(request.POST.get("online_cutoff") or 0),
                    online_booking_horizon_days=int(request.POST.get("horizon") or 60),
                    cancellation_cutoff_hours=int(request.POST.get("cancel_cutoff") or 0),
                    slot_step_minutes=int(request.POST.get("step") or 15),
                )
            else:
                raise ValidationFailed.field("what", "unknown form")
            messages.success(request, _("Saved."))
        except (NotFound, DomainError) as exc:
            _fail(request, exc)
        except ValueError:
            messages.error(request, _("Numbers expected."))
        return redirect(f"{reverse('booking:setup')}?branch={branch.pk}")
    doctors = selectors.doctor_list(org=org, branch=branch, active_only=False)
    _links_b, links_s = selectors.doctor_links(org=org, doctors=doctors)
    service_names = {s.pk: s.name for s in selectors.service_list(org=org)}
    conf = selectors.settings_for(org=org, branch=branch)
    return _render(
        request,
        "booking/setup.html",
        {
            "branch": branch,
            "branches": branch_list(org=org),
            "doctors": [(d, [service_names.get(s, "") for s in links_s.get(d.pk, [])]) for d in doctors],
            "rooms": selectors.room_list(org=org, branch=branch),
            "equipment": Equipment.objects.for_org(org).filter(branch=branch).select_related("room"),
            "services": selectors.service_list(org=org),
            "room_types": RoomType.choices,
            "conf": conf,
            "reminders": ", ".join(str(o) for o in conf.reminder_offsets_minutes or []),
        },
    )


@require_http_methods(["GET", "POST"])
@require_perm("booking.manage")
def doctor_schedule(request: AuthedRequest, doctor_id: str) -> HttpResponse:
    """A doctor's week at a branch (hours and one break per day), services and exceptions."""
    org, user = request.org, request.user
    doctor = _obj(selectors.doctor_get, org=org, doctor_id=doctor_id)
    branch = _branch(request)
    if request.method == "POST":
        what = request.POST.get("what", "")
        try:
            if what == "week":
                hours: dict[int, list[tuple[dt.time, dt.time]]] = {}
                breaks: dict[int, list[tuple[dt.time, dt.time]]] = {}
                for wd in range(7):
                    s = _time(request.POST.get(f"start_{wd}"), "hours", required=False)
                    e = _time(request.POST.get(f"end_{wd}"), "hours", required=False)
                    if s and e:
                        hours[wd] = [(s, e)]
                    bs = _time(request.POST.get(f"break_start_{wd}"), "breaks", required=False)
                    be = _time(request.POST.get(f"break_end_{wd}"), "breaks", required=False)
                    if bs and be:
                        breaks[wd] = [(bs, be)]
                services.working_week_set(
                    org=org, actor=user, doctor=doctor, branch=branch, hours=hours, breaks=breaks
                )
            elif what == "services":
                ids = request.POST.getlist("services")
                services.doctor_set_links(
                    org=org,
                    actor=user,
                    doctor=doctor,
                    services=[s for s in selectors.service_list(org=org) if str(s.pk) in ids],
                )
            elif what == "exception":
                services.exception_add(
                    org=org,
                    actor=user,
                    branch=branch,
                    doctor=doctor,
                    date=_date(request.POST.get("date"), dt.date.min, "date"),
                    kind=request.POST.get("kind", ExceptionKind.CLOSED),
                    start_time=_time(request.POST.get("start_time"), "start_time", required=False),
                    end_time=_time(request.POST.get("end_time"), "end_time", required=False),
                    reason=request.POST.get("reason", ""),
                )
            elif what == "delete_exception":
                exc_row = (
                    ScheduleException.objects.for_org(org)
                    .filter(pk=_uuid(request.POST.get("exception")), doctor=doctor)
                    .first()
                )
                if exc_row is None:
                    raise NotFound("exception not found")
                services.exception_delete(org=org, actor=user, exception=exc_row)
            elif what == "ical":
                services.doctor_rotate_ical_token(org=org, actor=user, doctor=doctor)
            else:
                raise ValidationFailed.field("what", "unknown form")
            messages.success(request, _("Saved."))
        except (NotFound, DomainError) as exc:
            _fail(request, exc)
        return redirect(f"{reverse('booking:doctor_schedule', args=[doctor.pk])}?branch={branch.pk}")
    week = {wd: {"start": "", "end": "", "break_start": "", "break_end": ""} for wd in range(7)}
    for h in WorkingHours.objects.for_org(org).filter(doctor=doctor, branch=branch):
        week[h.weekday].update(start=h.start_time.strftime("%H:%M"), end=h.end_time.strftime("%H:%M"))
    from clinicflow.booking.models import ScheduleBreak

    for b in ScheduleBreak.objects.for_org(org).filter(doctor=doctor, branch=branch):
        week[b.weekday].update(
            break_start=b.start_time.strftime("%H:%M"), break_end=b.end_time.strftime("%H:%M")
        )
    _links_b, links_s = selectors.doctor_links(org=org, doctors=[doctor])
    return _render(
        request,
        "booking/doctor_schedule.html",
        {
            "doctor": doctor,
            "branch": branch,
            "branches": branch_list(org=org),
            "week": [(wd, label, week[wd]) for wd, label in Weekday.choices],
            "services": selectors.service_list(org=org),
            "performed": {str(s) for s in links_s.get(doctor.pk, [])},
            "exceptions": ScheduleException.objects.for_org(org)
            .filter(doctor=doctor, date__gte=timezone.now().date() - dt.timedelta(days=1))
            .order_by("date"),
            "kinds": ExceptionKind.choices,
            "ical_url": request.build_absolute_uri(reverse("booking:ical", args=[doctor.ical_token])),
        },
    )


# --- a doctor's own schedule and feed --------------------------------------------------------------


@require_perm("booking.own_schedule")
def my_schedule(request: AuthedRequest) -> HttpResponse:
    org = request.org
    doctor = selectors.doctor_for_user(org=org, user=request.user)
    rows: list[dict[str, Any]] = []
    if doctor is not None:
        now = timezone.now()
        appts = selectors.appointment_list(
            org=org,
            filters=selectors.AppointmentFilters(
                doctor=doctor, start_from=now - dt.timedelta(hours=12), start_to=now + dt.timedelta(days=14)
            ),
        ).exclude(status=AppointmentStatus.CANCELLED)
        for a in appts:
            local = a.start_at.astimezone(a.branch.tz)
            end = a.end_at.astimezone(a.branch.tz)
            rows.append({"a": a, "label": f"{local:%a %d.%m %H:%M}–{end:%H:%M}"})
    return _render(
        request,
        "booking/my_schedule.html",
        {
            "doctor": doctor,
            "rows": rows,
            "ical_url": request.build_absolute_uri(reverse("booking:ical", args=[doctor.ical_token]))
            if doctor
            else "",
        },
    )


@public_view
def ical_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The doctor's secret subscription feed: 30 days back, 90 ahead; patients by initials only."""
    if len(token) < 20 or len(token) > 64:
        raise Http404
    doctor = Doctor.objects.filter(ical_token=token, is_active=True).select_related("organization").first()
    if doctor is None:
        raise Http404
    now = timezone.now()
    appts = (
        Appointment.objects.for_org(doctor.organization)
        .filter(
            doctor=doctor, start_at__gte=now - dt.timedelta(days=30), start_at__lt=now + dt.timedelta(days=90)
        )
        .exclude(status=AppointmentStatus.CANCELLED)
        .select_related("patient", "service", "branch", "room")
        .order_by("start_at")
    )
    response = HttpResponse(doctor_feed(doctor.full_name, appts), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="schedule.ics"'
    response["Cache-Control"] = "private, max-age=300"
    return response
