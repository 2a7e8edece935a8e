"""A doctor's schedule at a branch (the manager's page): the working week with a break per day, the
services they perform, dated exceptions, the calendar feed's secret address; one endpoint each."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from clinicflow.accounts.access import AuthedRequest, require_perm
from clinicflow.booking import selectors, services
from clinicflow.booking.forms.base import cleaned
from clinicflow.booking.forms.schedules import ExceptionForm, ServicesForm, WeekForm
from clinicflow.booking.models import Doctor, ExceptionKind, Weekday
from clinicflow.booking.views.calendar import feed_status, feed_url
from clinicflow.core.errors import DomainError
from clinicflow.core.models import Branch
from clinicflow.core.selectors import branch_list
from clinicflow.core.web import branch_from_request, flash_error, get_or_404, render_in_zone


def _schedule_page(
    request: AuthedRequest, doctor: Doctor, branch: Branch, *, ical_url: str = ""
) -> HttpResponse:
    """A doctor's week at a branch, services, exceptions and the calendar feed: its expiry, and its
    address only right after it was made (``ical_url``; only the token's hash is stored)."""
    org = request.org
    week = selectors.doctor_week(org=org, doctor=doctor, branch=branch)
    _links_b, links_s = selectors.doctor_links(org=org, doctors=[doctor])
    response = render_in_zone(
        request,
        "booking/doctor_schedule.html",
        {
            "doctor": doctor,
            "branch": branch,
            "branches": branch_list(org=org),
            "week": [(wd, label, week[wd]) for wd, label in Weekday.choices],
            "services": selectors.service_list(org=org),
            "performed": {str(s) for s in links_s.get(doctor.pk, [])},
            "exceptions": selectors.exception_list(
                org=org, doctor=doctor, since=timezone.now().date() - dt.timedelta(days=1)
            ),
            "kinds": ExceptionKind.choices,
            "ical_url": ical_url,
            "feed": feed_status(doctor),
        },
    )
    response["Cache-Control"] = "no-store"
    return response


@require_perm("booking.manage")
def doctor_schedule(request: AuthedRequest, doctor_id: str) -> HttpResponse:
    """A doctor's week at a branch (hours and one break per day), services and exceptions."""
    doctor = get_or_404(selectors.doctor_get, org=request.org, doctor_id=doctor_id)
    return _schedule_page(request, doctor, branch_from_request(request, request.org))


def _save(request: AuthedRequest, doctor_id: str, write: Callable[[Doctor, Branch], object]) -> HttpResponse:
    """Run one write for the organisation's doctor (404 for another's) at the branch and go back to the
    schedule with "Saved." or the error."""
    doctor = get_or_404(selectors.doctor_get, org=request.org, doctor_id=doctor_id)
    branch = branch_from_request(request, request.org)
    try:
        write(doctor, branch)
    except DomainError as exc:
        flash_error(request, exc)
    else:
        messages.success(request, _("Saved."))
    return redirect(f"{reverse('booking:doctor_schedule', args=[doctor.pk])}?branch={branch.pk}")


@require_POST
@require_perm("booking.manage")
def week_save(request: AuthedRequest, doctor_id: str) -> HttpResponse:
    def save(doctor: Doctor, branch: Branch) -> object:
        hours, breaks = WeekForm(request.POST).week()
        services.working_week_set(
            org=request.org, actor=request.user, doctor=doctor, branch=branch, hours=hours, breaks=breaks
        )
        return doctor

    return _save(request, doctor_id, save)


@require_POST
@require_perm("booking.manage")
def services_save(request: AuthedRequest, doctor_id: str) -> HttpResponse:
    def save(doctor: Doctor, branch: Branch) -> object:
        ids = cleaned(ServicesForm(request.POST))["services"]
        chosen = [s for s in selectors.service_list(org=request.org) if str(s.pk) in ids]
        services.doctor_set_links(org=request.org, actor=request.user, doctor=doctor, services=chosen)
        return doctor

    return _save(request, doctor_id, save)


@require_POST
@require_perm("booking.manage")
def exception_add(request: AuthedRequest, doctor_id: str) -> HttpResponse:
    def add(doctor: Doctor, branch: Branch) -> object:
        data = cleaned(ExceptionForm(request.POST))
        return services.exception_add(
            org=request.org,
            actor=request.user,
            branch=branch,
            doctor=doctor,
            date=data["date"],
            kind=data["kind"],
            start_time=data["start_time"],
            end_time=data["end_time"],
            reason=data["reason"],
        )

    return _save(request, doctor_id, add)


@require_POST
@require_perm("booking.manage")
def exception_delete(request: AuthedRequest, doctor_id: str, exception_id: str) -> HttpResponse:
    def delete(doctor: Doctor, branch: Branch) -> object:
        row = selectors.exception_get(org=request.org, doctor=doctor, exception_id=exception_id)
        services.exception_delete(org=request.org, actor=request.user, exception=row)
        return doctor

    return _save(request, doctor_id, delete)


@require_POST
@require_perm("booking.manage")
def ical_rotate(request: AuthedRequest, doctor_id: str) -> HttpResponse:
    """A new secret feed address, shown on the page this once; the old address answers 404 at once."""
    doctor = get_or_404(selectors.doctor_get, org=request.org, doctor_id=doctor_id)
    branch = branch_from_request(request, request.org)
    doctor, token = services.doctor_rotate_ical_token(
        org=request.org, actor=request.user, doctor=doctor, request=request
    )
    return _schedule_page(request, doctor, branch, ical_url=feed_url(request, token))
