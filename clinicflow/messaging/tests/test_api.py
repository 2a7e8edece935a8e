from __future__ import annotations

import pytest
from django.db import connection, transaction

from clinicflow.core.models import AuditEvent
from clinicflow.messaging.services import message_enqueue
from clinicflow.messaging.tests.factories import APPT_CONTEXT, make_patient

pytestmark = pytest.mark.django_db

URL = "/api/v1/messages"


@pytest.fixture
def outbox(org):
    anna = make_patient(org, first="Anna", phones=["+79161234567"], email="anna@example.com")
    boris = make_patient(org, first="Boris", phones=["+79031112233"], email="boris@example.com")
    with transaction.atomic():
        a = message_enqueue(
            org=org, patient=anna, channel="sms", kind="appointment_reminder", context=APPT_CONTEXT
        )
        b = message_enqueue(
            org=org, patient=boris, channel="email", kind="thank_you", context={"service": "Laser"}
        )
    b.status = "sent"
    b.save()
    return {"anna": anna, "boris": boris, "a": a, "b": b}


def test_owner_lists_the_outbox_without_bodies(api, outbox):
    res = api("owner").get(URL)
    assert res.status_code == 200
    data = res.json()
    assert data["count"] == 2
    assert [i["id"] for i in data["items"]] == [str(outbox["b"].pk), str(outbox["a"].pk)]
    item = data["items"][1]
    assert item == {
        "id": str(outbox["a"].pk),
        "patient_id": str(outbox["anna"].pk),
        "channel": "sms",
        "kind": "appointment_reminder",
        "purpose": "service",
        "language": "ru",
        "status": "queued",
        "to": "+79161234567",
        "attempts": 0,
        "last_error": "",
        "send_after": item["send_after"],
        "sent_at": None,
        "created_at": item["created_at"],
        "provider_message_id": "",
        "zone": "UTC",  # no branch: the times in UTC
    }
    assert "Botox" not in res.content.decode()
    assert AuditEvent.objects.filter(object_type="message", action="list").count() == 1


@pytest.mark.parametrize(
    ("params", "expected"),
    [("status=queued", ["a"]), ("status=sent", ["b"]), ("kind=thank_you", ["b"]), ("channel=sms", ["a"])],
)
def test_filters(api, outbox, params, expected):
    res = api("manager").get(f"{URL}?{params}")
    assert res.status_code == 200
    assert [i["id"] for i in res.json()["items"]] == [str(outbox[k].pk) for k in expected]


def test_filter_by_patient(api, outbox):
    res = api("owner").get(f"{URL}?patient={outbox['boris'].pk}")
    assert [i["id"] for i in res.json()["items"]] == [str(outbox["b"].pk)]


@pytest.mark.parametrize(
    ("params", "field"),
    [("status=lost", "status"), ("kind=spam", "kind"), ("patient=nope", "patient"), ("limit=0", "limit")],
)
def test_bad_filters_answer_422_naming_the_field(api, outbox, params, field):
    res = api("owner").get(f"{URL}?{params}")
    assert res.status_code == 422
    assert list(res.json()["error"]["fields"]) == [field]


@pytest.mark.parametrize(
    ("persona", "status"),
    [("owner", 200), ("manager", 200), ("marketer", 403), ("frontdesk", 403), ("doctor", 403)],
)
def test_role_matrix(api, outbox, persona, status):
    assert api(persona).get(URL).status_code == status


def test_outsider_sees_nothing_of_another_organisation(api, outbox):
    res = api("outsider").get(f"{URL}?patient={outbox['anna'].pk}")
    assert res.status_code == 200
    assert res.json()["count"] == 0
    body = res.content.decode()
    for value in (str(outbox["a"].pk), str(outbox["anna"].pk), "+79161234567", "anna@example.com"):
        assert value not in body
    assert api("outsider").get(URL).json()["count"] == 0


def test_list_query_budget(api, org, outbox, django_assert_num_queries):
    for i in range(5):
        patient = make_patient(org, first=f"P{i}", phones=[f"+7916000000{i}"])
        with transaction.atomic():
            message_enqueue(org=org, patient=patient, channel="sms", kind="recall", context={})
    client = api("owner")
    client.get(URL)  # warm the token's last_used_at
    # + the branches, for each message's time zone; the audit event and its chain link are one
    # statement on PostgreSQL (clinicflow.core.audit), two elsewhere
    with django_assert_num_queries(6 if connection.vendor == "postgresql" else 7):
        assert client.get(URL).status_code == 200
