"""Data residency (SECURITY.md PR-04; 152-FZ Art 18 part 5, PIPL Art 38-40, GDPR Art 44-46).

An organisation's ``data_region`` decides where its database and files may live.
``settings.PRIVACY_RESIDENCY`` lists, per region, the database hosts and object-storage buckets
allowed for it::

    PRIVACY_RESIDENCY = {
        "RU": {"database_hosts": ["db.msk.internal"], "buckets": ["cf-ru-photos"]},
        "EU": {"database_hosts": ["db.fra.internal"], "buckets": ["cf-eu-photos"]},
    }

A region with no entry is not restricted (the development default: the setting is empty). The
deployment's database host is ``DATABASES["default"]["HOST"]`` (empty: a local socket or SQLite
file, written ``localhost``); its bucket is the photo storage's ``bucket_name`` option (empty: the
local disk, written ``local``). An organisation whose region lists neither is refused:

- at start-up, ``manage.py check --database default`` reports each refused organisation (privacy.E001);
- per request, ``ResidencyMiddleware`` answers 451 with a plain page for a refused organisation's
  pages (after ``TenantMiddleware`` has set ``request.org``) and ``residency_guard`` raises for
  services and the API.

Cross-border transfer (``transfer_allowed``): to another region only when the organisation is listed
in ``settings.PRIVACY_CROSS_BORDER_ORGS`` (slugs) and the patient's latest ``cross_border`` consent
is a grant.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core import checks
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

from clinicflow.core.errors import DomainError
from clinicflow.core.models import Organization
from clinicflow.patients.models import ConsentEvent, ConsentEventKind, ConsentPurpose, Patient

LOCAL_HOST = "localhost"
LOCAL_BUCKET = "local"


class ResidencyRefused(DomainError):
    """The organisation's data would live outside its region."""

    status = 451


def deployment_location() -> tuple[str, str]:
    """``(database host, bucket)`` this deployment stores data in."""
    host = str(settings.DATABASES["default"].get("HOST") or LOCAL_HOST)
    options: dict[str, Any] = settings.STORAGES.get("clinical_photos", {}).get("OPTIONS", {}) or {}
    bucket = str(options.get("bucket_name") or LOCAL_BUCKET)
    return host, bucket


def residency_problem(org: Organization) -> str | None:
    """Why ``org`` may not be served here, or None."""
    rules: dict[str, dict[str, list[str]]] = getattr(settings, "PRIVACY_RESIDENCY", {}) or {}
    allowed = rules.get(str(org.data_region))
    if allowed is None:
        return None
    host, bucket = deployment_location()
    if host not in allowed.get("database_hosts", []):
        return f"database host {host} is not allowed for region {org.data_region}"
    if bucket not in allowed.get("buckets", []):
        return f"storage bucket {bucket} is not allowed for region {org.data_region}"
    return None


def residency_guard(org: Organization) -> None:
    problem = residency_problem(org)
    if problem:
        raise ResidencyRefused(problem, code="residency")


@checks.register(checks.Tags.database)
def check_residency(
    app_configs: Any = None, databases: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """Start-up check (with ``--database``): every organisation's storage is in its region."""
    if not databases:
        return []
    if Organization._meta.db_table not in connection.introspection.table_names():
        return []  # a new database before its first migrate: no organisation yet
    errors: list[checks.CheckMessage] = []
    for org in Organization.objects.all().order_by("slug")[:10_000]:
        problem = residency_problem(org)
        if problem:
            errors.append(checks.Error(f"organisation {org.slug}: {problem}", id="privacy.E001"))
    return errors


class ResidencyMiddleware:
    """Refuses, with a plain 451 page, the pages of an organisation stored outside its region."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        org = getattr(request, "org", None)
        problem = residency_problem(org) if isinstance(org, Organization) else None
        if problem:
            body = render_to_string("privacy/residency.html", {"org": org}, request=request)
            return HttpResponse(body, status=451)
        return self.get_response(request)


def transfer_allowed(*, org: Organization, patient: Patient, destination_region: str) -> bool:
    """May ``patient``'s data go to ``destination_region``?"""
    if destination_region == org.data_region:
        return True
    if org.slug not in (getattr(settings, "PRIVACY_CROSS_BORDER_ORGS", ()) or ()):
        return False
    latest = (
        ConsentEvent.objects.for_org(org)
        .filter(patient=patient, purpose=ConsentPurpose.CROSS_BORDER)
        .order_by("-at", "-pk")
        .values_list("kind", flat=True)
        .first()
    )
    return latest == ConsentEventKind.GRANTED
