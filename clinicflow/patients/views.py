"""Patient pages: list and search, card, create, edit, consents, merge. Thin: selectors and services."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from clinicflow.accounts.access import AuthedRequest, require_perm
from clinicflow.accounts.breakglass import access_record, in_branch
from clinicflow.core.audit import audit_record
from clinicflow.core.errors import DomainError, NotFound
from clinicflow.core.models import AuditAction, Branch, Organization
from clinicflow.core.phones import display
from clinicflow.core.selectors import branch_get, branch_list
from clinicflow.core.web import get_or_404
from clinicflow.patients import selectors, services
from clinicflow.patients.card import card_page
from clinicflow.patients.emergency import access_of, refused
from clinicflow.patients.forms import ConsentForm, MergeForm, PatientForm
from clinicflow.patients.models import Patient, Sex, Source
from clinicflow.patients.timeline import Viewer

PAGE_SIZE = 50


def _get(request: AuthedRequest, patient_id: object) -> Patient:
    return get_or_404(selectors.patient_get, org=request.org, patient_id=patient_id)


def _branch_filter(org: Organization, branch_id: str) -> Branch | None:
    """The branch to filter by; an unknown id filters nothing."""
    try:
        return branch_get(org=org, branch_id=branch_id) if branch_id else None
    except NotFound:
        return None


@require_perm("patients.view")
def patient_list(request: AuthedRequest) -> HttpResponse:
    org = request.org
    branch = _branch_filter(org, request.GET.get("branch", ""))
    sort = request.GET.get("sort", "name")
    source = request.GET.get("source", "")
    filters = selectors.PatientFilters(
        q=request.GET.get("q", "")[:100],
        branch=branch,
        source=source if source in Source.values else "",
        sort=sort if sort in selectors.SORTS else "name",
        search_contacts=request.user.has_perm_cf("patients.view_contacts"),
    )
    page: object
    if filters.sort in selectors.PREDICTION_SORTS:
        # ranked by a prediction: read one page off the prediction index, no COUNT of the whole list
        page = selectors.patient_page(org=org, filters=filters, number=_page_number(request), size=PAGE_SIZE)
    else:
        page = Paginator(selectors.patient_list(org=org, filters=filters), PAGE_SIZE).get_page(
            request.GET.get("page")
        )
    audit_record(
        org=org,
        actor=request.user,
        action=AuditAction.LIST,
        object_type="patient",
        request=request,
    )
    return render(
        request,
        "patients/list.html",
        {
            "page": page,
            "filters": filters,
            "branches": branch_list(org=org, active_only=False),
            "sources": Source.choices,
            "show_contacts": request.user.has_perm_cf("patients.view_contacts"),
            "show_predictions": filters.sort in selectors.PREDICTION_SORTS,
        },
    )


def _page_number(request: AuthedRequest) -> int:
    try:
        return min(max(1, int(request.GET.get("page", "1"))), 100_000)
    except ValueError:
        return 1


@require_perm("patients.view", audit_object="patient")
def patient_detail(request: AuthedRequest, patient_id: str) -> HttpResponse:
    """The card: contact and consents, the value figures, the timeline of every app (``?kind=``,
    ``?before=``), the upcoming visits with the "book" action, open tasks — each as the role may see."""
    org, user = request.org, request.user
    patient = _get(request, patient_id)
    access = access_of(request, patient)
    if not access.opens:
        return refused(request, patient, access)
    can_clinical = access.can("patients.view_clinical")
    can_contacts = access.can("patients.view_contacts")
    viewer = Viewer(user=user, access=access)
    prediction = selectors.patient_prediction(org=org, patient=patient)
    card = card_page(org=org, patient=patient, viewer=viewer, query=request.GET, prediction=prediction)
    shown = ["last_name", "first_name", "sex", "birth_date", "source"]
    if can_contacts:
        shown += ["phones", "email", "notes"]
    if can_clinical:
        shown += ["clinical_notes"]
    shown += [f"timeline.{kind}" for kind in card.timeline.kinds]
    access_record(
        access,
        org=org,
        actor=user,
        object_type="patient",
        object_id=patient.pk,
        fields=shown,
        request=request,
    )
    consents = None
    if access.can("patients.view_consents"):
        consents = {
            "state": selectors.consent_state(org=org, patient=patient),
            "history": selectors.consent_history(org=org, patient=patient)[:50],
        }
    duplicates = []
    if user.has_perm_cf("patients.merge") and access.writes:
        duplicates = selectors.patient_duplicates(
            org=org, phones=[p.e164 for p in patient.phones.all()], email=patient.email, exclude_id=patient.pk
        )
    with timezone.override(card.zone):
        return render(
            request,
            "patients/detail.html",
            {
                "patient": patient,
                "can_clinical": can_clinical,
                "can_contacts": can_contacts,
                "phones": [(p.e164, display(p.e164)) for p in patient.phones.all()],
                "consents": consents,
                "consent_form": ConsentForm(),
                "duplicates": duplicates,
                "prediction": prediction,
                "access": access,
                "card": card,
            },
        )


def _form_to_data(form: PatientForm) -> services.PatientData:
    cd = form.cleaned_data
    data = services.PatientData(
        last_name=cd["last_name"],
        first_name=cd["first_name"],
        middle_name=cd.get("middle_name") or "",
        sex=cd.get("sex") or Sex.UNKNOWN,
        birth_date=cd.get("birth_date"),
        email=cd.get("email") or "",
        preferred_language=cd.get("preferred_language"),
        source=cd.get("source"),
        notes=cd.get("notes") or "",
        branch=cd.get("branch"),
        phones=form.phone_list(),
    )
    data.given |= {"birth_date", "branch"}
    if "clinical_notes" in form.fields:
        data.clinical_notes = cd.get("clinical_notes") or ""
    return data


def _apply_domain_errors(form: PatientForm, exc: DomainError) -> None:
    for name, errs in exc.fields.items():
        key = name.split("[")[0]
        form.add_error(key if key in form.fields else None, "; ".join(errs))
    if not exc.fields:
        form.add_error(None, exc.message)


def _form_page(
    request: AuthedRequest,
    form: PatientForm,
    *,
    patient: Patient | None,
    save: Callable[[services.PatientData], Patient],
    saved: str,
) -> HttpResponse:
    """The patient form: a valid POST is saved (domain errors shown on their fields), then the card."""
    if request.method == "POST" and form.is_valid():
        try:
            result = save(_form_to_data(form))
        except DomainError as exc:
            _apply_domain_errors(form, exc)
        else:
            messages.success(request, saved)
            return redirect("patients:detail", patient_id=result.pk)
    return render(
        request, "patients/form.html", {"form": form, "patient": patient}, status=422 if form.errors else 200
    )


@require_http_methods(["GET", "POST"])
@require_perm("patients.edit")
def patient_create(request: AuthedRequest) -> HttpResponse:
    org, user = request.org, request.user
    clinical = user.has_perm_cf("patients.edit_clinical")
    form = PatientForm(
        request.POST or None,
        org=org,
        clinical=clinical,
        # A caller offered as a new lead from the call log arrives with ?phone=...
        initial={"preferred_language": org.default_language, "phones": request.GET.get("phone", "")[:40]},
    )
    return _form_page(
        request,
        form,
        patient=None,
        save=lambda data: services.patient_create(org=org, actor=user, data=data, request=request),
        saved=_("Patient created."),
    )


@require_http_methods(["GET", "POST"])
@require_perm("patients.edit", audit_object="patient")
def patient_edit(request: AuthedRequest, patient_id: str) -> HttpResponse:
    org, user = request.org, request.user
    patient = _get(request, patient_id)
    if not in_branch(user, patient.branch_id):
        return refused(request, patient, None)
    clinical = user.has_perm_cf("patients.edit_clinical")
    initial = {
        "last_name": patient.last_name,
        "first_name": patient.first_name,
        "middle_name": patient.middle_name,
        "sex": patient.sex,
        "birth_date": patient.birth_date,
        "email": patient.email,
        "phones": ", ".join(p.e164 for p in patient.phones.all()),
        "preferred_language": patient.preferred_language,
        "source": patient.source,
        "branch": patient.branch_id,
        "notes": patient.notes,
        "clinical_notes": patient.clinical_notes if clinical else "",
    }
    form = PatientForm(request.POST or None, org=org, clinical=clinical, initial=initial)
    return _form_page(
        request,
        form,
        patient=patient,
        save=lambda data: services.patient_update(
            org=org, actor=user, patient=patient, data=data, request=request
        ),
        saved=_("Patient saved."),
    )


@require_POST
@require_perm("patients.edit", audit_object="consent")
def consent_add(request: AuthedRequest, patient_id: str) -> HttpResponse:
    patient = _get(request, patient_id)
    if not in_branch(request.user, patient.branch_id):
        return refused(request, patient, None)
    form = ConsentForm(request.POST)
    if form.is_valid():
        services.consent_record(
            org=request.org,
            actor=request.user,
            patient=patient,
            purpose=form.cleaned_data["purpose"],
            granted=form.cleaned_data["granted"],
            method=form.cleaned_data["method"],
            evidence=form.cleaned_data["evidence"],
            request=request,
        )
        messages.success(request, _("Consent recorded."))
    else:
        messages.error(request, _("The consent was not recorded: check the fields."))
    return redirect("patients:detail", patient_id=patient.pk)


@require_POST
@require_perm("patients.merge", audit_object="patient")
def patient_merge(request: AuthedRequest, patient_id: str) -> HttpResponse:
    keep = _get(request, patient_id)
    form = MergeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose the duplicate card to merge."))
        return redirect("patients:detail", patient_id=keep.pk)
    merge = _get(request, form.cleaned_data["merge_id"])
    for card in (keep, merge):
        if not in_branch(request.user, card.branch_id):
            return refused(request, card, None)
    try:
        services.patient_merge(org=request.org, actor=request.user, keep=keep, merge=merge, request=request)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Patients merged."))
    return redirect("patients:detail", patient_id=keep.pk)
