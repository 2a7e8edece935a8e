"""``Practitioner`` (doctors), ``Schedule`` (a doctor at a branch) and ``Slot`` (free slots from
booking's slot search): read and search."""

from __future__ import annotations

import datetime as dt
from typing import cast

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from clinicflow.accounts.api_auth import ApiRequest
from clinicflow.booking.models import DoctorBranch
from clinicflow.booking.selectors import Slot, doctor_get, slots_find
from clinicflow.catalogue.models import Service
from clinicflow.core.errors import NotFound
from clinicflow.core.models import Organization
from clinicflow.fhir import search, selectors
from clinicflow.fhir.errors import FhirError, invalid
from clinicflow.fhir.mapping.common import slot_id_parse, uuid_or_none
from clinicflow.fhir.mapping.schedule import practitioner_to_fhir, schedule_to_fhir, slot_to_fhir
from clinicflow.fhir.views.appointments import NOBODY
from clinicflow.fhir.views.base import fhir_endpoint, respond, searchset

DEFAULT_DAYS = 14
MAX_DAYS = 62


@fhir_endpoint({"GET": "booking.view"}, "doctor")
def practitioner_type(request: HttpRequest) -> HttpResponse:
    req = cast(ApiRequest, request)
    search.check_params(req.GET, {"name"})
    page = search.page_of(req.GET)
    rows = selectors.doctor_search(
        org=req.org, name=search.one(req.GET, "name"), offset=page.offset, count=page.count
    )
    return respond(searchset(req, [practitioner_to_fhir(d) for d in rows], page))


@fhir_endpoint({"GET": "booking.view"}, "doctor")
def practitioner_read(request: HttpRequest, doctor_id: str) -> HttpResponse:
    req = cast(ApiRequest, request)
    return respond(practitioner_to_fhir(doctor_get(org=req.org, doctor_id=doctor_id)))


def _schedules(org: Organization, rows: list[DoctorBranch]) -> list[dict[str, object]]:
    services = selectors.services_of_doctors(org=org, doctor_ids=[r.doctor_id for r in rows])
    return [schedule_to_fhir(r.pk, r.doctor, r.branch, services.get(r.doctor_id, [])) for r in rows]


@fhir_endpoint({"GET": "booking.view"}, "schedule")
def schedule_type(request: HttpRequest) -> HttpResponse:
    req = cast(ApiRequest, request)
    search.check_params(req.GET, {"actor"})
    page = search.page_of(req.GET)
    actor = search.one(req.GET, "actor")
    doctor_id = (uuid_or_none(search.reference(actor, "Practitioner", "actor")) or NOBODY) if actor else None
    rows = selectors.schedule_search(org=req.org, doctor_id=doctor_id, offset=page.offset, count=page.count)
    return respond(searchset(req, _schedules(req.org, rows), page))


@fhir_endpoint({"GET": "booking.view"}, "schedule")
def schedule_read(request: HttpRequest, schedule_id: str) -> HttpResponse:
    req = cast(ApiRequest, request)
    return respond(_schedules(req.org, [selectors.schedule_get(org=req.org, schedule_id=schedule_id)])[0])


def _free(
    org: Organization,
    schedule: DoctorBranch,
    service: Service,
    low: dt.datetime,
    high: dt.datetime,
    limit: int | None,
) -> list[Slot]:
    tz = schedule.branch.tz
    found = slots_find(
        org=org,
        branch=schedule.branch,
        service=service,
        doctor=schedule.doctor,
        date_from=low.astimezone(tz).date(),
        date_to=high.astimezone(tz).date(),
        limit=None,
        not_before=low,
    )
    inside = [s for s in found if low <= s.start < high]
    return inside if limit is None else inside[:limit]


@fhir_endpoint({"GET": "booking.view"}, "slot")
def slot_type(request: HttpRequest) -> HttpResponse:
    """Free slots of one schedule for one service: ``schedule`` and ``service-type`` (a service code,
    or ``urn:clinicflow:service|code``) are required; ``start`` bounds them (default: 14 days from now)."""
    req = cast(ApiRequest, request)
    params = req.GET
    search.check_params(params, {"schedule", "service-type", "start", "status"})
    page = search.page_of(params)
    status = search.one(params, "status")
    if status is not None and status != "free":
        raise invalid("only free slots are searched: status=free", "status")
    schedule_ref = search.one(params, "schedule")
    service_ref = search.one(params, "service-type")
    if schedule_ref is None or service_ref is None:
        raise invalid(
            "a Slot search needs schedule and service-type",
            "schedule" if schedule_ref is None else "service-type",
        )
    try:
        schedule = selectors.schedule_get(
            org=req.org, schedule_id=search.reference(schedule_ref, "Schedule", "schedule")
        )
    except NotFound as exc:
        raise invalid("unknown schedule", "schedule") from exc
    try:
        service = selectors.service_by_code(org=req.org, code=search.token(service_ref)[1])
    except NotFound as exc:
        raise invalid("unknown service-type", "service-type") from exc
    low, high = search.instant_bounds(params, "start")
    low = max(low or timezone.now(), timezone.now())
    high = high or low + dt.timedelta(days=DEFAULT_DAYS)
    if high - low > dt.timedelta(days=MAX_DAYS):
        raise invalid(f"start may span at most {MAX_DAYS} days", "start")
    slots = _free(req.org, schedule, service, low, high, page.offset + page.count + 1) if high > low else []
    resources = [slot_to_fhir(s, schedule.pk, service) for s in slots[page.offset :]]
    return respond(searchset(req, resources, page))


@fhir_endpoint({"GET": "booking.view"}, "slot")
def slot_read(request: HttpRequest, slot_id: str) -> HttpResponse:
    """A slot while it is free; 404 once it is taken or past (its id names schedule, service, start)."""
    req = cast(ApiRequest, request)
    key = slot_id_parse(slot_id)
    if key is None:
        raise FhirError(404, "slot not found")
    schedule = selectors.schedule_get(org=req.org, schedule_id=key[0])
    service = selectors.service_by_code(org=req.org, code=str(key[1]))
    start = key[2]
    found = [
        s
        for s in _free(req.org, schedule, service, start, start + dt.timedelta(minutes=1), None)
        if s.start == start
    ]
    if not found:
        raise FhirError(404, "slot not found or no longer free")
    return respond(slot_to_fhir(found[0], schedule.pk, service))
