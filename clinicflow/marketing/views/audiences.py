"""Pages of audiences: the saved segments with their counts now, and a new audience whose count is shown
live as the filters change (``audience_count`` answers the htmx request with the number alone)."""

from __future__ import annotations

import functools

from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinicflow.accounts.access import AuthedRequest, require_perm
from clinicflow.core.errors import DomainError
from clinicflow.core.web import render_in_zone
from clinicflow.marketing.forms import AudienceForm
from clinicflow.marketing.selectors import audiences as sel
from clinicflow.marketing.services import audiences as svc
from clinicflow.marketing.views.common import attempt


@require_GET
@require_perm("marketing.view")
def audience_list(request: AuthedRequest) -> HttpResponse:
    org = request.org
    rows = [(a, sel.audience_count(org=org, filters=a.filters)) for a in sel.audience_list(org=org)]
    return render_in_zone(request, "marketing/audiences.html", {"rows": rows})


@require_http_methods(["GET", "POST"])
@require_perm("marketing.manage")
def audience_create(request: AuthedRequest) -> HttpResponse:
    org = request.org
    form = AudienceForm(request.POST or None, org=org)
    count = None
    if request.method == "POST" and form.is_valid():
        if not form.cleaned_data["name"]:
            form.add_error("name", _("A saved audience needs a name."))
        else:
            write = functools.partial(
                svc.audience_create, org=org, actor=request.user, name=form.cleaned_data["name"],
                filters=form.filters(),
            )  # fmt: skip
            if attempt(request, form, write, _("Audience saved.")) is not None:
                return redirect("marketing:audiences")
    elif request.method == "GET":
        count = sel.audience_count(org=org, filters={})
    ctx = {"form": form, "count": count}
    return render_in_zone(request, "marketing/audience_form.html", ctx, status=422 if form.errors else 200)


@require_GET
@require_perm("marketing.view")
def audience_count(request: AuthedRequest) -> HttpResponse:
    """The live count of the filters in the query (the form's fields): the number, or the refusal."""
    form = AudienceForm(request.GET, org=request.org)
    ctx: dict[str, object] = {"count": None, "error": ""}
    if not form.is_valid():
        ctx["error"] = "; ".join(str(e) for errs in form.errors.values() for e in errs)
    else:
        try:
            ctx["count"] = sel.audience_count(org=request.org, filters=form.filters())
        except DomainError as exc:
            ctx["error"] = "; ".join(f"{k}: {'; '.join(v)}" for k, v in exc.fields.items()) or str(
                exc.message
            )
    return render_in_zone(request, "marketing/_audience_count.html", ctx)


@require_POST
@require_perm("marketing.manage")
def recall_preset(request: AuthedRequest) -> HttpResponse:
    """Save the recall audience: botulinum therapy more than 5 months ago, no booking since."""
    svc.recall_preset_create(org=request.org, actor=request.user, name=_("Botulinum recall"))
    return redirect("marketing:audiences")


paths: list[URLPattern] = [
    path("audiences/", audience_list, name="audiences"),
    path("audiences/new/", audience_create, name="audience_create"),
    path("audiences/count/", audience_count, name="audience_count"),
    path("audiences/recall/", recall_preset, name="audience_recall"),
]
