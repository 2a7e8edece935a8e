"""Deliveries against a real local HTTP server: signed, retried with back-off, redirects not
followed, replayed; events from the apps' saves; the API and the pages."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable, Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from clinicflow.accounts.models import User
from clinicflow.booking.models import Appointment, Doctor, Payment
from clinicflow.booking.tests.factories import make_patient, make_service
from clinicflow.core.models import Branch, Organization
from clinicflow.webhooks import services
from clinicflow.webhooks.jobs import deliver_due
from clinicflow.webhooks.models import Delivery, DeliveryStatus, Event, Subscription
from clinicflow.webhooks.signing import HEADER, verify

pytestmark = pytest.mark.django_db


class Receiver:
    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.replies: list[tuple[int, dict[str, str]]] = []


@pytest.fixture
def receiver(settings: Any) -> Iterator[tuple[Receiver, str]]:
    settings.WEBHOOKS_ALLOW_HTTP = True
    settings.WEBHOOKS_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            state.requests.append((self.path, dict(self.headers.items()), body))
            code, headers = state.replies.pop(0) if state.replies else (200, {})
            self.send_response(code)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


def _subscribe(org: Organization, url: str, *events: str) -> Subscription:
    return services.subscription_create(org=org, actor=None, url=url, events=events or Event.values)


def _visit(org: Organization, branch: Branch, n: int = 0) -> Appointment:
    start = timezone.now() + dt.timedelta(days=2)
    return Appointment.objects.create(
        organization=org,
        branch=branch,
        patient=make_patient(org, phone=f"+7916555000{n}"),
        service=make_service(org, code=f"s{n}"),
        doctor=Doctor.objects.create(organization=org, full_name=f"Dr W{n}"),
        start_at=start,
        end_at=start + dt.timedelta(minutes=30),
        busy_until=start + dt.timedelta(minutes=30),
        status="booked",
        price=Decimal("100"),
        currency="RUB",
    )


def test_a_booking_is_delivered_signed_to_the_local_server(
    org: Organization, branch: Branch, receiver: tuple[Receiver, str]
) -> None:
    state, url = receiver
    sub = _subscribe(org, url, Event.APPOINTMENT_BOOKED)
    visit = _visit(org, branch)
    assert deliver_due().startswith("webhooks: 1 delivered")
    row = Delivery.objects.for_org(org).get()
    assert row.status == DeliveryStatus.DELIVERED and row.attempts == 1 and row.last_status_code == 200
    path, headers, body = state.requests[0]
    assert path == "/hook"
    assert verify(sub.secret, headers[HEADER], body)
    assert not verify("whsec_wrong", headers[HEADER], body)
    payload = json.loads(body)
    assert payload["type"] == "appointment.booked" and payload["data"]["id"] == str(visit.pk)
    assert "last_name" not in json.dumps(payload)


def test_moves_cancellations_completion_and_payments_raise_their_events(
    org: Organization, branch: Branch, receiver: tuple[Receiver, str]
) -> None:
    _, url = receiver
    _subscribe(org, url)
    visit = _visit(org, branch)
    visit = Appointment.objects.get(pk=visit.pk)
    visit.start_at += dt.timedelta(hours=1)
    visit.end_at += dt.timedelta(hours=1)
    visit.busy_until += dt.timedelta(hours=1)
    visit.save()
    visit.status = "done"
    visit.save()
    Payment.objects.create(
        organization=org,
        appointment=visit,
        patient=visit.patient,
        branch=branch,
        amount=Decimal("100"),
        currency="RUB",
        method="card",
        paid_at=timezone.now(),
    )
    other = _visit(org, branch, 1)
    other.status = "cancelled"
    other.save()
    events = list(Delivery.objects.for_org(org).order_by("created_at").values_list("event", flat=True))
    for e in (
        "patient.created",
        "appointment.booked",
        "appointment.moved",
        "appointment.done",
        "payment.created",
        "appointment.cancelled",
    ):
        assert e in events, (e, events)


def test_failures_are_retried_with_exponential_back_off_then_given_up(
    org: Organization, branch: Branch, receiver: tuple[Receiver, str]
) -> None:
    state, url = receiver
    _subscribe(org, url, Event.PATIENT_CREATED)
    make_patient(org)
    row = Delivery.objects.for_org(org).get()
    now = timezone.now()
    gaps = []
    for _ in range(services.MAX_ATTEMPTS):
        state.replies.append((500, {}))
        before = now
        row = services.attempt(Delivery.objects.select_related("subscription").get(pk=row.pk), now=now)
        gaps.append((row.next_attempt_at - before).total_seconds())
        now = row.next_attempt_at
    assert row.status == DeliveryStatus.FAILED and row.attempts == services.MAX_ATTEMPTS
    assert gaps[:4] == [30, 60, 120, 240]
    assert row.last_error == "HTTP 500"


def test_a_redirect_is_not_followed(org: Organization, receiver: tuple[Receiver, str]) -> None:
    state, url = receiver
    _subscribe(org, url, Event.PATIENT_CREATED)
    state.replies.append((302, {"Location": url + "/elsewhere"}))
    make_patient(org)
    deliver_due()
    row = Delivery.objects.for_org(org).get()
    assert row.status == DeliveryStatus.PENDING and row.last_status_code == 302
    assert "redirects are not followed" in row.last_error
    assert [p for p, _, _ in state.requests] == ["/hook"]


def test_a_url_that_turns_private_after_subscribing_is_refused_at_delivery(org: Organization) -> None:
    sub = services.subscription_create(
        org=org,
        actor=None,
        url="https://hooks.example.com/",
        events=[Event.PATIENT_CREATED],
        resolve=lambda h, p: ["93.184.215.14"],
    )
    make_patient(org)
    row = Delivery.objects.select_related("subscription").get(subscription=sub)
    row = services.attempt(row, resolve=lambda h, p: ["169.254.169.254"])
    assert (
        row.status == DeliveryStatus.PENDING
        and "link-local" in row.last_error
        and row.last_status_code is None
    )


def test_api_crud_deliveries_and_replay(
    org: Organization, other_org: Organization, api: Callable[[str], Client], receiver: tuple[Receiver, str]
) -> None:
    _, url = receiver
    client = api("owner")
    bad = client.post(
        "/api/v1/webhooks/subscriptions",
        {"url": "https://10.0.0.1/", "events": ["patient.created"]},
        content_type="application/json",
    )
    assert bad.status_code == 422 and "url" in bad.json()["error"]["fields"]
    made = client.post(
        "/api/v1/webhooks/subscriptions",
        {"url": url, "events": ["patient.created"]},
        content_type="application/json",
    )
    assert made.status_code == 201, made.content
    sid = made.json()["id"]
    assert made.json()["secret"].startswith("whsec_")
    patched = client.patch(
        f"/api/v1/webhooks/subscriptions/{sid}", {"is_active": False}, content_type="application/json"
    )
    assert patched.json()["is_active"] is False
    client.patch(
        f"/api/v1/webhooks/subscriptions/{sid}", {"is_active": True}, content_type="application/json"
    )
    make_patient(org)
    deliveries = client.get("/api/v1/webhooks/deliveries").json()
    assert len(deliveries) == 1
    replay = client.post(
        f"/api/v1/webhooks/deliveries/{deliveries[0]['id']}/replay", {}, content_type="application/json"
    )
    assert replay.status_code == 201 and replay.json()["event_id"] == deliveries[0]["event_id"]
    deliver_due()
    assert Delivery.objects.for_org(org).filter(status=DeliveryStatus.DELIVERED).count() == 2
    foreign = services.subscription_create(org=other_org, actor=None, url=url, events=["patient.created"])
    assert client.get(f"/api/v1/webhooks/subscriptions/{foreign.pk}").status_code == 404
    assert client.delete(f"/api/v1/webhooks/subscriptions/{sid}").status_code == 204
    assert api("frontdesk").get("/api/v1/webhooks/subscriptions").status_code == 403


def test_pages_list_create_and_replay(
    org: Organization, web: Callable[[str], Client], users: dict[str, User], receiver: tuple[Receiver, str]
) -> None:
    _, url = receiver
    client = web("manager")
    refused = client.post("/webhooks/", {"url": "https://10.0.0.1/", "events": ["patient.created"]})
    assert refused.status_code == 422
    made = client.post("/webhooks/", {"url": url, "events": ["patient.created"]})
    assert made.status_code == 302
    make_patient(org)
    assert client.get(made["Location"]).status_code == 200
    assert client.get("/webhooks/deliveries/").status_code == 200
    row = Delivery.objects.for_org(org).get()
    assert client.post(f"/webhooks/deliveries/{row.pk}/replay/").status_code == 302
    assert Delivery.objects.for_org(org).count() == 2
    assert web("doctor").get("/webhooks/").status_code == 403
