"""The waitlist: who waits for what, slots offered when one frees, adding and removing entries."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from clinicflow.accounts.access import AuthedRequest, require_perm
from clinicflow.booking import selectors, services
from clinicflow.booking.forms.base import cleaned
from clinicflow.booking.forms.waitlist import WaitlistForm
from clinicflow.booking.models import WaitlistEntry
from clinicflow.core.errors import DomainError
from clinicflow.core.models import Branch
from clinicflow.core.selectors import branch_list
from clinicflow.core.web import branch_from_request, flash_error, get_or_404, render_in_zone
from clinicflow.patients.selectors import patient_get


def _waitlist_url(branch_id: object) -> str:
    return f"{reverse('booking:waitlist')}?branch={branch_id}"


def _add(request: AuthedRequest, branch: Branch) -> WaitlistEntry:
    org = request.org
    data = cleaned(WaitlistForm(request.POST))
    today = timezone.now().astimezone(branch.tz).date()
    return services.waitlist_add(
        org=org,
        actor=request.user,
        branch=branch,
        patient=patient_get(org=org, patient_id=data["patient"]),
        service=selectors.service_get(org=org, service_id=data["service"]),
        doctor=selectors.doctor_get(org=org, doctor_id=data["doctor"]) if data["doctor"] else None,
        date_from=data["date_from"] or today,
        date_to=data["date_to"] or today + dt.timedelta(days=14),
        time_from=data["time_from"],
        time_to=data["time_to"],
        notes=data["notes"],
    )


@require_http_methods(["GET", "POST"])
@require_perm("booking.book")
def waitlist(request: AuthedRequest) -> HttpResponse:
    """The branch's open entries (with the slot offered to each) and the form that adds one."""
    org = request.org
    branch = branch_from_request(request, org)
    if request.method == "POST":
        try:
            _add(request, branch)
        except DomainError as exc:
            flash_error(request, exc)
        else:
            messages.success(request, _("Added to the waitlist."))
        return redirect(_waitlist_url(branch.pk))
    entries = list(selectors.waitlist_list(org=org, branch=branch))
    for e in entries:
        e.offered_local = e.offered_start.astimezone(branch.tz) if e.offered_start else None  # type: ignore[attr-defined]  # shown by the template
    return render_in_zone(
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
    entry = get_or_404(selectors.waitlist_entry_get, org=request.org, entry_id=entry_id)
    services.waitlist_close(org=request.org, actor=request.user, entry=entry)
    return redirect(_waitlist_url(entry.branch_id))
