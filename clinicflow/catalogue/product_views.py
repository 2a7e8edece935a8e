"""Pages of packaged products and product lines: the list (products by line), a new or changed product
(its services and sessions at one package price) and a new product line. Thin: a form parses, a
service writes, a refusal is shown on the field it names."""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from clinicflow.accounts.access import AuthedRequest, require_perm
from clinicflow.catalogue import product_selectors, product_services
from clinicflow.catalogue.models import ProductLine
from clinicflow.catalogue.product_forms import ITEM_ROWS, LineForm, ProductForm
from clinicflow.core.errors import DomainError
from clinicflow.core.money import Money
from clinicflow.core.web import get_or_404, render_in_zone


def _save(request: AuthedRequest, form: ProductForm | LineForm, write: Callable[[], object]) -> object:
    try:
        result = write()
    except DomainError as exc:
        for name, errors in exc.fields.items():
            form.add_error(name if name in form.fields else None, "; ".join(errors))
        if not exc.fields:
            form.add_error(None, str(exc.message))
        return None
    messages.success(request, _("Saved."))
    return result


@require_GET
@require_perm("catalogue.view")
def product_list(request: AuthedRequest) -> HttpResponse:
    org = request.org
    ctx = {
        "products": product_selectors.product_list(org=org, active=None),
        "lines": product_selectors.line_list(org=org),
    }
    return render_in_zone(request, "catalogue/products/list.html", ctx)


def _line(request: AuthedRequest, key: str) -> ProductLine | None:
    return {str(x.pk): x for x in product_selectors.line_list(org=request.org)}.get(key) if key else None


@require_http_methods(["GET", "POST"])
@require_perm("catalogue.manage")
def product_create(request: AuthedRequest) -> HttpResponse:
    org = request.org
    form = ProductForm(request.POST or None, org=org)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        write = functools.partial(
            product_services.product_create, org=org, actor=request.user, code=d["code"], name=d["name"],
            price=Money(d["price"], d["currency"]), items=form.items(), line=_line(request, d["line"]),
            valid_days=d["valid_days"], request=request,
        )  # fmt: skip
        if _save(request, form, write) is not None:
            return redirect("products:list")
    ctx = {"form": form, "product": None, "rows": range(ITEM_ROWS)}
    return render_in_zone(request, "catalogue/products/form.html", ctx, status=422 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@require_perm("catalogue.manage", audit_object="product")
def product_edit(request: AuthedRequest, product_id: str) -> HttpResponse:
    org = request.org
    product = get_or_404(product_selectors.product_get, org=org, product_id=product_id)
    form = ProductForm(request.POST or None, org=org, product=product)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        write = functools.partial(
            product_services.product_update, org=org, actor=request.user, product=product, name=d["name"],
            price=Money(d["price"], d["currency"]), items=form.items(), line=_line(request, d["line"]),
            is_active=d["is_active"], request=request,
        )  # fmt: skip
        if _save(request, form, write) is not None:
            return redirect("products:list")
    ctx = {"form": form, "product": product, "rows": range(ITEM_ROWS)}
    return render_in_zone(request, "catalogue/products/form.html", ctx, status=422 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@require_perm("catalogue.manage")
def line_create(request: AuthedRequest) -> HttpResponse:
    form = LineForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        write = functools.partial(
            product_services.line_create, org=request.org, actor=request.user, code=d["code"], name=d["name"],
            category=d["category"], request=request,
        )  # fmt: skip
        if _save(request, form, write) is not None:
            return redirect("products:list")
    ctx = {"form": form, "product": None, "line_form": True}
    return render_in_zone(request, "catalogue/products/form.html", ctx, status=422 if form.errors else 200)


paths: list[URLPattern] = [
    path("", product_list, name="list"),
    path("new/", product_create, name="create"),
    path("lines/new/", line_create, name="line_create"),
    path("<str:product_id>/edit/", product_edit, name="edit"),
]
