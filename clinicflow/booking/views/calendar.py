"""The calendar (day or week, columns by doctor or room, on the branch's clock), a doctor's own
schedule and their iCalendar feed (the capacity heat map is in analytics)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from clinicflow.accounts.access import AuthedRequest, require_perm
from clinicflow.booking import selectors, services
from clinicflow.booking.forms.appointments import CalendarForm
from clinicflow.booking.ics import doctor_feed
from clinicflow.booking.models import Appointment, Doctor
from clinicflow.core.access import public_view
from clinicflow.core.formatting import fmt_date_weekday
from clinicflow.core.models import Branch, Organization
from clinicflow.core.selectors import branch_list
from clinicflow.core.web import branch_from_request, render_in_zone

Column = tuple[uuid.UUID, str]
FEED_BACK, FEED_AHEAD = dt.timedelta(days=30), dt.timedelta(days=90)


@dataclass(frozen=True)
class Grid:
    view: str
    by: str
    days: list[dt.date]

    @property
    def key(self) -> str:
        return "doctor_id" if self.by == "doctor" else "room_id"

    def row_of(self, local: dt.datetime) -> Any:
        return local.hour if self.view == "day" else local.date()


def _columns(org: Organization, branch: Branch, grid: Grid, appts: list[Appointment]) -> list[Column]:
    """The branch's doctors (or rooms), then any other one an appointment of the period names."""
    if grid.by == "doctor":
        columns = [(d.pk, d.full_name) for d in selectors.doctor_list(org=org, branch=branch)]
    else:
        columns = [(r.pk, r.name) for r in selectors.room_list(org=org, branch=branch)]
    seen = {c[0] for c in columns}
    for a in appts:
        pk = getattr(a, grid.key)
        if pk is not None and pk not in seen:
            columns.append((pk, str(a.doctor if grid.by == "doctor" else a.room)))
            seen.add(pk)
    return columns


def _rows(branch: Branch, grid: Grid, appts: list[Appointment], columns: list[Column]) -> list[Any]:
    tz = branch.tz
    cells: dict[tuple[Any, Any], list[Appointment]] = defaultdict(list)
    hours: set[int] = set(range(8, 20))
    for a in appts:
        local = a.start_at.astimezone(tz)
        a.local_start = local  # type: ignore[attr-defined]  # shown by the template
        a.local_end = a.end_at.astimezone(tz)  # type: ignore[attr-defined]  # shown by the template
        hours.add(local.hour)
        cells[(grid.row_of(local), getattr(a, grid.key))].append(a)
    if grid.view == "day":
        return [(f"{h:02d}:00", [(c, cells.get((h, c[0]), [])) for c in columns]) for h in sorted(hours)]
    return [(fmt_date_weekday(d), [(c, cells.get((d, c[0]), [])) for c in columns]) for d in grid.days]


@require_perm("booking.view")
def calendar(request: AuthedRequest) -> HttpResponse:
    """Day or week, columns by doctor or room, times on the branch's clock."""
    org = request.org
    branch = branch_from_request(request, org)
    today = timezone.now().astimezone(branch.tz).date()
    day, view, by = CalendarForm(request.GET).values(today)
    first = day - dt.timedelta(days=day.weekday()) if view == "week" else day
    grid = Grid(
        view=view, by=by, days=[first + dt.timedelta(days=i) for i in range(7 if view == "week" else 1)]
    )
    start, end = selectors.day_bounds(branch, grid.days[0], grid.days[-1])
    appts = selectors.calendar_appointments(org=org, branch=branch, start=start, end=end)
    columns = _columns(org, branch, grid, appts)
    step = dt.timedelta(days=7 if view == "week" else 1)
    return render_in_zone(
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
            "rows": _rows(branch, grid, appts, columns),
            "count": len(appts),
        },
    )


def feed_url(request: HttpRequest, token: str) -> str:
    return request.build_absolute_uri(reverse("booking:ical", args=[token]))


def feed_status(doctor: Doctor) -> dict[str, Any]:
    """The feed's state for the pages: whether an address exists and until when it works."""
    expires = doctor.ical_expires_at
    live = bool(doctor.ical_token_hash) and expires is not None and expires > timezone.now()
    return {"live": live, "expires_at": expires, "expired": bool(doctor.ical_token_hash) and not live}


def _my_page(request: AuthedRequest, doctor: Doctor | None, *, ical_url: str = "") -> HttpResponse:
    rows: list[dict[str, Any]] = []
    if doctor is not None:
        now = timezone.now()
        appts = selectors.doctor_upcoming(
            org=request.org,
            doctor=doctor,
            start=now - dt.timedelta(hours=12),
            end=now + dt.timedelta(days=14),
        )
        for a in appts:
            local, end = a.start_at.astimezone(a.branch.tz), a.end_at.astimezone(a.branch.tz)
            rows.append({"a": a, "label": f"{fmt_date_weekday(local)} {local:%H:%M}–{end:%H:%M}"})
    ctx = {
        "doctor": doctor,
        "rows": rows,
        "ical_url": ical_url,
        "feed": feed_status(doctor) if doctor is not None else {},
    }
    response = render_in_zone(request, "booking/my_schedule.html", ctx)
    response["Cache-Control"] = "no-store"
    return response


@require_perm("booking.own_schedule")
def my_schedule(request: AuthedRequest) -> HttpResponse:
    """The signed-in doctor's next two weeks and their feed's state."""
    return _my_page(request, selectors.doctor_for_user(org=request.org, user=request.user))


@require_POST
@require_perm("booking.own_schedule")
def my_ical_rotate(request: AuthedRequest) -> HttpResponse:
    """The signed-in doctor makes a new feed address (shown this once; the old one stops working)."""
    doctor = selectors.doctor_for_user(org=request.org, user=request.user)
    if doctor is None:
        raise Http404
    doctor, token = services.doctor_rotate_ical_token(
        org=request.org, actor=request.user, doctor=doctor, request=request
    )
    return _my_page(request, doctor, ical_url=feed_url(request, token))


@public_view
def ical_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The doctor's secret subscription feed: 30 days back, 90 ahead; patients by initials only. A
    token that is unknown, replaced by a newer one or past its expiry answers a bare 404."""
    doctor = selectors.doctor_by_ical_token(token=token)
    if doctor is None:
        raise Http404
    now = timezone.now()
    appts = selectors.doctor_feed_appointments(
        org=doctor.organization, doctor=doctor, start=now - FEED_BACK, end=now + FEED_AHEAD
    )
    response = HttpResponse(doctor_feed(doctor.full_name, appts), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="schedule.ics"'
    response["Cache-Control"] = "private, max-age=300"
    return response
