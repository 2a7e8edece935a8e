"""Pages of product documents (seed 002): the packaged products with their document's state; one
product's document — the seven parts, each with its owner department and status (draft, reviewed),
publishing the next version once every part is reviewed, the versions and the printable PDF."""

from __future__ import annotations

import functools
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import URLPattern, path
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from clinicflow.accounts.access import AuthedRequest, require_perm
from clinicflow.catalogue import product_selectors
from clinicflow.catalogue.models import Product
from clinicflow.core.errors import DomainError
from clinicflow.core.web import flash_error, get_or_404, render_in_zone
from clinicflow.marketing.forms import PartForm
from clinicflow.marketing.models.documents import DocumentPart
from clinicflow.marketing.selectors import documents as sel
from clinicflow.marketing.services import documents as svc
from clinicflow.marketing.views.common import attempt


def _product(request: AuthedRequest, product_id: str) -> Product:
    return get_or_404(product_selectors.product_get, org=request.org, product_id=product_id)


@require_GET
@require_perm("marketing.view")
def document_index(request: AuthedRequest) -> HttpResponse:
    org = request.org
    products = product_selectors.product_list(org=org, active=None)
    latest = sel.latest_numbers(org=org)
    rows = [(p, latest.get(p.pk)) for p in products]
    return render_in_zone(request, "marketing/documents.html", {"rows": rows})


def _render(
    request: AuthedRequest, product: Product, forms: dict[str, PartForm], status: int = 200
) -> HttpResponse:
    org = request.org
    have = {p.part: p for p in sel.parts(org=org, product=product)}
    parts: list[dict[str, Any]] = []
    for key, label in DocumentPart.choices:
        row = have.get(key)
        form = forms.get(key) or PartForm(
            initial={
                "body": row.body if row else "",
                "owner": row.owner if row else sel.default_owner(key),
                "status": "reviewed" if row and row.status != "draft" else "draft",
            },
            prefix=key,
        )
        parts.append({"key": key, "label": label, "row": row, "form": form})
    ctx = {"product": product, "parts": parts, "versions": sel.versions(org=org, product=product)}
    return render_in_zone(request, "marketing/document.html", ctx, status=status)


@require_GET
@require_perm("marketing.view")
def document_edit(request: AuthedRequest, product_id: str) -> HttpResponse:
    return _render(request, _product(request, product_id), {})


@require_POST
@require_perm("marketing.manage", audit_object="product")
def part_save(request: AuthedRequest, product_id: str, part: str) -> HttpResponse:
    product = _product(request, product_id)
    if part not in DocumentPart.values:
        raise Http404
    form = PartForm(request.POST, prefix=part)
    if form.is_valid():
        d = form.cleaned_data
        write = functools.partial(
            svc.part_save, org=request.org, actor=request.user, product=product, part=part, body=d["body"],
            owner=d["owner"], status=d["status"],
        )  # fmt: skip
        if attempt(request, form, write, _("Part saved.")) is not None:
            return redirect(f"{request.path.rsplit('/parts/', 1)[0]}/#part-{part}")
    return _render(request, product, {part: form}, status=422)


@require_POST
@require_perm("marketing.manage", audit_object="product")
def document_publish(request: AuthedRequest, product_id: str) -> HttpResponse:
    product = _product(request, product_id)
    try:
        version = svc.document_publish(org=request.org, actor=request.user, product=product)
    except DomainError as exc:
        flash_error(request, exc)
        for name in exc.fields:
            messages.error(
                request, _("Not ready: %(part)s") % {"part": dict(DocumentPart.choices).get(name, name)}
            )
    else:
        messages.success(request, _("Version %(n)s published.") % {"n": version.number})
    return redirect("marketing:document", product_id=product.pk)


@require_GET
@require_perm("marketing.view")
def document_pdf(request: AuthedRequest, product_id: str) -> HttpResponse:
    """A published version as a printable PDF (``?v=`` a number; the latest without it)."""
    product = _product(request, product_id)
    raw = request.GET.get("v", "")
    number = int(raw) if raw.isdigit() else None
    version = get_or_404(sel.version_get, org=request.org, product=product, number=number)
    pdf = svc.document_pdf(version=version, product=product, language=translation.get_language() or "en")
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{product.code}-v{version.number}.pdf"'
    return response


paths: list[URLPattern] = [
    path("documents/", document_index, name="documents"),
    path("documents/<str:product_id>/", document_edit, name="document"),
    path("documents/<str:product_id>/parts/<str:part>/", part_save, name="document_part"),
    path("documents/<str:product_id>/publish/", document_publish, name="document_publish"),
    path("documents/<str:product_id>/document.pdf", document_pdf, name="document_pdf"),
]
