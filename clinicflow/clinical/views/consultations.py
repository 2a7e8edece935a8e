"""Pages of the clinical records: consultations (from the appointment page), their detail with quotes,
the versioned template editor, and the quote-to-treatment conversion per consultant."""

from __future__ import annotations

import csv

from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import URLPattern, path
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from clinicflow.accounts.access import AuthedRequest, require_perm
from clinicflow.accounts.breakglass import access_record
from clinicflow.booking.selectors import appointment_get
from clinicflow.catalogue.models import ServiceCategory
from clinicflow.clinical.consultation_forms import ConsultationForm, TemplateForm
from clinicflow.clinical.selectors import consultations as selectors
from clinicflow.clinical.services import consultations as services
from clinicflow.clinical.views import quotes
from clinicflow.core.errors import DomainError
from clinicflow.core.web import get_or_404, parse_period, render_in_zone
from clinicflow.patients.emergency import access_of, refused


@require_http_methods(["GET", "POST"])
@require_perm("clinical.record", audit_object="consultation")
def consultation_form(request: AuthedRequest, appointment_id: str) -> HttpResponse:
    """Record (or answer again) the consultation of an appointment of a consultation service."""
    org, user = request.org, request.user
    appt = get_or_404(appointment_get, org=org, appointment_id=appointment_id)
    access = access_of(request, appt.patient)
    if not access.writes:
        return refused(request, appt.patient, access)
    existing = selectors.consultation_for_appointment(org=org, appointment_id=appt.pk)
    category = existing.category if existing else appt.service.category
    version = (
        existing.template_version if existing else selectors.template_current(org=org, category=category)
    )
    initial: dict[str, object] = {"category": category}
    if existing is not None:
        initial.update({name: getattr(existing, name) for name in (*services.TEXT_FIELDS, "result_visible")})
        initial.update(
            expectation=existing.expectation, outcome=existing.outcome, outcome_reason=existing.outcome_reason
        )
        checklist = list(version.contraindications) if version else []
        initial.update(
            {f"ci_{i}": bool(existing.contraindications.get(item)) for i, item in enumerate(checklist)}
        )
        questions = list(version.questions) if version else []
        initial.update({f"q_{i}": existing.answers.get(q, "") for i, q in enumerate(questions)})
    if existing is not None and request.method == "GET":
        access_record(
            access, org=org, actor=user, object_type="consultation", object_id=existing.pk, request=request
        )
    form = ConsultationForm(request.POST or None, initial=initial, version=version)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                consultation = services.consultation_record(
                    org=org, actor=user, appointment=appt, data=form.data_for_service(), request=request
                )
            except DomainError as exc:
                for name, errors in (exc.fields or {"__all__": [str(exc.message)]}).items():
                    form.add_error(name if name in form.fields else None, errors)
            else:
                return redirect("clinical:consultation_detail", consultation_id=consultation.pk)
    ctx = {"a": appt, "form": form, "version": version, "existing": existing, "branch": appt.branch}
    return render_in_zone(request, "clinical/consultations/form.html", ctx, status=status)


@require_perm("clinical.view", audit_object="consultation")
def consultation_detail(request: AuthedRequest, consultation_id: str) -> HttpResponse:
    """The consultation with its quotes; every view is audit-logged."""
    org, user = request.org, request.user
    c = get_or_404(selectors.consultation_get, org=org, consultation_id=consultation_id)
    access = access_of(request, c.patient)
    if not access.opens:
        return refused(request, c.patient, access)
    access_record(access, org=org, actor=user, object_type="consultation", object_id=c.pk, request=request)
    version = c.template_version
    checklist = [
        (item, c.contraindications.get(item)) for item in (version.contraindications if version else [])
    ]
    quote_rows = [
        (q, selectors.quote_lines(org=org, quote=q)) for q in selectors.quotes_of(org=org, consultation=c)
    ]
    ctx = {
        "c": c,
        "checklist": checklist,
        "quotes": quote_rows,
        "branch": c.branch,
        "can_record": user.has_perm_cf("clinical.record") and access.writes,
    }
    return render_in_zone(request, "clinical/consultations/detail.html", ctx)


@require_http_methods(["GET", "POST"])
@require_perm("clinical.manage", audit_object="consultation_template")
def template_editor(request: AuthedRequest) -> HttpResponse:
    """The consultation templates per service group; saving writes a new version."""
    org, user = request.org, request.user
    versions = selectors.template_versions(org=org)
    category = str(request.GET.get("category") or request.POST.get("category") or "consultation")
    current = versions.get(category, [None])[0]
    initial: dict[str, object] = {"category": category}
    if current is not None:
        initial.update(
            contraindications="\n".join(current.contraindications),
            risks="\n".join(current.risks),
            alternatives="\n".join(current.alternatives),
            questions="\n".join(current.questions),
        )
    form = TemplateForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                services.template_version_create(
                    org=org,
                    actor=user,
                    category=form.cleaned_data["category"],
                    contraindications=form.items("contraindications"),
                    risks=form.items("risks"),
                    alternatives=form.items("alternatives"),
                    questions=form.items("questions"),
                    request=request,
                )
            except DomainError as exc:
                form.add_error(None, str(exc.message))
            else:
                return redirect(f"{request.path}?category={form.cleaned_data['category']}")
    labels = dict(ServiceCategory.choices)
    groups = [(cat, labels.get(cat, cat), items[0].number) for cat, items in versions.items()]
    ctx = {"form": form, "groups": groups, "category": category, "current": current}
    return render_in_zone(request, "clinical/consultations/templates.html", ctx, status=status)


@require_perm("reports.clinical", audit_object="report")
def conversion_report(request: AuthedRequest) -> HttpResponse:
    """Quote-to-treatment conversion per consultant over a period (``?from=&to=``; ``?format=csv``)."""
    today = timezone.now().date()
    date_from, date_to = parse_period(request, today, days=90)
    rows = selectors.conversion_by_consultant(org=request.org, date_from=date_from, date_to=date_to)
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="conversion-{date_from}-{date_to}.csv"'
        writer = csv.writer(response)
        writer.writerow(["doctor", "consultations", "quotes", "accepted", "rate", "accepted_value"])
        for r in rows:
            value = "; ".join(str(m) for m in r.accepted_value.values())
            writer.writerow(
                [_csv_safe(r.doctor_name), r.consultations, r.quoted, r.accepted, r.rate or "", value]
            )
        return response
    ctx = {"rows": rows, "date_from": date_from, "date_to": date_to, "today": today}
    return render_in_zone(request, "clinical/consultations/conversion.html", ctx)


def _csv_safe(text: str) -> str:
    """A cell a spreadsheet will not run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


paths: list[URLPattern] = [
    path("appointments/<str:appointment_id>/consultation/", consultation_form, name="consultation_form"),
    path("consultations/<str:consultation_id>/", consultation_detail, name="consultation_detail"),
    path("consultation-templates/", template_editor, name="consultation_templates"),
    path("reports/consultants/", conversion_report, name="consultation_conversion"),
    *quotes.paths,
]
