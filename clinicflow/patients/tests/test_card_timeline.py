"""The patient card's timeline and side blocks (issue #13): every source's events newest first in the
clinic's zone, the role rules (services only with clinical access, payments only with the payment
permission, calls only for the front desk's roles), tenancy, the "book" action, paging and the
query budget."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from clinicflow.acquisition.models import Call, CallbackTask, CallStatus, Channel, Lead, WebSession
from clinicflow.booking.models import Appointment, AppointmentStatus, Payment, PaymentKind
from clinicflow.booking.tests.factories import make_doctor, make_service
from clinicflow.core.models import AuditEvent
from clinicflow.messaging.models import Message
from clinicflow.patients import timeline
from clinicflow.patients.models import Patient
from clinicflow.patients.tests.factories import make_patient

SERVICE = "Laser resurfacing"
REMINDER = "Reminder: Laser resurfacing tomorrow at 10:00"
T0 = dt.datetime(2026, 3, 1, 22, 30, tzinfo=dt.UTC)  # 2 March 01:30 in Moscow


def _appointment(
    org: Any, branch: Any, patient: Patient, service: Any, doctor: Any, start: dt.datetime, status: str
) -> Appointment:
    return Appointment.objects.create(
        organization=org,
        branch=branch,
        patient=patient,
        service=service,
        doctor=doctor,
        start_at=start,
        end_at=start + dt.timedelta(hours=1),
        busy_until=start + dt.timedelta(hours=1),
        status=status,
        price=Decimal("12000.00"),
        currency="RUB",
    )


@pytest.fixture
def story(org, branch, users) -> dict[str, Any]:
    """One patient with one event of every kind, an hour apart from T0 on, plus an upcoming visit
    and an open callback."""
    patient = make_patient(org, branch=branch)
    service = make_service(org, name=SERVICE)
    doctor = make_doctor(org, branch, [service], name="Dr Petrova")
    channel = Channel.objects.create(organization=org, code="search_ads", name="Yandex Direct")
    hour = dt.timedelta(hours=1)
    session = WebSession.objects.create(
        organization=org,
        client_id="c1",
        started_at=T0,
        utm_source="yandex",
        utm_medium="cpc",
        utm_campaign="spring-laser",
        channel=channel,
        patient=patient,
    )
    call = Call.objects.create(
        organization=org,
        provider="generic",
        provider_call_id="call-1",
        started_at=T0 + hour,
        status=CallStatus.MISSED,
        patient=patient,
        channel=channel,
        session=session,
        source="yandex",
    )
    Lead.objects.create(
        organization=org, name="Anna", patient=patient, channel=channel, created_at=T0 + 2 * hour
    )
    callback = CallbackTask.objects.create(
        organization=org, call=call, due_at=T0 + 3 * hour, created_at=T0 + 3 * hour
    )
    appt = _appointment(org, branch, patient, service, doctor, T0 + 4 * hour, AppointmentStatus.DONE)
    Payment.objects.create(
        organization=org,
        appointment=appt,
        patient=patient,
        branch=branch,
        amount=Decimal("12000.00"),
        currency="RUB",
        method="card",
        paid_at=T0 + 5 * hour,
    )
    Payment.objects.create(
        organization=org,
        patient=patient,
        branch=branch,
        amount=Decimal("1500.50"),
        currency="RUB",
        method="cash",
        kind=PaymentKind.REFUND,
        paid_at=T0 + 6 * hour,
    )
    Message.objects.create(
        organization=org,
        patient=patient,
        channel="sms",
        kind="appointment_reminder",
        language="en",
        to="+79161234567",
        body_text=REMINDER,
        status="sent",
        created_at=T0 + 7 * hour,
    )
    upcoming = _appointment(
        org, branch, patient, service, doctor, timezone.now() + dt.timedelta(days=2), AppointmentStatus.BOOKED
    )
    return {
        "patient": patient,
        "appt": appt,
        "upcoming": upcoming,
        "callback": callback,
        "doctor": doctor,
        "service": service,
        "channel": channel,
        "call": call,
    }


def _timeline(api: Any, persona: str, patient: Patient, **params: Any) -> Any:
    return api(persona).get(f"/api/v1/patients/{patient.pk}/timeline", params)


def test_every_source_appears_newest_first(api, story) -> None:
    response = _timeline(api, "owner", story["patient"])
    assert response.status_code == 200, response.content
    body = response.json()
    assert [e["kind"] for e in body["items"]] == [
        "appointment",  # the upcoming one, in two days
        "message",
        "payment",
        "payment",
        "appointment",
        "callback",
        "lead",
        "call",
        "web_session",
    ]
    assert body["next_before"] is None
    base = body["kinds"][:7]  # then the clinical kinds
    assert base == ["appointment", "payment", "call", "web_session", "lead", "callback", "message"]
    done = body["items"][4]
    assert (done["title"], done["status"], done["url"]) == (
        SERVICE,
        "Done",
        f"/booking/a/{story['appt'].pk}/",
    )
    refund, paid = body["items"][2], body["items"][3]
    assert (refund["amount"], refund["currency"], refund["title"]) == ("-1500.50", "RUB", "Refund")
    assert paid["amount"] == "12000.00"
    assert "Yandex Direct" in body["items"][-1]["detail"] and "yandex / cpc" in body["items"][-1]["detail"]
    assert body["items"][1]["detail"] == f"SMS · {REMINDER}"


def test_front_desk_sees_no_service_and_no_clinical_message_text(api, web, story) -> None:
    items = _timeline(api, "frontdesk", story["patient"]).json()["items"]
    appointments = [e for e in items if e["kind"] == "appointment"]
    assert [e["title"] for e in appointments] == ["Appointment", "Appointment"]
    assert "Dr Petrova" in appointments[1]["detail"]
    message = next(e for e in items if e["kind"] == "message")
    assert (message["title"], message["detail"]) == ("Appointment reminder", "SMS")
    page = web("frontdesk").get(f"/patients/{story['patient'].pk}/").content.decode()
    assert SERVICE not in page and REMINDER not in page
    assert "Dr Petrova" in page
    assert SERVICE in web("doctor").get(f"/patients/{story['patient'].pk}/").content.decode()


def test_payments_and_revenue_only_with_the_payment_permission(api, web, story) -> None:
    patient = story["patient"]
    doctor = _timeline(api, "doctor", patient).json()
    assert "payment" not in doctor["kinds"] and all(e["kind"] != "payment" for e in doctor["items"])
    assert _timeline(api, "doctor", patient, kind="payment").status_code == 422
    for persona in ("doctor", "marketer"):
        page = web(persona).get(f"/patients/{patient.pk}/").content.decode()
        assert "12,000.00" not in page and "Lifetime revenue" not in page
    page = web("frontdesk").get(f"/patients/{patient.pk}/").content.decode()
    assert "Lifetime revenue" in page
    assert "₽10,499.50" in page  # 12,000.00 paid less 1,500.50 refunded, formatted
    assert "−₽1,500.50" in page or "-₽1,500.50" in page


def test_marketer_sees_the_website_visits_only(api, web, story) -> None:
    body = _timeline(api, "marketer", story["patient"]).json()
    assert body["kinds"] == ["web_session"]
    assert [e["kind"] for e in body["items"]] == ["web_session"]
    page = web("marketer").get(f"/patients/{story['patient'].pk}/").content.decode()
    assert "Website visit" in page and "Dr Petrova" not in page and "Missed call" not in page


def test_another_organisations_rows_never_appear(api, web, other_org, story) -> None:
    patient = story["patient"]
    # a row of another organisation naming this patient (cannot happen through the services)
    Call.objects.create(
        organization=other_org,
        provider="generic",
        provider_call_id="foreign",
        started_at=T0,
        status=CallStatus.ANSWERED,
        patient=patient,
    )
    items = _timeline(api, "owner", patient).json()["items"]
    assert [e["kind"] for e in items].count("call") == 1
    assert _timeline(api, "outsider", patient).status_code == 404
    assert web("outsider").get(f"/patients/{patient.pk}/").status_code == 404


def test_book_action_opens_the_slot_search_for_this_patient(web, branch, story) -> None:
    patient = story["patient"]
    page = web("frontdesk").get(f"/patients/{patient.pk}/").content.decode()
    match = re.search(r'href="(/booking/slots/\?[^"]+)"', page)
    assert match is not None
    url = match.group(1).replace("&amp;", "&")
    assert f"patient={patient.pk}" in url and f"branch={branch.pk}" in url
    slots = web("frontdesk").get(url)
    assert slots.status_code == 200 and "Ivanova Anna" in slots.content.decode()
    assert "/booking/slots/" not in web("doctor").get(f"/patients/{patient.pk}/").content.decode()


def test_side_blocks_show_the_next_visit_and_the_open_callback(web, story) -> None:
    page = web("frontdesk").get(f"/patients/{story['patient'].pk}/").content.decode()
    assert "Next appointment" in page and f"/booking/a/{story['upcoming'].pk}/" in page
    assert "Open tasks and callbacks" in page and "Call back" in page
    doctor = web("doctor").get(f"/patients/{story['patient'].pk}/").content.decode()
    assert "Open tasks and callbacks" not in doctor and f"/booking/a/{story['upcoming'].pk}/" in doctor
    story["callback"].done_at = timezone.now()
    story["callback"].save()
    assert (
        "Open tasks and callbacks"
        not in web("frontdesk").get(f"/patients/{story['patient'].pk}/").content.decode()
    )


def test_timeline_is_on_the_clinics_clock_grouped_by_day(web, story) -> None:
    page = web("owner").get(f"/patients/{story['patient'].pk}/", {"kind": "web_session"}).content.decode()
    # 22:30 UTC on 1 March is 01:30 on 2 March in Moscow
    assert "2 March 2026" in page and "01:30" in page and "1 March 2026" not in page


def test_kind_filter_and_paging_by_before(api, org, branch, story) -> None:
    patient = story["patient"]
    calls = [e["kind"] for e in _timeline(api, "owner", patient, kind="call").json()["items"]]
    assert calls == ["call"]
    seen: list[str] = []
    before = None
    for _ in range(10):
        params = {"limit": 3, **({"before": before} if before else {})}
        body = _timeline(api, "owner", patient, **params).json()
        seen += [f"{e['kind']}@{e['at']}" for e in body["items"]]
        before = body["next_before"]
        if before is None:
            break
    assert len(seen) == 9 and len(set(seen)) == 9
    assert _timeline(api, "owner", patient, before="yesterday").status_code == 422


def test_viewing_the_card_audits_the_timeline_kinds_shown(web, org, story) -> None:
    patient = story["patient"]
    for persona in ("owner", "doctor"):
        web(persona).get(f"/patients/{patient.pk}/")
    rows = AuditEvent.objects.filter(organization=org, object_type="patient", object_id=str(patient.pk))
    owner, doctor = (rows.filter(role=r, action="view").latest("seq") for r in ("owner", "doctor"))
    assert "timeline.payment" in owner.fields and "timeline.appointment" in owner.fields
    assert "timeline.payment" not in doctor.fields and "timeline.appointment" in doctor.fields


def test_a_sensitive_event_never_reaches_a_viewer_without_clinical_access(
    monkeypatch, org, users, story
) -> None:
    from clinicflow.accounts.breakglass import patient_access

    patient = story["patient"]

    def leaky(q: timeline.EventQuery) -> list[timeline.TimelineEvent]:
        return [timeline.TimelineEvent(at=T0, kind="x", title="Botox 50u", sensitive=True)]

    fake = timeline.TimelineSource(
        kinds={"x": timeline.Kind(label="X", permissions=("patients.view",))}, events=leaky
    )
    monkeypatch.setattr(timeline, "sources", lambda: (fake,))
    for persona, shown in (("frontdesk", 0), ("doctor", 1)):
        user = users[persona]
        access = patient_access(org=org, user=user, patient_id=patient.pk, branch_id=patient.branch_id)
        page = timeline.timeline_page(
            org=org, patient=patient, viewer=timeline.Viewer(user=user, access=access)
        )
        assert len(page.events) == shown


def _many_events(org: Any, branch: Any, story: dict[str, Any], n: int) -> None:
    patient, service, doctor, channel = story["patient"], story["service"], story["doctor"], story["channel"]
    start = T0 - dt.timedelta(days=400)
    appts = Appointment.objects.bulk_create(
        [
            Appointment(
                organization=org,
                branch=branch,
                patient=patient,
                service=service,
                doctor=doctor,
                start_at=start + dt.timedelta(days=i),
                end_at=start + dt.timedelta(days=i, hours=1),
                busy_until=start + dt.timedelta(days=i, hours=1),
                status=AppointmentStatus.DONE,
                price=Decimal("5000.00"),
                currency="RUB",
            )
            for i in range(n // 4)
        ]
    )
    Payment.objects.bulk_create(
        [
            Payment(
                organization=org,
                appointment=a,
                patient=patient,
                branch=branch,
                amount=Decimal("5000.00"),
                currency="RUB",
                method="card",
                paid_at=a.end_at,
            )
            for a in appts
        ]
    )
    Call.objects.bulk_create(
        [
            Call(
                organization=org,
                provider="generic",
                provider_call_id=f"m{i}",
                started_at=start + dt.timedelta(days=i, hours=-2),
                status=CallStatus.ANSWERED,
                patient=patient,
                channel=channel,
            )
            for i in range(n // 4)
        ]
    )
    Message.objects.bulk_create(
        [
            Message(
                organization=org,
                patient=patient,
                channel="sms",
                kind="appointment_reminder",
                language="en",
                to="+79161234567",
                body_text=REMINDER,
                status="sent",
                created_at=start + dt.timedelta(days=i, hours=-20),
            )
            for i in range(n // 4)
        ]
    )


def test_card_of_a_patient_with_200_events_keeps_its_query_budget(
    web, org, branch, story, django_assert_max_num_queries
) -> None:
    _many_events(org, branch, story, 200)
    client = web("owner")
    url = f"/patients/{story['patient'].pk}/"
    client.get(url)  # warm the session and the caches
    with django_assert_max_num_queries(
        38
    ):  # 25 + clinical (one per kind, missing consents) + care tasks + feedback
        response = client.get(url)
    assert response.status_code == 200
    assert "Show more" in response.content.decode()


def test_value_figures_are_formatted_for_the_interface_language(web, org, story) -> None:
    from clinicflow.patients.models import PatientPrediction

    now = timezone.now()
    PatientPrediction.objects.create(
        organization=org,
        patient=story["patient"],
        p_alive=0.8734,
        expected_visits=3.0,
        expected_value=Decimal("15000.00"),
        clv=Decimal("45210.50"),
        currency="RUB",
        until=(now + dt.timedelta(days=365)).date(),
        computed_at=now,
    )
    page = web("owner").get(f"/patients/{story['patient'].pk}/").content.decode()
    for text in ("Predicted value", "₽45,210.50", "P(alive)", "87.3%", "Predicted visits per year", ">3.0<"):
        assert text in page, text
    ru = web("owner").get(f"/patients/{story['patient'].pk}/", HTTP_ACCEPT_LANGUAGE="ru")
    ru_page = ru.content.decode()
    assert "45\xa0210,50\xa0₽" in ru_page and "87,3\xa0%" in ru_page, ru_page[:200]


def test_show_more_pages_the_card_by_before(web, org, branch, story) -> None:
    _many_events(org, branch, story, 200)
    client = web("owner")
    first = client.get(f"/patients/{story['patient'].pk}/", {"kind": "call"}).content.decode()
    match = re.search(r'href="(\?kind=call&amp;before=[^"]+)"', first)
    assert match is not None and first.count("cf-event ") == 50
    second = client.get(
        f"/patients/{story['patient'].pk}/" + match.group(1).replace("&amp;", "&")
    ).content.decode()
    assert second.count("cf-event ") == 1  # 51 calls: the oldest is left for the second page
    assert "2 March 2026" in first and "2 March 2026" not in second
