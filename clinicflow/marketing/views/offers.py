"""Pages of offers and coupons: the list, a new offer, an offer with its redemptions and a batch of
single-use codes (downloaded as CSV once generated)."""

from __future__ import annotations

import csv
import functools
import io

from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinicflow.accounts.access import AuthedRequest, require_perm
from clinicflow.core.web import get_or_404, render_in_zone
from clinicflow.marketing.forms import CouponBatchForm, OfferForm
from clinicflow.marketing.selectors import choices
from clinicflow.marketing.selectors import offers as sel
from clinicflow.marketing.services import offers as svc
from clinicflow.marketing.views.common import attempt


@require_GET
@require_perm("marketing.view")
def offer_list(request: AuthedRequest) -> HttpResponse:
    return render_in_zone(request, "marketing/offers.html", {"offers": sel.offer_list(org=request.org)})


@require_http_methods(["GET", "POST"])
@require_perm("marketing.manage")
def offer_create(request: AuthedRequest) -> HttpResponse:
    org = request.org
    form = OfferForm(request.POST or None, org=org)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        services = {str(s.pk): s for s in choices.services(org)}
        products = {str(p.pk): p for p in choices.products(org)}
        data = svc.OfferData(
            name=d["name"], kind=d["kind"], valid_from=d["valid_from"], valid_to=d["valid_to"],
            percent=d["percent"], amount=d["amount"], currency=org.currency,
            addon_service=services.get(d["addon_service"] or ""), product=products.get(d["product"] or ""),
            branch_ids=d["branches"], service_ids=d["services"], patient_kind=d["patient_kind"],
            per_patient_limit=d["per_patient_limit"], total_limit=d["total_limit"],
        )  # fmt: skip
        write = functools.partial(svc.offer_create, org=org, actor=request.user, data=data, request=request)
        offer = attempt(request, form, write, _("Offer created."))
        if offer is not None:
            return redirect("marketing:offer", offer_id=offer.pk)
    status = 422 if form.errors else 200
    return render_in_zone(
        request, "marketing/form.html", {"form": form, "title": _("New offer")}, status=status
    )


@require_GET
@require_perm("marketing.view")
def offer_detail(request: AuthedRequest, offer_id: str) -> HttpResponse:
    org = request.org
    offer = get_or_404(sel.offer_get, org=org, offer_id=offer_id)
    ctx = {
        "offer": offer,
        "coupons": sel.coupon_summary(org=org, offer=offer),
        "redemptions": sel.redemptions(org=org, offer_ids=[offer.pk])[-50:],
        "batch_form": CouponBatchForm(),
    }
    return render_in_zone(request, "marketing/offer.html", ctx)


@require_POST
@require_perm("marketing.manage", audit_object="offer")
def coupons_generate(request: AuthedRequest, offer_id: str) -> HttpResponse:
    """A batch of single-use codes, answered as a CSV file to print or mail-merge."""
    org = request.org
    offer = get_or_404(sel.offer_get, org=org, offer_id=offer_id)
    form = CouponBatchForm(request.POST)
    if form.is_valid():
        write = functools.partial(
            svc.coupons_generate, org=org, actor=request.user, offer=offer, count=form.cleaned_data["count"],
            request=request,
        )  # fmt: skip
        made = attempt(request, form, write, _("Codes generated."))
        if made is not None:
            buf = io.StringIO()
            out = csv.writer(buf)
            out.writerow(["code", "offer", "valid_from", "valid_to"])
            for c in made:
                out.writerow([c.code, offer.name, offer.valid_from, offer.valid_to])
            response = HttpResponse(buf.getvalue(), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="coupons-{made[0].batch}.csv"'
            return response
    ctx = {
        "offer": offer,
        "coupons": sel.coupon_summary(org=org, offer=offer),
        "redemptions": [],
        "batch_form": form,
    }
    return render_in_zone(request, "marketing/offer.html", ctx, status=422)


paths: list[URLPattern] = [
    path("offers/", offer_list, name="offers"),
    path("offers/new/", offer_create, name="offer_create"),
    path("offers/<str:offer_id>/", offer_detail, name="offer"),
    path("offers/<str:offer_id>/coupons/", coupons_generate, name="coupons_generate"),
]
