"""Pages of the clinical records: consents — the tablet page a patient signs on, the signed
consent's PDF, and today's missing consents for the front desk."""

from __future__ import annotations

import datetime as dt

from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from clinicflow.accounts.access import AuthedRequest, require_perm
from clinicflow.accounts.breakglass import access_record
from clinicflow.catalogue.models import ServiceCategory
from clinicflow.catalogue.selectors import service_get, service_list
from clinicflow.clinical.models.consents import ConsentTemplateVersion, SignedConsent, text_digest
from clinicflow.clinical.selectors import consents as selectors
from clinicflow.clinical.services import consents as services
from clinicflow.core.audit import audit_record
from clinicflow.core.errors import DomainError, NotFound
from clinicflow.core.formatting import fmt_datetime, fmt_datetime_full
from clinicflow.core.models import AuditAction, Branch
from clinicflow.core.selectors import branch_get, branch_list
from clinicflow.core.web import get_or_404, render_in_zone
from clinicflow.patients.emergency import access_of, refused
from clinicflow.patients.models import Patient
from clinicflow.patients.selectors import patient_get


def _patient(
    request: AuthedRequest, patient_id: object, *, write: bool
) -> tuple[Patient, HttpResponse | None]:
    patient = get_or_404(patient_get, org=request.org, patient_id=patient_id, with_phones=False)
    access = access_of(request, patient)
    if not access.opens or (write and not access.writes):
        return patient, refused(request, patient, access)
    return patient, None


def _pick_version(
    versions: dict[str, ConsentTemplateVersion], wanted: str, patient: Patient, default: str
) -> ConsentTemplateVersion | None:
    for lang in (wanted, patient.preferred_language, default, "en"):
        if lang in versions:
            return versions[lang]
    return next(iter(versions.values()), None)


@require_http_methods(["GET", "POST"])
@require_perm("consents.sign", audit_object="consent_form")
def consent_sign(request: AuthedRequest, patient_id: str, template_id: str) -> HttpResponse:
    """The tablet page: the current version's text in the patient's language (``?lang=`` another
    one), the typed name and the drawn signature; a POST signs exactly the version shown."""
    org = request.org
    patient, denied = _patient(request, patient_id, write=True)
    if denied:
        return denied
    template = get_or_404(selectors.template_get, org=org, template_id=template_id)
    versions = selectors.current_versions(org=org, template_ids=[template.pk]).get(template.pk, {})
    version = _pick_version(versions, request.GET.get("lang", ""), patient, org.default_language)
    if version is None or not template.is_active:
        raise Http404
    status, errors = 200, {}
    if request.method == "POST":
        try:
            shown = get_or_404(selectors.version_get, org=org, version_id=request.POST.get("version", ""))
            if shown.template_id != template.pk:
                raise Http404
            signed = services.consent_sign(
                org=org,
                actor=request.user,
                patient=patient,
                version=shown,
                language=request.POST.get("language", ""),
                typed_name=request.POST.get("typed_name", ""),
                signature=request.POST.get("signature") or None,
                shown_sha256=request.POST.get("sha256", ""),
                request=request,
            )
        except DomainError as exc:
            status, errors = exc.status, dict(exc.fields) or {"": [exc.message]}
        else:
            return redirect("clinical:consent_signed", signed_id=signed.pk)
    text = services.rendered_text(version, patient)
    access_record(
        access_of(request, patient), org=org, actor=request.user, object_type="consent_form",
        object_id=patient.pk, fields=[f"version:{version.pk}"], request=request,
    )  # fmt: skip
    title, _sep, body = text.partition("\n\n")
    page = {
        "patient": patient,
        "template": template,
        "version": version,
        "title": title,
        "paragraphs": [p for p in body.split("\n\n") if p.strip()],
        "sha256": text_digest(text),
        "languages": sorted(versions),
        "errors": errors,
        "typed_name": request.POST.get("typed_name", "") if request.method == "POST" else "",
    }
    return render_in_zone(request, "clinical/consents/sign.html", page, branch=patient.branch, status=status)


def _signed(request: AuthedRequest, signed_id: str) -> tuple[SignedConsent, HttpResponse | None]:
    signed = get_or_404(selectors.signed_get, org=request.org, signed_id=signed_id)
    access = access_of(request, signed.patient)
    if not access.can("patients.view_consents"):
        return signed, refused(request, signed.patient, access)
    access_record(
        access, org=request.org, actor=request.user, object_type="signed_consent", object_id=signed.pk,
        fields=["text", "signature"], request=request,
    )  # fmt: skip
    return signed, None


@require_perm("consents.sign", audit_object="signed_consent")
def consent_signed(request: AuthedRequest, signed_id: str) -> HttpResponse:
    """What was signed: the version, the time, the hash, and the PDF."""
    signed, denied = _signed(request, signed_id)
    if denied:
        return denied
    return render_in_zone(
        request, "clinical/consents/signed.html", {"s": signed}, branch=signed.patient.branch
    )


def pdf_labels() -> dict[str, str]:
    return {
        "signed_by": _("Signed by"),
        "signed_at": _("Signed at"),
        "ip": _("IP address"),
        "sha256": _("SHA-256 of the text"),
    }


def pdf_response(signed: SignedConsent) -> HttpResponse:
    branch = signed.patient.branch
    when = fmt_datetime_full(signed.signed_at, branch.tz if branch else dt.UTC)
    pdf = services.signed_consent_pdf(signed, labels=pdf_labels(), when=when)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="consent-{signed.pk}.pdf"'
    response["Cache-Control"] = "no-store"
    return response


@require_perm("consents.sign", audit_object="signed_consent")
def consent_pdf(request: AuthedRequest, signed_id: str) -> HttpResponse:
    signed, denied = _signed(request, signed_id)
    return denied or pdf_response(signed)


def _branch(request: AuthedRequest) -> Branch | None:
    key = request.user.branch_id or request.GET.get("branch", "")
    try:
        return branch_get(org=request.org, branch_id=key) if key else None
    except NotFound:
        return None


@require_perm("consents.missing")
def consents_missing(request: AuthedRequest) -> HttpResponse:
    """Today's (``?date=``) open appointments whose consent is not signed, with the tablet link."""
    org = request.org
    branch = _branch(request)
    zone = branch.tz if branch else timezone.get_current_timezone()
    try:
        day = dt.date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        day = timezone.localtime(timezone.now(), zone).date()
    rows = selectors.missing_consents(org=org, branch=branch, date_from=day, date_to=day)
    audit_record(
        org=org, actor=request.user, action=AuditAction.LIST, object_type="missing_consent", request=request
    )
    page = {
        "rows": [(m, fmt_datetime(m.appointment.start_at, m.appointment.branch.tz)) for m in rows],
        "day": day,
        "branch": branch,
        "branches": [] if request.user.branch_id else branch_list(org=org, active_only=True),
    }
    return render_in_zone(request, "clinical/consents/missing.html", page, branch=branch)


@require_http_methods(["GET", "POST"])
@require_perm("clinical.manage")
def consent_templates(request: AuthedRequest) -> HttpResponse:
    """The consent templates with their current versions; a POST adds a template (its first text
    is added on the template's page)."""
    org, status, errors = request.org, 200, {}
    if request.method == "POST":
        try:
            service_id = request.POST.get("service", "")
            template = services.consent_template_create(
                org=org,
                actor=request.user,
                name=request.POST.get("name", ""),
                service=service_get(org=org, service_id=service_id) if service_id else None,
                service_category=request.POST.get("service_category", ""),
                request=request,
            )
        except DomainError as exc:
            status, errors = exc.status, dict(exc.fields) or {"": [exc.message]}
        else:
            return redirect("clinical:consent_template", template_id=template.pk)
    templates = selectors.template_list(org=org, active_only=False)
    current = selectors.current_versions(org=org, template_ids=[t.pk for t in templates])
    page = {
        "rows": [(t, sorted(current.get(t.pk, {}).values(), key=lambda v: v.language)) for t in templates],
        "services": service_list(org=org),
        "categories": ServiceCategory.choices,
        "errors": errors,
    }
    return render_in_zone(request, "clinical/consents/templates.html", page, status=status)


@require_http_methods(["GET", "POST"])
@require_perm("clinical.manage")
def consent_template(request: AuthedRequest, template_id: str) -> HttpResponse:
    """One template: its current text per language and a form that saves an edit as a new version
    (the old versions and their signatures stay as they were)."""
    org, status, errors = request.org, 200, {}
    template = get_or_404(selectors.template_get, org=org, template_id=template_id)
    if request.method == "POST":
        try:
            services.consent_version_add(
                org=org,
                actor=request.user,
                template=template,
                language=request.POST.get("language", ""),
                title=request.POST.get("title", ""),
                body=request.POST.get("body", ""),
                request=request,
            )
        except DomainError as exc:
            status, errors = exc.status, dict(exc.fields) or {"": [exc.message]}
        else:
            return redirect("clinical:consent_template", template_id=template.pk)
    current = selectors.current_versions(org=org, template_ids=[template.pk]).get(template.pk, {})
    page = {
        "template": template,
        "versions": [current[k] for k in sorted(current)],
        "languages": services.LANGUAGES,
        "errors": errors,
    }
    return render_in_zone(request, "clinical/consents/template.html", page, status=status)


paths: list[URLPattern] = [
    path("consents/templates/", consent_templates, name="consent_templates"),
    path("consents/templates/<uuid:template_id>/", consent_template, name="consent_template"),
    path("consents/missing/", consents_missing, name="consents_missing"),
    path("consents/sign/<uuid:patient_id>/<uuid:template_id>/", consent_sign, name="consent_sign"),
    path("consents/signed/<uuid:signed_id>/", consent_signed, name="consent_signed"),
    path("consents/signed/<uuid:signed_id>/pdf/", consent_pdf, name="consent_pdf"),
]
