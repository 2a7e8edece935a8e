from __future__ import annotations

import datetime as dt
import json

import pytest

from clinicflow.booking.models import Appointment
from clinicflow.booking.tests.conftest import Clinic
from clinicflow.booking.tests.factories import local, next_weekday


def post(client, url, body):  # type: ignore[no-untyped-def]
    return client.post(url, data=json.dumps(body), content_type="application/json")


def body(c: Clinic, start: dt.datetime, **kw):  # type: ignore[no-untyped-def]
    out = {
        "patient": str(c.patient.pk),
        "service": str(c.laser.pk),
        "doctor": str(c.doctor.pk),
        "start": start.isoformat(),
    }
    out.update(kw)
    return out


def test_post_appointment_answers_201_then_409_for_the_same_time(clinic: Clinic, api) -> None:  # type: ignore[no-untyped-def]
    start = local(clinic.branch, next_weekday(0), 10)
    r = post(api("frontdesk"), "/api/v1/appointments", body(clinic, start))
    assert r.status_code == 201, r.content
    data = r.json()
    assert data["start_local"] == f"{start.date().isoformat()}T10:00"
    assert data["room"] == str(clinic.room.pk) and data["source"] == "api" and data["price"] == "12000.00"
    r2 = post(api("frontdesk"), "/api/v1/appointments", body(clinic, start + dt.timedelta(minutes=30)))
    assert r2.status_code == 409
    assert r2.json()["error"]["code"] == "conflict"
    assert Appointment.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"start_hour": 7}, "start"),
        ({"service": "consult", "doctor": "doctor2", "swap_service": "laser"}, "service"),
        ({"past": True}, "start"),
        ({"branch": "00000000-0000-0000-0000-000000000000"}, "branch"),
        ({"naive": True}, "start"),
        ({"patient": "not-a-uuid"}, "patient"),
    ],
)
def test_bad_bookings_answer_4xx_naming_the_field_and_store_nothing(
    clinic: Clinic, api, change, field
) -> None:  # type: ignore[no-untyped-def]
    day = next_weekday(0)
    start = local(clinic.branch, day, change.get("start_hour", 10))
    b = body(clinic, start)
    if change.get("past"):
        b["start"] = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).isoformat()
    if change.get("naive"):
        b["start"] = start.replace(tzinfo=None).isoformat()
    if "doctor" in change:
        b["doctor"] = str(clinic.doctor2.pk)
    if "branch" in change:
        b["branch"] = change["branch"]
    if "patient" in change:
        b["patient"] = change["patient"]
    r = post(api("frontdesk"), "/api/v1/appointments", b)
    assert r.status_code == 422, r.content
    assert field in r.json()["error"]["fields"]
    assert Appointment.objects.count() == 0


def test_slots_list_doctor_room_and_local_start(clinic: Clinic, api) -> None:  # type: ignore[no-untyped-def]
    day = next_weekday(0)
    r = api("frontdesk").get(
        "/api/v1/slots",
        {
            "branch": str(clinic.branch.pk),
            "service": str(clinic.laser.pk),
            "from": day.isoformat(),
            "to": day.isoformat(),
            "limit": 3,
        },
    )
    assert r.status_code == 200, r.content
    items = r.json()["items"]
    assert [i["start_local"][-5:] for i in items] == ["09:00", "09:15", "09:30"]
    assert items[0]["doctor"] == str(clinic.doctor.pk) and items[0]["room"] == str(clinic.room.pk)
    assert items[0]["doctor_name"] == "Dr Petrova"
    bad = api("frontdesk").get("/api/v1/slots", {"branch": "nope", "service": str(clinic.laser.pk)})
    assert bad.status_code == 422 and "branch" in bad.json()["error"]["fields"]


def test_services_and_doctors_lists(clinic: Clinic, api) -> None:  # type: ignore[no-untyped-def]
    r = api("marketer").get("/api/v1/services")
    assert r.status_code == 200
    assert sorted(s["code"] for s in r.json()) == ["consult", "laser-face"]
    r = api("frontdesk").get("/api/v1/doctors", {"service": str(clinic.laser.pk)})
    assert [d["full_name"] for d in r.json()] == ["Dr Petrova"]
    assert r.json()[0]["branches"] == [str(clinic.branch.pk)]
    assert api("marketer").get("/api/v1/doctors").status_code == 403


def test_read_move_cancel_through_the_api(clinic: Clinic, api) -> None:  # type: ignore[no-untyped-def]
    day = next_weekday(0)
    a = post(api("frontdesk"), "/api/v1/appointments", body(clinic, local(clinic.branch, day, 10))).json()
    r = api("doctor").get(f"/api/v1/appointments/{a['id']}")
    assert r.status_code == 200 and r.json()["patient_name"] == "Ivanova Anna"
    r = api("frontdesk").get("/api/v1/appointments", {"doctor": str(clinic.doctor.pk), "status": "booked"})
    assert r.json()["count"] == 1
    r = post(
        api("frontdesk"),
        f"/api/v1/appointments/{a['id']}/move",
        {"start": local(clinic.branch, day, 12).isoformat()},
    )
    assert r.status_code == 200 and r.json()["start_local"].endswith("T12:00")
    r = post(
        api("frontdesk"),
        f"/api/v1/appointments/{a['id']}/move",
        {"start": local(clinic.branch, day, 22).isoformat()},
    )
    assert r.status_code == 422 and r.json()["error"]["fields"] == {
        "start": ["is outside the doctor's working hours at this branch"]
    }
    r = post(api("frontdesk"), f"/api/v1/appointments/{a['id']}/cancel", {"reason": "Patient asked"})
    assert (
        r.status_code == 200
        and r.json()["status"] == "cancelled"
        and r.json()["cancel_reason"] == "Patient asked"
    )
    assert post(api("doctor"), f"/api/v1/appointments/{a['id']}/cancel", {"reason": "x"}).status_code == 403


def test_outsider_gets_404_for_another_organisations_ids(clinic: Clinic, api) -> None:  # type: ignore[no-untyped-def]
    a = post(
        api("frontdesk"), "/api/v1/appointments", body(clinic, local(clinic.branch, next_weekday(0), 10))
    ).json()
    r = api("outsider").get(f"/api/v1/appointments/{a['id']}")
    assert r.status_code == 404 and "Ivanova" not in r.content.decode()
    r = post(api("outsider"), f"/api/v1/appointments/{a['id']}/cancel", {"reason": "x"})
    assert r.status_code == 404
    r = api("outsider").get("/api/v1/appointments")
    assert r.json()["count"] == 0
    r = post(api("outsider"), "/api/v1/appointments", body(clinic, local(clinic.branch, next_weekday(0), 12)))
    assert r.status_code == 422
    assert Appointment.objects.get(pk=a["id"]).status == "booked"


def test_payment_through_the_api(clinic: Clinic, api) -> None:  # type: ignore[no-untyped-def]
    r = post(
        api("frontdesk"),
        "/api/v1/payments",
        {
            "patient": str(clinic.patient.pk),
            "branch": str(clinic.branch.pk),
            "amount": "5000.50",
            "method": "cash",
        },
    )
    assert r.status_code == 201 and r.json()["amount"] == "5000.50" and r.json()["currency"] == "RUB"
