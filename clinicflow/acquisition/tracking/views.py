"""The tracking numbers page: the dynamic pool with the visit holding each number now, the static
numbers of offline campaigns, adding and (de)activating numbers. Thin: form → service → render."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from clinicflow.accounts.access import AuthedRequest, require_perm
from clinicflow.acquisition.forms import add_domain_errors
from clinicflow.acquisition.models import NumberPool
from clinicflow.acquisition.tracking import selectors, services
from clinicflow.acquisition.tracking.forms import NumberActiveForm, TrackingNumberForm
from clinicflow.core.errors import DomainError
from clinicflow.core.web import get_or_404, render_in_zone


@require_http_methods(["GET", "POST"])
@require_perm("acquisition.manage")
def numbers(request: AuthedRequest) -> HttpResponse:
    """GET: the numbers. POST: add one."""
    org = request.org
    form = TrackingNumberForm(request.POST or None, org=org)
    if request.method == "POST" and form.is_valid():
        try:
            row = services.tracking_number_add(org=org, actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, _("Number %(number)s added.") % {"number": row.e164})
            return redirect("acquisition:numbers")
    rows = list(selectors.tracking_numbers(org=org))
    holders = selectors.number_holders(org=org)
    dynamic = [(n, holders.get(n.pk)) for n in rows if n.pool == NumberPool.DYNAMIC]
    dynamic.sort(key=lambda x: ((x[0].branch.name if x[0].branch else ""), x[0].e164))
    ctx = {
        "form": form,
        "dynamic": dynamic,
        "static": [n for n in rows if n.pool == NumberPool.STATIC],
        "tz": selectors.org_timezone(org=org),
    }
    status = 422 if form.errors else 200
    return render_in_zone(request, "acquisition/marketing/numbers.html", ctx, status=status)


@require_POST
@require_perm("acquisition.manage")
def number_active(request: AuthedRequest, number_id: str) -> HttpResponse:
    number = get_or_404(selectors.tracking_number_get, org=request.org, number_id=number_id)
    form = NumberActiveForm(request.POST)
    active = form.switched_on()
    services.tracking_number_set_active(org=request.org, actor=request.user, number=number, active=active)
    text = _("%(number)s is active again.") if active else _("%(number)s deactivated.")
    messages.success(request, text % {"number": number.e164})
    return redirect("acquisition:numbers")
