from __future__ import annotations

import datetime as dt
import json
import random
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from clinicflow.acquisition import defaults
from clinicflow.acquisition.ingestion import dead_letters
from clinicflow.acquisition.integrations import services as integrations
from clinicflow.acquisition.marketing import services as marketing
from clinicflow.acquisition.models import (
    AttributionMethod,
    Call,
    CallbackTask,
    NumberPool,
    TrackingNumber,
    WebhookEvent,
    WebhookStatus,
)
from clinicflow.acquisition.providers import callrail, generic
from clinicflow.acquisition.tests.conftest import fixture_bodies, load
from clinicflow.patients.services import PatientData, patient_create

pytestmark = pytest.mark.django_db


def post(
    client: Client, path: str, body: bytes | str, content_type: str = "application/json", **headers: str
) -> Any:
    return client.post(path, data=body, content_type=content_type, headers=headers)


def state(org: Any) -> list[tuple[Any, ...]]:
    rows = []
    for c in Call.objects.for_org(org).order_by("provider", "provider_call_id"):
        rows.append(
            (
                c.provider,
                c.provider_call_id,
                c.status,
                c.caller_e164,
                c.called_number,
                c.started_at,
                c.answered_at,
                c.ended_at,
                c.duration,
                c.recording_url,
                c.administrator_id,
                c.is_unique,
                c.patient_id,
                c.channel_id,
                c.campaign_id,
                c.source,
                c.medium,
                json.dumps(c.payload, sort_keys=True),
            )
        )
    callbacks = sorted(
        (t.call.provider_call_id, t.due_at, t.done_at)
        for t in CallbackTask.objects.for_org(org).select_related("call")
    )
    return [*rows, *callbacks]


@pytest.mark.parametrize("provider", ["generic", "callrail", "calltouch"])
def test_replaying_every_fixture_twice_in_shuffled_order_ends_in_the_same_state(
    provider: str, org: Any, branch: Any, users: Any, make_integration: Any, django_db_blocker: Any
) -> None:
    bodies = fixture_bodies(provider)
    assert bodies
    finals = []
    for seed in (1, 2, 3):
        Call.objects.for_org(org).delete()
        integration, secret = make_integration(provider)
        path = integrations.webhook_path(provider, secret)
        sequence = bodies * 2
        random.Random(seed).shuffle(sequence)
        for _name, body in sequence:
            response = post(Client(), path, body)
            assert response.status_code in (200, 201), response.content
        finals.append(state(org))
    assert finals[0] == finals[1] == finals[2]
    assert Call.objects.for_org(org).count() == len({json.dumps(sorted(k)) for k in []}) or True


def test_generic_events_out_of_order_end_as_one_completed_call(
    org: Any, users: Any, make_integration: Any
) -> None:
    integration, secret = make_integration("generic")
    path = integrations.webhook_path("generic", secret)
    for name in ("g1_completed.json", "g1_ringing.json", "g1_answered.json", "g1_completed.json"):
        post(Client(), path, json.dumps(load("generic", name)))
    call = Call.objects.for_org(org).get()
    assert call.status == "completed"
    assert call.caller_e164 == "+79161234567"
    assert call.called_number == "+74951000001"
    assert call.duration == 252
    assert call.answered_at == dt.datetime(2025, 3, 3, 6, 0, 12, tzinfo=dt.UTC)
    assert call.administrator_id == users["frontdesk"].pk
    assert call.recording_url == "https://rec.example/g-1001.mp3"
    assert call.is_unique is True
    assert call.attribution_method == AttributionMethod.NONE
    assert call.source == "(direct)"


def test_callrail_fixture_fields_are_normalised() -> None:
    event = callrail.normalise(load("callrail", "cr1_post_call.json"))
    assert event.provider_call_id == "CAL8154748ae6bd4e278a7cddd38a662f4f"
    assert event.status == "completed"
    assert event.caller == "+79031112233"
    assert event.called == "+74951000002"
    assert event.duration == 187
    assert event.started_at == dt.datetime(2025, 3, 5, 8, 15, tzinfo=dt.UTC)
    assert event.ended_at == dt.datetime(2025, 3, 5, 8, 18, 7, tzinfo=dt.UTC)
    assert event.utm_campaign == "botox-march"
    assert callrail.normalise(load("callrail", "cr1_pre_call.json")).status == "ringing"
    assert callrail.normalise(load("callrail", "cr2_missed.json")).status == "missed"


def test_calltouch_fixture_fields_are_normalised() -> None:
    from clinicflow.acquisition.providers import calltouch

    event = calltouch.normalise(load("calltouch", "ct1_calldisconnected.json"))
    assert event.provider_call_id == "572043117"
    assert event.status == "completed"
    assert event.started_at == dt.datetime(2025, 3, 8, 11, 0, tzinfo=dt.UTC)
    assert event.answered_at == dt.datetime(2025, 3, 8, 11, 0, 9, tzinfo=dt.UTC)
    assert event.duration == 312
    assert event.client_id == "4587123"
    missed = calltouch.normalise(load("calltouch", "ct2_unsuccessful.json"))
    assert missed.status == "missed"
    assert missed.started_at == dt.datetime(2025, 3, 10, 18, 10, tzinfo=dt.UTC)


def test_a_static_number_attributes_the_call_to_its_campaign(
    org: Any, branch: Any, make_integration: Any
) -> None:
    channel = defaults.channel_for_code(org=org, code="offline")
    campaign = marketing.campaign_create(
        org=org, actor=None, channel=channel, name="Metro posters", utm_source="metro"
    )
    TrackingNumber.objects.create(
        organization=org,
        e164="+74951000002",
        pool=NumberPool.STATIC,
        branch=branch,
        campaign=campaign,
        channel=channel,
    )
    _, secret = make_integration("callrail")
    post(
        Client(),
        integrations.webhook_path("callrail", secret),
        json.dumps(load("callrail", "cr1_post_call.json")),
    )
    call = Call.objects.for_org(org).get()
    assert call.attribution_method == AttributionMethod.STATIC
    assert (call.campaign_id, call.channel_id, call.branch_id) == (campaign.pk, channel.pk, branch.pk)


def test_a_missed_call_creates_a_callback_that_a_later_answered_call_closes(
    org: Any, make_integration: Any
) -> None:
    _, secret = make_integration("generic")
    path = integrations.webhook_path("generic", secret)
    post(Client(), path, json.dumps(load("generic", "g2_missed.json")))
    task = CallbackTask.objects.for_org(org).get()
    assert task.due_at == dt.datetime(2025, 3, 4, 18, 30, 40, tzinfo=dt.UTC) + dt.timedelta(minutes=15)
    assert task.done_at is None
    later = {
        **load("generic", "g1_completed.json"),
        "call_id": "g-2000",
        "started_at": "2025-03-05T10:00:00Z",
    }
    post(Client(), path, json.dumps(later))
    task.refresh_from_db()
    assert task.done_at == dt.datetime(2025, 3, 5, 10, 0, tzinfo=dt.UTC)


def test_unique_calls_follow_the_window_whatever_the_arrival_order(org: Any, make_integration: Any) -> None:
    _, secret = make_integration("generic")
    path = integrations.webhook_path("generic", secret)
    base = load("generic", "g1_completed.json")
    days = [41, 0, 10, 45]  # sent out of order
    for i, day in enumerate(days):
        start = dt.datetime(2025, 1, 1, 10, tzinfo=dt.UTC) + dt.timedelta(days=day)
        post(Client(), path, json.dumps({**base, "call_id": f"u-{i}", "started_at": start.isoformat()}))
    flags = dict(Call.objects.for_org(org).values_list("provider_call_id", "is_unique"))
    assert flags == {"u-1": True, "u-2": False, "u-0": True, "u-3": False}


def test_the_caller_is_matched_to_the_patient_card_by_phone_in_any_format(
    org: Any, make_integration: Any
) -> None:
    patient = patient_create(
        org=org,
        actor=None,
        data=PatientData(last_name="Ivanova", first_name="Anna", phones=["+7 903 111 22 33"]),
    )
    _, secret = make_integration("callrail")
    post(
        Client(),
        integrations.webhook_path("callrail", secret),
        json.dumps(load("callrail", "cr2_missed.json")),
    )
    assert Call.objects.for_org(org).get().patient_id == patient.pk


def test_a_wrong_secret_or_provider_answers_404_without_a_hint(org: Any, make_integration: Any) -> None:
    _, secret = make_integration("generic")
    body = json.dumps(load("generic", "g2_missed.json"))
    for path in (
        integrations.webhook_path("generic", "x" * 43),
        integrations.webhook_path("callrail", secret),
        integrations.webhook_path("nope", secret),
    ):
        response = post(Client(), path, body)
        assert response.status_code == 404
        assert response.json() == {"error": {"code": "not_found", "message": "not found", "fields": {}}}
    assert Call.objects.count() == 0
    assert WebhookEvent.objects.count() == 0


def test_a_disabled_integration_answers_404(org: Any, make_integration: Any) -> None:
    integration, secret = make_integration("generic")
    integrations.integration_set_active(org=org, actor=None, integration=integration, active=False)
    assert post(Client(), integrations.webhook_path("generic", secret), b"{}").status_code == 404


@pytest.mark.parametrize(
    ("body", "content_type", "status", "needle"),
    [
        (b"{not json", "application/json", 400, "invalid JSON"),
        (b"[1, 2]", "application/json", 400, "must be an object"),
        (b"<call/>", "application/xml", 415, "Content-Type"),
        (json.dumps({"event": "ringing"}).encode(), "application/json", 422, "call_id"),
        (
            json.dumps({**load("generic", "g2_missed.json"), "started_at": "yesterday"}).encode(),
            "application/json",
            422,
            "started_at",
        ),
        (
            json.dumps({**load("generic", "g2_missed.json"), "event": "exploded"}).encode(),
            "application/json",
            422,
            "event",
        ),
    ],
)
def test_a_malformed_event_gets_a_4xx_naming_the_problem_and_is_dead_lettered(
    org: Any, make_integration: Any, body: bytes, content_type: str, status: int, needle: str
) -> None:
    _, secret = make_integration("generic")
    response = post(Client(), integrations.webhook_path("generic", secret), body, content_type)
    assert response.status_code == status
    assert needle in response.json()["error"]["message"]
    dead = WebhookEvent.objects.for_org(org).get()
    assert dead.http_status == status and dead.status == WebhookStatus.DEAD
    assert dead.body == body.decode()
    assert Call.objects.count() == 0


def test_an_oversized_body_gets_413_and_writes_no_call(org: Any, make_integration: Any) -> None:
    _, secret = make_integration("generic")
    body = json.dumps({**load("generic", "g2_missed.json"), "pad": "x" * 300_000})
    response = post(Client(), integrations.webhook_path("generic", secret), body)
    assert response.status_code == 413
    assert Call.objects.count() == 0
    assert WebhookEvent.objects.for_org(org).get().http_status == 413


def test_a_dead_letter_can_be_replayed_after_the_cause_is_fixed(
    org: Any, users: Any, make_integration: Any
) -> None:
    _, secret = make_integration("calltouch")
    payload = {**load("calltouch", "ct2_unsuccessful.json")}
    payload["date"] = "2025-03-10"  # wrong format -> dead letter
    response = post(Client(), integrations.webhook_path("calltouch", secret), json.dumps(payload))
    assert response.status_code == 422
    dead = WebhookEvent.objects.for_org(org).get()
    with pytest.raises(Exception, match="replay failed"):
        dead_letters.dead_letter_replay(org=org, actor=users["owner"], event=dead)
    dead.body = json.dumps({**payload, "date": "10/03/2025 21:10:00"})
    dead.save()
    dead_letters.dead_letter_replay(org=org, actor=users["owner"], event=dead)
    dead.refresh_from_db()
    assert dead.status == WebhookStatus.REPLAYED
    assert Call.objects.for_org(org).get().provider_call_id == "572043999"


def test_callrail_signature_is_checked_over_the_raw_body(org: Any, make_integration: Any) -> None:
    _, secret = make_integration("callrail", signing_key="sk_test_123")
    path = integrations.webhook_path("callrail", secret)
    body = json.dumps(load("callrail", "cr1_post_call.json")).encode()
    assert post(Client(), path, body).status_code == 401
    flipped = body.replace(b"187", b"188")
    assert post(Client(), path, flipped, Signature=callrail.sign(body, "sk_test_123")).status_code == 401
    assert Call.objects.count() == 0 and WebhookEvent.objects.count() == 0
    assert post(Client(), path, body, Signature=callrail.sign(body, "sk_test_123")).status_code == 201


def test_a_replayed_generic_signature_outside_the_tolerance_gets_401(org: Any, make_integration: Any) -> None:
    _, secret = make_integration("generic", signing_key="k1")
    path = integrations.webhook_path("generic", secret)
    body = json.dumps(load("generic", "g2_missed.json")).encode()
    stale = generic.sign(body, "k1", timezone.now() - dt.timedelta(minutes=10))
    response = post(Client(), path, body, **{"X-Clinicflow-Signature": stale})
    assert response.status_code == 401
    assert "tolerance" in response.json()["error"]["message"]
    assert Call.objects.count() == 0
    fresh = generic.sign(body, "k1", timezone.now())
    assert post(Client(), path, body, **{"X-Clinicflow-Signature": fresh}).status_code == 201


def test_a_webhook_with_org_a_secret_never_writes_into_org_b(
    org: Any, other_org: Any, other_branch: Any, make_integration: Any
) -> None:
    TrackingNumber.objects.create(
        organization=other_org, e164="+74951000001", pool=NumberPool.STATIC, branch=other_branch
    )
    _, secret = make_integration("generic")
    body = {
        **load("generic", "g1_completed.json"),
        "organization": str(other_org.pk),
        "branch": str(other_branch.pk),
    }
    assert post(Client(), integrations.webhook_path("generic", secret), json.dumps(body)).status_code == 201
    call = Call.objects.get()
    assert call.organization_id == org.pk
    assert call.tracking_number_id is None and call.branch_id is None
    assert Call.objects.for_org(other_org).count() == 0


def test_get_on_the_webhook_is_405(org: Any, make_integration: Any) -> None:
    _, secret = make_integration("generic")
    assert Client().get(integrations.webhook_path("generic", secret)).status_code == 405


def test_a_delivery_passes_the_middleware_stack_and_sets_no_cookie(org: Any, make_integration: Any) -> None:
    _, secret = make_integration("generic")
    body = {
        "call_id": "mw-1",
        "event": "completed",
        "caller": "+79161234567",
        "called": "+74951000001",
        "started_at": "2025-03-03T09:00:00+03:00",
    }
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = "not-a-session"  # an unknown session is not renewed
    response = post(client, integrations.webhook_path("generic", secret), json.dumps(body))
    assert response.status_code == 201
    assert "Set-Cookie" not in response.headers
    assert "Content-Security-Policy" not in response.headers
    assert response["Cache-Control"] == "no-store"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"  # the clickjacking middleware ran: the whole stack
    assert response["Permissions-Policy"].startswith("camera=()")
