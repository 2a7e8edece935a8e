"""Catalogue pages: the services list of a branch (price and duration), a service with its price
history, new and edit forms, a price change from a date, archive and restore. Thin: each view parses
its input (a Django form), fetches through selectors that take the organisation, calls one service and
renders."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinicflow.accounts.access import AuthedRequest, require_perm
from clinicflow.catalogue import selectors, services
from clinicflow.catalogue.forms import PriceForm, ServiceForm
from clinicflow.catalogue.models import Service
from clinicflow.core.errors import DomainError
from clinicflow.core.models import Branch
from clinicflow.core.selectors import branch_list
from clinicflow.core.web import branch_from_request, get_or_404, render_in_zone

T = TypeVar("T")


def _show_errors(form: forms.Form, exc: DomainError) -> None:
    """A service's refusal shown on the form: on the field it names, else above the form."""
    for name, errors in exc.fields.items():
        form.add_error(name if name in form.fields else None, "; ".join(errors))
    if not exc.fields:
        form.add_error(None, exc.message)


def _attempt(request: AuthedRequest, form: forms.Form, write: Callable[[], T], done: str) -> T | None:
    """Call the service; on success flash ``done`` and return its result, else show its refusal on
    the form and return None."""
    try:
        result = write()
    except DomainError as exc:
        _show_errors(form, exc)
        return None
    messages.success(request, done)
    return result


def _service(request: AuthedRequest, service_id: str) -> Service:
    return get_or_404(selectors.service_get, org=request.org, service_id=service_id)


@require_GET
@require_perm("catalogue.view")
def service_list(request: AuthedRequest) -> HttpResponse:
    """The services with their price today at the chosen branch (list prices when there is no branch)."""
    org = request.org
    branches = branch_list(org=org)
    branch = branch_from_request(request, org) if branches or request.GET.get("branch") else None
    archived = request.GET.get("archived") == "1"
    found = selectors.service_list(org=org, active=not archived)
    today = dt.datetime.now(branch.tz).date() if branch is not None else dt.datetime.now(dt.UTC).date()
    prices = (
        selectors.prices_at(org=org, services=found, branch=branch, day=today)
        if branch is not None
        else {s.pk: selectors.list_price(s) for s in found}
    )
    ctx = {
        "rows": [(s, prices[s.pk]) for s in found],
        "branch": branch,
        "branches": branches,
        "archived": archived,
        "today": today,
    }
    return render_in_zone(request, "catalogue/list.html", ctx)


def _render_detail(
    request: AuthedRequest, service: Service, form: PriceForm, status: int = 200
) -> HttpResponse:
    org = request.org
    branches: list[Branch] = branch_list(org=org)
    now = dt.datetime.now(dt.UTC)
    ctx: dict[str, Any] = {
        "service": service,
        "list_price": selectors.list_price(service),
        "history": selectors.price_history(org=org, service=service),
        "prices_today": [
            (b, selectors.price_at(org=org, service=service, branch=b, day=now.astimezone(b.tz).date()))
            for b in branches
        ],
        "price_form": form,
    }
    return render_in_zone(request, "catalogue/detail.html", ctx, status=status)


def _price_form(request: AuthedRequest, data: Any = None) -> PriceForm:
    return PriceForm(data, org=request.org, today=selectors.earliest_today(org=request.org))


@require_GET
@require_perm("catalogue.view")
def service_detail(request: AuthedRequest, service_id: str) -> HttpResponse:
    return _render_detail(request, _service(request, service_id), _price_form(request))


@require_http_methods(["GET", "POST"])
@require_perm("catalogue.manage")
def service_create(request: AuthedRequest) -> HttpResponse:
    form = ServiceForm(request.POST or None, org=request.org)
    if request.method == "POST" and form.is_valid():
        write = functools.partial(
            services.service_create,
            org=request.org,
            actor=request.user,
            code=form.cleaned_data["code"],
            price=form.money(),
            details=form.details(),
            request=request,
        )
        service = _attempt(request, form, write, _("Service created."))
        if service is not None:
            return redirect("catalogue:detail", service_id=service.pk)
    ctx = {"form": form, "service": None}
    return render_in_zone(request, "catalogue/form.html", ctx, status=422 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@require_perm("catalogue.manage", audit_object="service")
def service_edit(request: AuthedRequest, service_id: str) -> HttpResponse:
    service = _service(request, service_id)
    form = ServiceForm(request.POST or None, org=request.org, service=service)
    if request.method == "POST" and form.is_valid():
        write = functools.partial(
            services.service_update,
            org=request.org,
            actor=request.user,
            service=service,
            details=form.details(),
            request=request,
        )
        if _attempt(request, form, write, _("Service saved.")) is not None:
            return redirect("catalogue:detail", service_id=service.pk)
    ctx = {"form": form, "service": service}
    return render_in_zone(request, "catalogue/form.html", ctx, status=422 if form.errors else 200)


@require_POST
@require_perm("catalogue.manage", audit_object="service")
def price_change(request: AuthedRequest, service_id: str) -> HttpResponse:
    """A new price from a date on; the form's errors are shown on the service page."""
    service = _service(request, service_id)
    form = _price_form(request, request.POST)
    if form.is_valid():
        write = functools.partial(
            services.price_set,
            org=request.org,
            actor=request.user,
            service=service,
            price=form.money(service),
            valid_from=form.cleaned_data["valid_from"],
            branch=form.cleaned_data["branch"],
            request=request,
        )
        if _attempt(request, form, write, _("Price change saved.")) is not None:
            return redirect("catalogue:detail", service_id=service.pk)
    return _render_detail(request, service, form, status=422)


def _switch(
    request: AuthedRequest, service_id: str, write: Callable[..., Service], done: str
) -> HttpResponse:
    service = _service(request, service_id)
    write(org=request.org, actor=request.user, service=service, request=request)
    messages.success(request, done)
    return redirect("catalogue:detail", service_id=service.pk)


@require_POST
@require_perm("catalogue.manage", audit_object="service")
def service_archive(request: AuthedRequest, service_id: str) -> HttpResponse:
    return _switch(request, service_id, services.service_archive, _("Service archived."))


@require_POST
@require_perm("catalogue.manage", audit_object="service")
def service_restore(request: AuthedRequest, service_id: str) -> HttpResponse:
    return _switch(request, service_id, services.service_restore, _("Service restored."))
