"""Pages of the clinical records: treatments — the record of an appointment (form, sign-off,
amendments), the SOP editor, lot search, complications (case review, rates, CSV, form)."""

from __future__ import annotations

import csv
import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from clinicflow.accounts.access import AuthedRequest, require_perm
from clinicflow.accounts.breakglass import access_denied_record, access_record
from clinicflow.booking.models import Appointment
from clinicflow.booking.selectors.appointments import appointment_get
from clinicflow.clinical.models.treatments import ComplicationOutcome, Severity, TreatmentUnit
from clinicflow.clinical.selectors import treatments as sel
from clinicflow.clinical.services import treatments as svc
from clinicflow.clinical.services import treatments_complications as csvc
from clinicflow.core.audit import audit_record
from clinicflow.core.errors import DomainError
from clinicflow.core.models import AuditAction
from clinicflow.core.web import get_or_404
from clinicflow.patients.emergency import access_of, refused

PRODUCT_ROWS = 6


def _appointment(request: AuthedRequest, appointment_id: str, *, write: bool) -> tuple[Appointment, Any]:
    appt = get_or_404(appointment_get, org=request.org, appointment_id=appointment_id)
    access = access_of(request, appt.patient)
    return appt, access if (access.writes if write else access.opens) else None


def _products(post: Any) -> list[svc.ProductData]:
    rows = []
    for i in range(PRODUCT_ROWS):
        name, lot, amount = (post.get(f"p{i}_{k}", "").strip() for k in ("name", "lot", "amount"))
        if name or lot or amount:
            rows.append(
                svc.ProductData(
                    name=name,
                    lot=lot,
                    amount=amount,
                    unit=post.get(f"p{i}_unit", ""),
                    manufacturer=post.get(f"p{i}_manufacturer", ""),
                    area=post.get(f"p{i}_area", ""),
                )
            )
    return rows


def _map_notes(text: str) -> dict[str, str]:
    notes = {}
    for line in text.splitlines():
        area, sep, note = line.partition(":")
        if sep and area.strip():
            notes[area.strip()] = note.strip()
    return notes


@require_http_methods(["GET", "POST"])
@require_perm("clinical.view", audit_object="treatment_record")
def treatment_record(request: AuthedRequest, appointment_id: str) -> HttpResponse:
    """The appointment's treatment record: the form while unsigned (doctor or owner), the signed
    record with its amendment history and the amendment form afterwards."""
    writing = request.method == "POST"
    if writing and not request.user.has_perm_cf("clinical.record"):
        access_denied_record(
            org=request.org,
            actor=request.user,
            object_type="treatment_record",
            object_id=appointment_id[:64],
            request=request,
        )
        return render(request, "core/403.html", status=403)
    appt, access = _appointment(request, appointment_id, write=writing)
    if access is None:
        return refused(request, appt.patient, access_of(request, appt.patient))
    org = request.org
    record = sel.treatment_for(org=org, appointment=appt)
    errors: dict[str, list[str]] = {}
    status = 200
    if writing:
        data = svc.TreatmentData(
            services_done=request.POST.getlist("services_done"),
            products=_products(request.POST),
            map_notes=_map_notes(request.POST.get("map_notes", "")),
            sop_checked=[int(n) for n in request.POST.getlist("sop_checked") if n.isdigit()],
            notes=request.POST.get("notes", ""),
        )
        try:
            svc.treatment_save(
                org=org,
                actor=request.user,
                appointment=appt,
                data=data,
                sign_off=request.POST.get("sign_off") == "1",
                request=request,
            )
            messages.success(request, _("Treatment record saved."))
            return redirect("clinical:treatment_record", appointment_id=appt.pk)
        except DomainError as exc:
            errors, status = exc.fields or {"__all__": [exc.message]}, exc.status
    values = sel.current_values(org=org, record=record) if record else None
    sop = (
        record.sop_version
        if record and record.sop_version
        else svc.sop_current(org=org, service_id=appt.service_id)
    )
    if record is not None:
        access_record(
            access,
            org=org,
            actor=request.user,
            object_type="treatment_record",
            object_id=record.pk,
            fields=sorted(values or {}),
            request=request,
        )
    products = list((values or {}).get("products", []))
    page = {
        "a": appt,
        "record": record,
        "values": values,
        "amendments": sel.amendments_of(org=org, record=record) if record else [],
        "sop": sop,
        "sop_rows": [
            (i, item, i in ((values or {}).get("sop_checked") or []))
            for i, item in enumerate(sop.items if sop else [])
        ],
        "product_rows": products + [{}] * max(0, PRODUCT_ROWS - len(products)),
        "units": TreatmentUnit.values,
        "map_text": "\n".join(f"{k}: {v}" for k, v in ((values or {}).get("map_notes") or {}).items()),
        "errors": errors,
        "can_record": request.user.has_perm_cf("clinical.record") and access.writes,
    }
    with timezone.override(appt.branch.tz):
        return render(request, "clinical/treatments/record.html", page, status=status)


@require_POST
@require_perm("clinical.record", audit_object="treatment_record")
def treatment_amend(request: AuthedRequest, appointment_id: str) -> HttpResponse:
    appt, access = _appointment(request, appointment_id, write=True)
    if access is None:
        return refused(request, appt.patient, access_of(request, appt.patient))
    record = sel.treatment_for(org=request.org, appointment=appt)
    if record is None:
        return redirect("clinical:treatment_record", appointment_id=appt.pk)
    current = sel.current_values(org=request.org, record=record)
    changes: dict[str, Any] = {}
    if request.POST.get("notes", current["notes"]) != current["notes"]:
        changes["notes"] = request.POST["notes"]
    map_notes = _map_notes(request.POST.get("map_notes", ""))
    if "map_notes" in request.POST and map_notes != current["map_notes"]:
        changes["map_notes"] = map_notes
    try:
        svc.treatment_amend(
            org=request.org,
            actor=request.user,
            record=record,
            changes=changes,
            reason=request.POST.get("reason", ""),
            current=current,
            request=request,
        )
        messages.success(request, _("Amendment recorded; the original is kept."))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("clinical:treatment_record", appointment_id=appt.pk)


@require_http_methods(["GET", "POST"])
@require_perm("clinical.manage", audit_object="sop_version")
def sop_editor(request: AuthedRequest) -> HttpResponse:
    """The SOP checklists per service; saving makes a new version (old records keep theirs)."""
    org = request.org
    services = sel.services_all(org=org)
    chosen = next(
        (s for s in services if str(s.pk) == request.GET.get("service", request.POST.get("service"))), None
    )
    status = 200
    if request.method == "POST" and chosen is not None:
        items = request.POST.get("items", "").splitlines()
        try:
            svc.sop_save(
                org=org,
                actor=request.user,
                service=chosen,
                title=request.POST.get("title", ""),
                items=items,
                request=request,
            )
            messages.success(request, _("New SOP version saved."))
            return redirect(f"{request.path}?service={chosen.pk}")
        except DomainError as exc:
            messages.error(request, exc.message)
            status = exc.status
    versions = sel.sop_versions(org=org, service_id=chosen.pk) if chosen else []
    page = {
        "services": services,
        "chosen": chosen,
        "versions": versions,
        "current": versions[0] if versions else None,
    }
    return render(request, "clinical/treatments/sop.html", page, status=status)


@require_perm("clinical.view", audit_object="treatment_record")
def lot_search(request: AuthedRequest) -> HttpResponse:
    """Which patients got lot X: one search box."""
    lot = request.GET.get("lot", "")[:80]
    hits = sel.lot_search(org=request.org, lot=lot, user=request.user) if lot.strip() else []
    if lot.strip():
        audit_record(
            org=request.org,
            actor=request.user,
            action=AuditAction.LIST,
            object_type="treatment_record",
            fields=["lot"],
            request=request,
        )
    return render(request, "clinical/treatments/lots.html", {"lot": lot, "hits": hits})


def _filters(request: AuthedRequest) -> tuple[sel.CaseFilters, dt.date]:
    month = sel.parse_month(request.GET.get("month", "")) or timezone.localdate().replace(day=1)
    doctor = sel._uuid(request.GET.get("doctor", "")) if request.GET.get("doctor") else None
    filters = sel.CaseFilters(
        month=month,
        severity=request.GET.get("severity", ""),
        doctor_id=doctor,
        open_follow_ups=request.GET.get("open") == "1",
    )
    return filters, month


@require_perm("clinical.review", audit_object="complication")
def complication_list(request: AuthedRequest) -> HttpResponse:
    """The case-review list of a month with the complication rate per doctor and per service."""
    org = request.org
    filters, month = _filters(request)
    cases = list(sel.complication_cases(org=org, filters=filters)[:500])
    start, end = sel.month_bounds(month)
    audit_record(
        org=org,
        actor=request.user,
        action=AuditAction.EXPORT if request.GET.get("format") == "csv" else AuditAction.LIST,
        object_type="complication",
        fields=["severity", "onset_date", "description", "outcome"],
        request=request,
    )
    by_doctor = sel.complication_rates(org=org, start=start, end=end, by="doctor")
    by_service = sel.complication_rates(org=org, start=start, end=end, by="service")
    if request.GET.get("format") == "csv":
        return _csv(cases, by_doctor, by_service, month)
    page = {
        "cases": cases,
        "filters": filters,
        "month": month.strftime("%Y-%m"),
        "severities": Severity.choices,
        "doctors": sel.doctors_all(org=org),
        "by_doctor": by_doctor,
        "by_service": by_service,
        "query": request.GET.urlencode(),
    }
    return render(request, "clinical/treatments/complications.html", page)


def _cell(value: object) -> str:
    text = str(value if value is not None else "")
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv(
    cases: list[Any], by_doctor: list[sel.RateRow], by_service: list[sel.RateRow], month: dt.date
) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="complications-{month:%Y-%m}.csv"'
    writer = csv.writer(response)
    writer.writerow(["onset", "patient", "doctor", "service", "severity", "outcome", "follow_up"])
    for c in cases:
        writer.writerow(
            [
                _cell(v)
                for v in (
                    c.onset_date,
                    c.patient.full_name,
                    c.doctor.full_name if c.doctor else "",
                    c.service.name if c.service else "",
                    c.severity,
                    c.outcome,
                    c.follow_up_date,
                )
            ]
        )
    writer.writerow([])
    writer.writerow(["group", "name", "complications", "signed_off_treatments", "rate"])
    for group, rows in (("doctor", by_doctor), ("service", by_service)):
        for r in rows:
            writer.writerow(
                [
                    group,
                    _cell(r.label),
                    r.complications,
                    r.treatments,
                    "" if r.rate is None else f"{r.rate:.4f}",
                ]
            )
    return response


@require_http_methods(["GET", "POST"])
@require_perm("clinical.record", audit_object="complication")
def complication_new(request: AuthedRequest, appointment_id: str) -> HttpResponse:
    """Log a complication of an appointment (and its treatment record, when there is one)."""
    appt, access = _appointment(request, appointment_id, write=True)
    if access is None:
        return refused(request, appt.patient, access_of(request, appt.patient))
    org, errors, status = request.org, {}, 200
    if request.method == "POST":

        def day(name: str) -> dt.date | None:
            try:
                return dt.date.fromisoformat(request.POST.get(name, ""))
            except ValueError:
                return None

        data = csvc.ComplicationData(
            patient=appt.patient,
            severity=request.POST.get("severity", ""),
            onset_date=day("onset_date"),
            description=request.POST.get("description", ""),
            outcome=request.POST.get("outcome", ""),
            treatment_given=request.POST.get("treatment_given", ""),
            follow_up_date=day("follow_up_date"),
            appointment=appt,
            treatment=sel.treatment_for(org=org, appointment=appt),
        )
        try:
            csvc.complication_log(org=org, actor=request.user, data=data, request=request)
            messages.success(request, _("Complication logged."))
            return redirect("clinical:complications")
        except DomainError as exc:
            errors, status = exc.fields, exc.status
    page = {
        "a": appt,
        "errors": errors,
        "severities": Severity.choices,
        "outcomes": ComplicationOutcome.choices,
        "post": request.POST,
    }
    return render(request, "clinical/treatments/complication_form.html", page, status=status)


paths: list[URLPattern] = [
    path("appointments/<str:appointment_id>/treatment/", treatment_record, name="treatment_record"),
    path("appointments/<str:appointment_id>/treatment/amend/", treatment_amend, name="treatment_amend"),
    path("appointments/<str:appointment_id>/complication/", complication_new, name="complication_new"),
    path("treatments/sops/", sop_editor, name="sop_editor"),
    path("treatments/lots/", lot_search, name="lot_search"),
    path("complications/", complication_list, name="complications"),
]
