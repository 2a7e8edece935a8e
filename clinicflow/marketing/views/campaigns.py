"""Pages of campaigns: the list, a new campaign (an audience, an offer, variants A and B, a holdout and,
capacity-aware, the branch and service whose free hours to fill), a campaign with its recipients and
results per variant against the holdout, and queueing it (the worker then sends it in batches)."""

from __future__ import annotations

import functools

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinicflow.accounts.access import AuthedRequest, require_perm
from clinicflow.core.errors import DomainError
from clinicflow.core.web import flash_error, get_or_404, render_in_zone
from clinicflow.marketing.forms import CampaignForm
from clinicflow.marketing.selectors import campaigns as sel
from clinicflow.marketing.selectors import choices
from clinicflow.marketing.selectors.results import campaign_results
from clinicflow.marketing.services import campaigns as svc
from clinicflow.marketing.views.common import attempt, pick


@require_GET
@require_perm("marketing.view")
def campaign_list(request: AuthedRequest) -> HttpResponse:
    return render_in_zone(
        request, "marketing/campaigns.html", {"campaigns": sel.campaign_list(org=request.org)}
    )


@require_http_methods(["GET", "POST"])
@require_perm("marketing.manage")
def campaign_create(request: AuthedRequest) -> HttpResponse:
    org = request.org
    form = CampaignForm(request.POST or None, org=org)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        variants = [svc.VariantIn(d["headline_a"], d["text_a"])]
        if d["headline_b"] or d["text_b"]:
            variants.append(svc.VariantIn(d["headline_b"], d["text_b"]))
        audiences = {str(a.pk): a for a in choices.audiences(org)}
        write = functools.partial(
            svc.campaign_create, org=org, actor=request.user, name=d["name"],
            audience=audiences[d["audience"]], channel=d["channel"], variants=variants,
            offer=pick({str(o.pk): o for o in choices.offers(org)}, d["offer"]),
            holdout_percent=d["holdout_percent"], cost=d["cost"],
            branch=pick({str(b.pk): b for b in choices.branches(org)}, d["branch"]),
            service=pick({str(s.pk): s for s in choices.services(org)}, d["service"]),
            days_ahead=d["days_ahead"], per_minute=d["per_minute"], request=request,
        )  # fmt: skip
        campaign = attempt(request, form, write, _("Campaign saved as a draft."))
        if campaign is not None:
            return redirect("marketing:campaign", mcampaign_id=campaign.pk)
    ctx = {"form": form, "title": _("New campaign")}
    return render_in_zone(request, "marketing/form.html", ctx, status=422 if form.errors else 200)


@require_GET
@require_perm("marketing.view")
def campaign_detail(request: AuthedRequest, mcampaign_id: str) -> HttpResponse:
    org = request.org
    campaign = get_or_404(sel.campaign_get, org=org, campaign_id=mcampaign_id)
    ctx = {
        "campaign": campaign,
        "variants": sel.variants(org=org, campaign=campaign),
        "counts": sel.recipient_counts(org=org, campaign=campaign),
        "results": campaign_results(org=org, campaign=campaign),
    }
    return render_in_zone(request, "marketing/campaign.html", ctx, branch=campaign.branch)


@require_POST
@require_perm("marketing.manage", audit_object="marketing_campaign")
def campaign_queue(request: AuthedRequest, mcampaign_id: str) -> HttpResponse:
    """Resolve the audience into recipients now (consent checked again at every batch)."""
    campaign = get_or_404(sel.campaign_get, org=request.org, campaign_id=mcampaign_id)
    try:
        n = svc.campaign_queue(org=request.org, actor=request.user, campaign=campaign, request=request)
    except DomainError as exc:
        flash_error(request, exc)
    else:
        messages.success(request, _("Campaign queued: %(n)s recipients.") % {"n": n})
    return redirect("marketing:campaign", mcampaign_id=campaign.pk)


paths: list[URLPattern] = [
    path("campaigns/", campaign_list, name="campaigns"),
    path("campaigns/new/", campaign_create, name="campaign_create"),
    path("campaigns/<str:mcampaign_id>/", campaign_detail, name="campaign"),
    path("campaigns/<str:mcampaign_id>/queue/", campaign_queue, name="campaign_queue"),
]
