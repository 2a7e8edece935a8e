"""Pages of the marketing calendar: a year view (twelve months, their events and budgets) and a month
view (day by day), filtered by branch and product line; a new event; starting the year from the ready
calendar of a region (RU, CN, EU); the iCalendar export of the shown period."""

from __future__ import annotations

import calendar as pycal
import datetime as dt
import functools
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinicflow.accounts.access import AuthedRequest, require_perm
from clinicflow.catalogue.models import ProductLine
from clinicflow.core.errors import DomainError
from clinicflow.core.models import Branch
from clinicflow.core.web import flash_error, render_in_zone
from clinicflow.marketing.forms import EventForm, UsualDatesForm
from clinicflow.marketing.models.calendar import CalendarEvent
from clinicflow.marketing.selectors import calendar as sel
from clinicflow.marketing.selectors import choices
from clinicflow.marketing.services import calendar as svc
from clinicflow.marketing.views.common import attempt, pick


def _int(raw: str | None, default: int, low: int, high: int) -> int:
    try:
        value = int(raw or default)
    except ValueError:
        return default
    return value if low <= value <= high else default


def _filters(request: AuthedRequest) -> tuple[Branch | None, ProductLine | None]:
    org = request.org
    branch = pick({str(b.pk): b for b in choices.branches(org)}, request.GET.get("branch"))
    line = pick({str(x.pk): x for x in choices.product_lines(org)}, request.GET.get("line"))
    return branch, line


def _months(year: int, events: list[CalendarEvent]) -> list[dict[str, Any]]:
    out = []
    for m in range(1, 13):
        start, end = sel.month_bounds(year, m)
        inside = [e for e in events if e.starts_on <= end and e.ends_on >= start]
        out.append(
            {
                "month": start,
                "events": inside,
                "budget": sum((e.budget for e in inside if e.starts_on >= start), Decimal(0)),
                "actual": sum((e.actual_cost for e in inside if e.starts_on >= start), Decimal(0)),
            }
        )
    return out


def _days(
    year: int, month: int, events: list[CalendarEvent]
) -> list[list[tuple[dt.date | None, list[CalendarEvent]]]]:
    weeks = []
    for week in pycal.Calendar(firstweekday=0).monthdatescalendar(year, month):
        weeks.append(
            [
                (d if d.month == month else None, [e for e in events if e.starts_on <= d <= e.ends_on])
                for d in week
            ]
        )
    return weeks


@require_GET
@require_perm("marketing.view")
def calendar_view(request: AuthedRequest) -> HttpResponse:
    """``?year=``, ``?month=`` (the month view; the year view without it), ``?branch=``, ``?line=``."""
    org = request.org
    today = timezone.localdate()
    year = _int(request.GET.get("year"), today.year, 2000, 2100)
    month = _int(request.GET.get("month"), 0, 0, 12) or None
    branch, line = _filters(request)
    start, end = sel.month_bounds(year, month)
    events = sel.events_between(org=org, start=start, end=end, branch=branch, line=line)
    ctx: dict[str, Any] = {
        "year": year,
        "month": month,
        "month_start": start,
        "branch": None,
        "chosen_branch": branch,
        "line": line,
        "branches": choices.branches(org),
        "lines": choices.product_lines(org),
        "events": events,
        "months": _months(year, events) if month is None else [],
        "weeks": _days(year, month, events) if month is not None else [],
        "total_budget": sum((e.budget for e in events), Decimal(0)),
        "total_actual": sum((e.actual_cost for e in events), Decimal(0)),
        "currency": org.currency,
        "usual_form": UsualDatesForm(initial={"year": year}),
        "query": request.GET.urlencode(),
        "month_choices": [(m, dt.date(year, m, 1)) for m in range(1, 13)],
    }
    return render_in_zone(request, "marketing/calendar.html", ctx)


@require_http_methods(["GET", "POST"])
@require_perm("marketing.manage")
def event_create(request: AuthedRequest) -> HttpResponse:
    org = request.org
    form = EventForm(request.POST or None, org=org)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        write = functools.partial(
            svc.event_add, org=org, actor=request.user, title=d["title"], kind=d["kind"],
            starts_on=d["starts_on"], ends_on=d["ends_on"], budget=d["budget"], channel=d["channel"],
            owner=d["owner"], status=d["status"], actual_cost=d["actual_cost"],
            branch=pick({str(b.pk): b for b in choices.branches(org)}, d["branch"]),
            line=pick({str(x.pk): x for x in choices.product_lines(org)}, d["line"]),
            audience=pick({str(a.pk): a for a in choices.audiences(org)}, d["audience"]),
            offer=pick({str(o.pk): o for o in choices.offers(org)}, d["offer"]),
        )  # fmt: skip
        event = attempt(request, form, write, _("Event added."))
        if event is not None:
            return redirect(
                f"{reverse('marketing:calendar')}?year={event.starts_on.year}&month={event.starts_on.month}"
            )
    ctx = {"form": form, "title": _("New calendar event")}
    return render_in_zone(request, "marketing/form.html", ctx, status=422 if form.errors else 200)


@require_POST
@require_perm("marketing.manage")
def usual_dates(request: AuthedRequest) -> HttpResponse:
    """Start the year from the ready calendar of RU, CN or EU clinics (dates already there are kept)."""
    form = UsualDatesForm(request.POST)
    year = timezone.localdate().year
    if form.is_valid():
        year = form.cleaned_data["year"]
        try:
            n = svc.year_from_usual_dates(
                org=request.org, actor=request.user, region=form.cleaned_data["region"], year=year
            )
        except DomainError as exc:
            flash_error(request, exc)
        else:
            messages.success(request, _("%(n)s usual dates added.") % {"n": n})
    return redirect(f"{reverse('marketing:calendar')}?year={year}")


@require_GET
@require_perm("marketing.view")
def calendar_ics(request: AuthedRequest) -> HttpResponse:
    """The shown period (year, month, branch, line) as an iCalendar file."""
    org = request.org
    year = _int(request.GET.get("year"), timezone.localdate().year, 2000, 2100)
    month = _int(request.GET.get("month"), 0, 0, 12) or None
    branch, line = _filters(request)
    start, end = sel.month_bounds(year, month)
    events = sel.events_between(org=org, start=start, end=end, branch=branch, line=line)
    response = HttpResponse(svc.calendar_ics(org=org, events=events), content_type="text/calendar")
    response["Content-Disposition"] = (
        f'attachment; filename="marketing-{year}{f"-{month:02d}" if month else ""}.ics"'
    )
    return response


paths: list[URLPattern] = [
    path("calendar/", calendar_view, name="calendar"),
    path("calendar/new/", event_create, name="event_create"),
    path("calendar/usual-dates/", usual_dates, name="usual_dates"),
    path("calendar/export.ics", calendar_ics, name="calendar_ics"),
]
