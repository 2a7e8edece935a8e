"""Pages of the breach register: the incident list, new and edit forms, an incident with its
deadlines and the affected-patients query (preview, then attach), the affected list and its CSV.

Times are shown and typed on the clock of the organisation's first active branch (UTC without one).
Only roles with ``privacy.incidents`` (owner, clinic manager) reach these pages."""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinicflow.accounts.access import AuthedRequest, require_perm
from clinicflow.core.audit import audit_record
from clinicflow.core.errors import DomainError
from clinicflow.core.models import AuditAction
from clinicflow.core.web import get_or_404, render_in_zone
from clinicflow.patients.models import Patient
from clinicflow.privacy import selectors, services
from clinicflow.privacy.affected import AFFECTED_LIST, patients_touched
from clinicflow.privacy.forms import AffectedQueryForm, DeadlineDoneForm, IncidentForm
from clinicflow.privacy.jurisdictions import RULES_BY_KIND, jurisdictions_for
from clinicflow.privacy.models import DataCategory, Incident

T = TypeVar("T")
PERM = "privacy.incidents"
PAGE_SIZE = 100
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def _show_errors(form: forms.Form, exc: DomainError) -> None:
    """A service's refusal shown on the form: on the field it names, else above the form."""
    for name, errors in exc.fields.items():
        form.add_error(name if name in form.fields else None, "; ".join(errors))
    if not exc.fields:
        form.add_error(None, exc.message)


def _attempt(request: AuthedRequest, form: forms.Form, write: Callable[[], T], done: str) -> T | None:
    try:
        result = write()
    except DomainError as exc:
        _show_errors(form, exc)
        return None
    messages.success(request, done)
    return result


def _incident(request: AuthedRequest, incident_id: str) -> Incident:
    return get_or_404(selectors.incident_get, org=request.org, incident_id=incident_id)


def _render(request: AuthedRequest, template: str, ctx: dict[str, Any], status: int = 200) -> HttpResponse:
    branch = selectors.zone_branch(org=request.org)
    ctx = {**ctx, "zone": branch.timezone if branch else "UTC"}
    return render_in_zone(request, template, ctx, branch=branch, status=status)


def _valid(request: AuthedRequest, form: forms.Form) -> bool:
    """Validate with the register's zone active, so typed times are read on its clock."""
    branch = selectors.zone_branch(org=request.org)
    if branch is None:
        return form.is_valid()
    with timezone.override(branch.tz):
        return form.is_valid()


@require_GET
@require_perm(PERM)
def incident_list(request: AuthedRequest) -> HttpResponse:
    rows = selectors.incident_list(org=request.org, now=timezone.now())
    return _render(request, "privacy/list.html", {"rows": rows})


@require_http_methods(["GET", "POST"])
@require_perm(PERM)
def incident_create(request: AuthedRequest) -> HttpResponse:
    initial = {"jurisdictions": jurisdictions_for(request.org), "discovered_at": timezone.now()}
    form = IncidentForm(request.POST or None, initial=initial)
    if request.method == "POST" and _valid(request, form):
        write = functools.partial(
            services.incident_create,
            org=request.org,
            actor=request.user,
            details=form.details(),
            jurisdictions=form.cleaned_data["jurisdictions"],
            request=request,
        )
        incident = _attempt(request, form, write, _("Incident registered."))
        if incident is not None:
            return redirect("privacy:incident", incident_id=incident.pk)
    ctx = {"form": form, "incident": None}
    return _render(request, "privacy/form.html", ctx, status=422 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@require_perm(PERM, audit_object="incident")
def incident_edit(request: AuthedRequest, incident_id: str) -> HttpResponse:
    incident = _incident(request, incident_id)
    form = IncidentForm(request.POST or None, incident=incident)
    if request.method == "POST" and _valid(request, form):
        write = functools.partial(
            services.incident_update,
            org=request.org,
            actor=request.user,
            incident=incident,
            details=form.details(),
            jurisdictions=form.cleaned_data["jurisdictions"],
            request=request,
        )
        if _attempt(request, form, write, _("Incident saved.")) is not None:
            return redirect("privacy:incident", incident_id=incident.pk)
    ctx = {"form": form, "incident": incident}
    return _render(request, "privacy/form.html", ctx, status=422 if form.errors else 200)


def _render_detail(
    request: AuthedRequest,
    incident: Incident,
    *,
    query: AffectedQueryForm,
    done_form: DeadlineDoneForm | None = None,
    status: int = 200,
) -> HttpResponse:
    org, now = request.org, timezone.now()
    deadlines = selectors.incident_deadlines(org=org, incident=incident)
    preview = None
    if query.is_bound and not query.errors:
        preview = patients_touched(
            org=org,
            actor_id=query.subject_user().pk,
            start=query.cleaned_data["start"],
            end=query.cleaned_data["end"],
        )
    ctx = {
        "incident": incident,
        "deadlines": [
            (d, RULES_BY_KIND[d.kind].label if d.kind in RULES_BY_KIND else d.kind, d.is_overdue(now))
            for d in deadlines
        ],
        "done_form": done_form or DeadlineDoneForm(initial={"done_at": now}),
        "done_kind": done_form["kind"].value() if done_form is not None else "",
        "categories": [DataCategory(c).label for c in incident.data_categories if c in DataCategory.values],
        "snapshots": selectors.incident_snapshots(org=org, incident=incident),
        "affected": selectors.affected_count(org=org, incident=incident),
        "query": query,
        "preview": preview,
        "now": now,
    }
    return _render(request, "privacy/detail.html", ctx, status=status)


def _query_form(request: AuthedRequest, data: Any) -> AffectedQueryForm:
    return AffectedQueryForm(data, staff=selectors.staff_list(org=request.org))


@require_GET
@require_perm(PERM, audit_object="incident")
def incident_detail(request: AuthedRequest, incident_id: str) -> HttpResponse:
    """The incident; with ``?subject=&start=&end=`` also the count of patients the query would attach."""
    incident = _incident(request, incident_id)
    audit_record(
        org=request.org,
        actor=request.user,
        action=AuditAction.VIEW,
        object_type="incident",
        object_id=incident.pk,
        request=request,
    )
    query = _query_form(request, request.GET if "subject" in request.GET else None)
    if query.is_bound:
        _valid(request, query)
    return _render_detail(request, incident, query=query, status=422 if query.errors else 200)


@require_POST
@require_perm(PERM, audit_object="incident")
def deadline_done(request: AuthedRequest, incident_id: str) -> HttpResponse:
    incident = _incident(request, incident_id)
    form = DeadlineDoneForm(request.POST)
    if _valid(request, form):
        write = functools.partial(
            services.deadline_mark_done,
            org=request.org,
            actor=request.user,
            incident=incident,
            kind=form.cleaned_data["kind"],
            done_at=form.cleaned_data["done_at"],
            reference=form.cleaned_data["reference"],
            request=request,
        )
        if _attempt(request, form, write, _("Notification recorded.")) is not None:
            return redirect("privacy:incident", incident_id=incident.pk)
    return _render_detail(request, incident, query=_query_form(request, None), done_form=form, status=422)


@require_POST
@require_perm(PERM, audit_object="incident")
def affected_attach(request: AuthedRequest, incident_id: str) -> HttpResponse:
    incident = _incident(request, incident_id)
    form = _query_form(request, request.POST)
    if _valid(request, form):
        write = functools.partial(
            services.affected_attach,
            org=request.org,
            actor=request.user,
            incident=incident,
            subject=form.subject_user(),
            start=form.cleaned_data["start"],
            end=form.cleaned_data["end"],
            request=request,
        )
        if _attempt(request, form, write, _("Affected patients attached.")) is not None:
            return redirect("privacy:affected", incident_id=incident.pk)
    return _render_detail(request, incident, query=form, status=422)


def _affected_rows(
    request: AuthedRequest, incident: Incident, ids: list[Any], *, contacts: bool, action: str
) -> list[tuple[Any, Patient | None]]:
    """The patients of ``ids`` (None for one since deleted); audited as a view or export of the
    incident's affected list (``privacy.affected`` maps such rows back to these patients)."""
    found = selectors.affected_patients(org=request.org, ids=ids, with_phones=contacts)
    audit_record(
        org=request.org,
        actor=request.user,
        action=action,
        object_type=AFFECTED_LIST,
        object_id=incident.pk,
        fields=["name", "phones", "email"] if contacts else ["name"],
        request=request,
    )
    return [(pk, found.get(pk)) for pk in ids]


@require_GET
@require_perm(PERM, audit_object="incident")
def affected_list(request: AuthedRequest, incident_id: str) -> HttpResponse:
    """The incident's affected patients (every snapshot's, once each); contacts only for a role that
    may see them."""
    incident = _incident(request, incident_id)
    contacts = request.user.has_perm_cf("patients.view_contacts")
    page = Paginator(selectors.affected_ids(org=request.org, incident=incident), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = _affected_rows(
        request, incident, list(page.object_list), contacts=contacts, action=AuditAction.VIEW
    )
    ctx = {"incident": incident, "page": page, "rows": rows, "show_contacts": contacts}
    return _render(request, "privacy/affected.html", ctx)


def _safe(value: str) -> str:
    """A CSV cell a spreadsheet will not run as a formula."""
    return "'" + value if value.startswith(DANGEROUS) else value


@require_GET
@require_perm(PERM, audit_object="incident")
def affected_csv(request: AuthedRequest, incident_id: str) -> HttpResponse:
    incident = _incident(request, incident_id)
    contacts = request.user.has_perm_cf("patients.view_contacts")
    ids = selectors.affected_ids(org=request.org, incident=incident)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(
        ["patient_id", "last_name", "first_name", "middle_name", *(("email", "phones") if contacts else ())]
    )
    for pk, p in _affected_rows(request, incident, ids, contacts=contacts, action=AuditAction.EXPORT):
        names = [p.last_name, p.first_name, p.middle_name] if p else ["", "", ""]
        extra = [p.email, " ".join(ph.e164 for ph in p.phones.all())] if p and contacts else ["", ""]
        writer.writerow(
            [str(pk), *(_safe(v) for v in names), *((_safe(v) for v in extra) if contacts else ())]
        )
    response = HttpResponse(("\ufeff" + buf.getvalue()).encode(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="incident-{incident.pk}-affected.csv"'
    return response
