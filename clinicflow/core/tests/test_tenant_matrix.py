"""AC-01 as a matrix (SECURITY.md): every page route and API operation that takes an id, asked by each
staff role of ``org`` for an object of ``other_org``, answers 404 and shows none of its values.

A role the route is closed to may answer 403 instead: the permission check runs before any lookup, so
the answer is the same for every id and says nothing about the other organisation. A page that takes
only POST answers a GET with 405 before looking anything up, for the same reason. API operations are
sent with each declared method and an empty body. django-ninja validates a body before the operation
runs, so an empty body may get 422 first: that is accepted only when the answer is byte-identical to
the one for an id that exists nowhere, i.e. it says nothing about the other organisation's object. A
page that answers GET with 405 is then POSTed to (empty form) and must answer 403 or 404. A route whose parameter cannot be mapped to an object of the other organisation fails the
test, so a new route must be added to ``_FILL`` (or to ``_NOT_TENANT_IDS`` with its reason).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from clinicflow.accounts.models import BreakGlassGrant
from clinicflow.accounts.roles import Role
from clinicflow.accounts.services import user_create
from clinicflow.acquisition.frontdesk.services import review_add
from clinicflow.acquisition.integrations.services import integration_create
from clinicflow.acquisition.marketing.services import campaign_create, channel_create
from clinicflow.acquisition.models import Call, CallbackTask, Lead, LeadMatch, WebhookEvent
from clinicflow.acquisition.tracking.services import tracking_number_add
from clinicflow.booking import services as booking
from clinicflow.booking.models import BookingCode
from clinicflow.booking.tests.factories import (
    local,
    make_doctor,
    make_patient,
    make_room,
    make_service,
    next_weekday,
)
from clinicflow.core.models import Branch, Organization
from clinicflow.core.tests.tenant_world_apps import app_ids
from clinicflow.messaging.services import message_enqueue_code
from clinicflow.privacy.tests.factories import make_incident
from config.api import api as ninja_api

pytestmark = pytest.mark.django_db

# Parameters that are not the id of a tenant's object, with the reason they are left out.
_NOT_TENANT_IDS = {
    # the public booking page of a clinic is public by design: its branch id is in every link to it
    "book/<str:branch_id>/": "public page of a clinic",
    "book/<str:branch_id>/details/": "public page of a clinic",
    # signature-authenticated webhook: the secret is the credential, the tenant comes from it (AU-05)
    "hooks/calls/<str:provider>/<str:secret>": "webhook credential",
    # template keys and report names are looked up inside the signed-in organisation, not ids
    "messaging/templates/<str:kind>/<str:channel>/<str:language>/": "keys, not ids",
    "messaging/templates/<str:kind>/<str:channel>/<str:language>/reset/": "keys, not ids",
    "analytics/reports/<slug:name>/": "report name, not an id",
    "analytics/reports/<slug:name>/export.<str:fmt>": "report name, not an id",
    "/reports/{name}": "report name, not an id",
}

WRONG_TOKEN = "not-the-token-0123456789abcdef"


@dataclass
class OtherWorld:
    """One object of each kind, all of ``other_org``, and the values none of our pages may show."""

    ids: dict[str, str]
    values: list[str]


def _other_world(other_org: Organization, other_branch: Branch, branch: Branch) -> OtherWorld:
    org = other_org
    service = make_service(org, code="laser-face", name="Zhang Secret Laser")
    room = make_room(org, other_branch, "Secret Room")
    doctor = make_doctor(org, other_branch, [service], "Dr Zhang Secretdoc")
    patient = make_patient(
        org,
        phone="+8613912345678",
        last_name="Wangsecret",
        first_name="Lisecret",
        email="li.secret@other.test",
    )
    day = next_weekday(2)
    appt = booking.appointment_book(
        org=org,
        actor=None,
        branch=other_branch,
        patient=patient,
        service=service,
        doctor=doctor,
        room=room,
        start=local(other_branch, day, 10),
        notify=False,
    )
    entry = booking.waitlist_add(
        org=org, actor=None, branch=other_branch, patient=patient, service=service, date_from=day, date_to=day
    )
    exception = booking.exception_add(
        org=org, actor=None, branch=other_branch, doctor=doctor, date=day, reason="Secret holiday"
    )
    channel = channel_create(org=org, actor=None, code="referral", name="Secret Channel", kind="free")
    campaign = campaign_create(org=org, actor=None, channel=channel, name="Secret Campaign")
    number = tracking_number_add(
        org=org, actor=None, number="+8613800000001", pool="static", campaign=campaign
    )
    integration, _ = integration_create(org=org, actor=None, provider="generic", name="Secret Integration")
    now = timezone.now()
    call = Call.objects.create(
        organization=org,
        provider="generic",
        provider_call_id="secret-call",
        integration=integration,
        branch=other_branch,
        caller_e164="+8613912345678",
        started_at=now - dt.timedelta(hours=1),
        status="missed",
    )
    task = CallbackTask.objects.create(
        organization=org, call=call, branch=other_branch, phone="+8613912345678", due_at=now
    )
    review = review_add(org=org, actor=None, call=call, verdict="good", note="Secret note")
    lead = Lead.objects.create(
        organization=org,
        name="Secret Lead",
        phone="+8613912345678",
        possible_patient=patient,
        match=LeadMatch.POSSIBLE,
    )
    event = WebhookEvent.objects.create(
        organization=org, integration=integration, provider="generic", error="Secret error", body="{}"
    )
    code = BookingCode.objects.create(
        organization=org,
        branch=other_branch,
        channel="sms",
        destination="+8613912345678",
        code_hash="0" * 64,
        expires_at=now + dt.timedelta(minutes=10),
    )
    message = message_enqueue_code(
        org=org, channel="sms", to="+8613912345678", language="en", code_ref=str(code.pk), context={}
    )
    grant = BreakGlassGrant.objects.create(
        organization=org,
        user=user_create(
            org=org, actor=None, email="dr@other.test", password="-", role=Role.DOCTOR, validate=False
        ),
        patient_id=patient.pk,
        reason="Secret emergency reason",
        expires_at=now + dt.timedelta(hours=1),
    )
    incident = make_incident(org, title="Secret breach incident", facts="Secret breach facts")
    from clinicflow.clinical.models import Photo  # clinical photos (issue #14): a row, no file needed

    photo = Photo.objects.create(
        organization=org, patient=patient, area="lips", view="front", kind="before", width=1, height=1,
        bytes=1, content_type="image/jpeg", sha256="0" * 64, storage_key=f"{org.pk}/secret.jpg",
    )  # fmt: skip
    from clinicflow.clinical.services import consents as consent_services  # e-consent (issue #14)

    tpl = consent_services.consent_template_create(
        org=org, actor=None, name="Secret consent", service=service
    )
    tpl_v = consent_services.consent_version_add(
        org=org, actor=None, template=tpl, language="en", title="Secret consent", body="Secret text"
    )
    signed = consent_services.consent_sign(
        org=org, actor=None, patient=patient, version=tpl_v, language="en", typed_name="Li", signature=None
    )
    from clinicflow.clinical.models import Consultation, Quote  # consultations and quotes (issue #14)

    consult = Consultation.objects.create(
        organization=org, appointment=appt, patient=patient, doctor=doctor, branch=other_branch,
        category="consultation", expectation=5, concerns="Secret concerns",
    )  # fmt: skip
    quote = Quote.objects.create(
        organization=org, consultation=consult, patient=patient, doctor=doctor, branch=other_branch,
        priced_on=day, valid_until=day, currency="CNY", total=1,
    )  # fmt: skip
    from clinicflow.booking.models import DoctorBranch  # FHIR Schedule (issue #20): a doctor at a branch
    from clinicflow.fhir.mapping.common import slot_id

    schedule = DoctorBranch.objects.get(organization=org, doctor=doctor)
    ids = {
        "schedule_id": schedule.pk,
        "slot_id": slot_id(schedule.pk, service.pk, local(other_branch, next_weekday(3), 14)),
        "consultation_id": consult.pk,
        "quote_id": quote.pk,
        "action": "accept",
        "template_id": tpl.pk,
        "signed_id": signed.pk,
        "photo_id": photo.pk,
        "incident_id": incident.pk,
        "grant_id": grant.pk,
        "message_id": message.pk,
        "patient_id": patient.pk,
        "service_id": service.pk,
        "appointment_id": appt.pk,
        "doctor_id": doctor.pk,
        "exception_id": exception.pk,
        "channel_id": channel.pk,
        "campaign_id": campaign.pk,
        "number_id": number.pk,
        "integration_id": integration.pk,
        "event_id": event.pk,
        "task_id": task.pk,
        "call_id": call.pk,
        "lead_id": lead.pk,
        "code_id": code.pk,
        "branch_id": other_branch.pk,
        # the two kinds of "entry": decided by the route below
        "waitlist_entry": entry.pk,
        "review_entry": review.pk,
        # a credential in the URL: never the other organisation's own token
        "token": WRONG_TOKEN,
        # the public booking page of our own branch, asked for the other organisation's code
        "own_branch": branch.pk,
    }
    ids |= app_ids(
        org=org, branch=other_branch, patient=patient, doctor=doctor, service=service, appt=appt, now=now
    )
    values = [
        "Wangsecret",
        "Lisecret",
        "li.secret@other.test",
        "8613912345678",
        "3912345678",
        "Zhang Secret",
        "Secretdoc",
        "Secret Room",
        "Secret holiday",
        "Secret Channel",
        "Secret Campaign",
        "8613800000001",
        "Secret Integration",
        "Secret note",
        "Secret Lead",
        "Secret error",
        "Secret emergency reason",
        "Secret breach",
        "Other Clinic",
        "Shanghai",
    ]
    return OtherWorld(ids={k: str(v) for k, v in ids.items()}, values=values)


def _param_key(route: str, name: str) -> str:
    if name == "entry_id":
        return "waitlist_entry" if route.startswith("booking/waitlist/") else "review_entry"
    if name == "branch_id" and route.startswith("book/"):
        return "own_branch"
    return name


def _page_routes() -> Iterator[tuple[str, list[str]]]:
    def walk(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, list[str]]]:
        for p in patterns:
            if isinstance(p, URLResolver):
                if not str(p.pattern).startswith("api/"):
                    yield from walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                route = prefix + str(p.pattern)
                names = list(p.pattern.converters) if hasattr(p.pattern, "converters") else []
                if names:
                    yield route, names

    yield from walk(get_resolver().url_patterns)


def _api_operations() -> Iterator[tuple[str, str, list[str]]]:
    for prefix, router in ninja_api._routers:
        for path, path_view in router.path_operations.items():
            if "{" not in path:
                continue
            full = f"{prefix}{path}"
            names = [part[1:-1].split(":")[-1] for part in full.split("/") if part.startswith("{")]
            for operation in path_view.operations:
                for method in operation.methods:
                    yield full, method, names


def _fill_page(route: str, names: list[str], ids: dict[str, str]) -> str:
    url = route
    for name in names:
        value = ids[_param_key(route, name)]
        for conv in ("str", "slug", "int", "uuid", "path"):
            url = url.replace(f"<{conv}:{name}>", value)
    return "/" + url


def _leaks(body: str, values: list[str]) -> list[str]:
    return [v for v in values if v in body]


def _check(response: Any, allowed: set[int], values: list[str], label: str, failures: list[str]) -> None:
    body = response.content.decode(errors="replace")
    if response.status_code not in allowed:
        failures.append(f"{label}: {response.status_code}")
    leaked = _leaks(body, values)
    if leaked:
        failures.append(f"{label}: shows {leaked}")


def _check_api(
    client: Client, method: str, url: str, world: OtherWorld, label: str, failures: list[str]
) -> None:
    response = client.generic(method, url, b"{}", content_type="application/json")
    if response.status_code == 422:
        nowhere = url
        for value in world.ids.values():
            nowhere = nowhere.replace(value, str(uuid.uuid4()))
        twin = client.generic(method, nowhere, b"{}", content_type="application/json")
        if (twin.status_code, twin.content) != (422, response.content):
            failures.append(f"{label}: 422 differs from an id that exists nowhere")
        _check(response, {422}, world.values, label, failures)
        return
    _check(response, {403, 404}, world.values, label, failures)


STAFF_ROLES = list(Role.values)


def test_every_route_taking_an_id_answers_404_for_another_organisations_object(
    web: Callable[[str], Client],
    api: Callable[[str], Client],
    org: Organization,
    branch: Branch,
    other_org: Organization,
    other_branch: Branch,
) -> None:
    world = _other_world(other_org, other_branch, branch)
    unmapped: list[str] = []
    pages: list[str] = []
    for route, names in _page_routes():
        if route in _NOT_TENANT_IDS:
            continue
        missing = [n for n in names if _param_key(route, n) not in world.ids]
        if missing:
            unmapped.append(f"{route} {missing}")
        else:
            pages.append(_fill_page(route, names, world.ids))
    operations: list[tuple[str, str]] = []
    for path, method, names in _api_operations():
        if path in _NOT_TENANT_IDS:
            continue
        missing = [n for n in names if n not in world.ids]
        if missing:
            unmapped.append(f"API {method} {path} {missing}")
            continue
        url = "/api/v1" + path
        for name in names:
            url = url.replace("{" + name + "}", world.ids[name])
        operations.append((method, url))
    assert not unmapped, "map these parameters to an object of the other organisation: " + "; ".join(unmapped)
    assert len(pages) >= 40
    assert len(operations) >= 10

    failures: list[str] = []
    for role in STAFF_ROLES:
        client = web(role)
        token_client = api(role)
        for url in pages:
            # the FHIR API (issue #20) takes bearer tokens only: a session gets 401 there
            response = (token_client if url.startswith("/fhir/") else client).get(url)
            _check(response, {403, 404, 405}, world.values, f"{role} GET {url}", failures)
            if response.status_code == 405:
                _check(client.post(url, {}), {403, 404}, world.values, f"{role} POST {url}", failures)
        for method, url in operations:
            _check_api(token_client, method, url, world, f"{role} API {method} {url}", failures)
    assert not failures, "\n".join(failures)


def test_the_matrix_fills_ids_that_exist_in_the_other_organisation(
    other_org: Organization, other_branch: Branch, branch: Branch
) -> None:
    """The matrix would pass vacuously on ids of nothing: each one is a real row of ``other_org``."""
    world = _other_world(other_org, other_branch, branch)
    for key in ("patient_id", "appointment_id", "doctor_id", "call_id", "event_id", "code_id"):
        uuid.UUID(world.ids[key]) if "-" in world.ids[key] else int(world.ids[key])
    assert world.ids["branch_id"] == str(other_branch.pk)
    assert world.ids["own_branch"] == str(branch.pk)
