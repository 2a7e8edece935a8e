from __future__ import annotations

import datetime as dt

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from clinicflow.core.access import AuthedRequest, public_view, require_perm
from clinicflow.core.models import Branch
from clinicflow.patients.models import Patient


@public_view
def index(request: AuthedRequest) -> HttpResponse:
    return redirect("core:home" if request.user.is_authenticated else "accounts:login")


@require_perm("patients.view")
def home(request: AuthedRequest) -> HttpResponse:
    org = request.org
    branches = list(Branch.objects.for_org(org).filter(is_active=True))
    now = timezone.now()
    for b in branches:
        b.local_now = now.astimezone(b.tz)
    patients = Patient.objects.for_org(org).filter(merged_into__isnull=True)
    return render(
        request,
        "core/home.html",
        {
            "branches": branches,
            "patient_count": patients.count(),
            "new_patients": patients.filter(created_at__gte=now - dt.timedelta(days=30)).count(),
        },
    )


@public_view
def healthz(request: AuthedRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


@public_view
def not_found(request: AuthedRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        return HttpResponse(
            b'{"error": {"code": "not_found", "message": "not found", "fields": {}}}',
            status=404,
            content_type="application/json",
        )
    return render(request, "404.html", status=404)


@public_view
def server_error(request: AuthedRequest) -> HttpResponse:
    from django.template import loader

    return HttpResponse(loader.get_template("500.html").render(), status=500)
