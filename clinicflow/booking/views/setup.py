"""Resources and settings of a branch (the manager's page): doctors, rooms, equipment, booking
settings; one endpoint adds or saves each."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from clinicflow.accounts.access import AuthedRequest, require_perm
from clinicflow.accounts.roles import Role
from clinicflow.accounts.selectors import staff_accounts
from clinicflow.booking import selectors, services
from clinicflow.booking.forms.base import cleaned
from clinicflow.booking.forms.setup import DoctorForm, EquipmentForm, RoomForm, SettingsForm
from clinicflow.catalogue.models import RoomType
from clinicflow.core.errors import DomainError, ValidationFailed
from clinicflow.core.models import Branch
from clinicflow.core.selectors import branch_list
from clinicflow.core.web import branch_from_request, flash_error, get_or_404, render_in_zone


@require_perm("booking.manage")
def setup(request: AuthedRequest) -> HttpResponse:
    org = request.org
    branch = branch_from_request(request, org)
    doctors = selectors.doctor_list(org=org, branch=branch, active_only=False)
    _links_b, links_s = selectors.doctor_links(org=org, doctors=doctors)
    all_services = selectors.service_list(org=org)
    names = {s.pk: s.display_name for s in all_services}
    conf = selectors.settings_for(org=org, branch=branch)
    return render_in_zone(
        request,
        "booking/setup.html",
        {
            "branch": branch,
            "branches": branch_list(org=org),
            "doctors": [(d, [names.get(s, "") for s in links_s.get(d.pk, [])]) for d in doctors],
            "rooms": selectors.room_list(org=org, branch=branch),
            "equipment": selectors.equipment_list(org=org, branch=branch),
            "services": all_services,
            "accounts": staff_accounts(org=org, role=Role.DOCTOR),
            "room_types": RoomType.choices,
            "conf": conf,
            "reminders": ", ".join(str(o) for o in conf.reminder_offsets_minutes or []),
        },
    )


def _save(request: AuthedRequest, write: Callable[[Branch], object]) -> HttpResponse:
    """Run one write for the branch and go back to the page with "Saved." or the error."""
    branch = branch_from_request(request, request.org)
    try:
        write(branch)
    except DomainError as exc:
        flash_error(request, exc)
    else:
        messages.success(request, _("Saved."))
    return redirect(f"{reverse('booking:setup')}?branch={branch.pk}")


@require_POST
@require_perm("booking.manage")
def doctor_add(request: AuthedRequest) -> HttpResponse:
    def add(branch: Branch) -> object:
        data = cleaned(DoctorForm(request.POST))
        chosen = [s for s in selectors.service_list(org=request.org) if str(s.pk) in data["services"]]
        return services.doctor_create(
            org=request.org,
            actor=request.user,
            full_name=data["full_name"],
            specialty=data["specialty"],
            is_consultant=data["is_consultant"],
            branches=[branch],
            services=chosen,
        )

    return _save(request, add)


@require_POST
@require_perm("booking.manage")
def doctor_account(request: AuthedRequest, doctor_id: str) -> HttpResponse:
    """Link a doctor to a staff account of the doctor role, or unlink it (an empty choice)."""

    doctor = get_or_404(selectors.doctor_get, org=request.org, doctor_id=doctor_id)

    def link(branch: Branch) -> object:
        chosen = str(request.POST.get("user", "")).strip()
        user = None
        if chosen:
            user = next((u for u in staff_accounts(org=request.org) if str(u.pk) == chosen), None)
            if user is None:
                raise ValidationFailed.field("user", f"unknown staff account {chosen!r}")
        return services.doctor_set_account(org=request.org, actor=request.user, doctor=doctor, user=user)

    return _save(request, link)


@require_POST
@require_perm("booking.manage")
def room_add(request: AuthedRequest) -> HttpResponse:
    def add(branch: Branch) -> object:
        data = cleaned(RoomForm(request.POST))
        return services.room_create(
            org=request.org, actor=request.user, branch=branch, name=data["name"], room_type=data["room_type"]
        )

    return _save(request, add)


@require_POST
@require_perm("booking.manage")
def equipment_add(request: AuthedRequest) -> HttpResponse:
    def add(branch: Branch) -> object:
        data = cleaned(EquipmentForm(request.POST))
        room = selectors.room_get(org=request.org, room_id=data["room"]) if data["room"] else None
        return services.equipment_create(
            org=request.org, actor=request.user, branch=branch, name=data["name"], room=room
        )

    return _save(request, add)


@require_POST
@require_perm("booking.manage")
def settings_save(request: AuthedRequest) -> HttpResponse:
    def save(branch: Branch) -> object:
        data = cleaned(SettingsForm(request.POST))
        return services.settings_save(
            org=request.org,
            actor=request.user,
            branch=branch,
            reminder_offsets_minutes=data["reminders"],
            reminder_channels=data["channels"],
            online_booking_enabled=data["online"],
            online_booking_cutoff_hours=data["online_cutoff"],
            online_booking_horizon_days=data["horizon"],
            cancellation_cutoff_hours=data["cancel_cutoff"],
            slot_step_minutes=data["step"],
        )

    return _save(request, save)
