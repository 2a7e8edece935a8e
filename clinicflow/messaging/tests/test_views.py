from __future__ import annotations

import pytest
from django.db import connection, transaction

from clinicflow.messaging.models import MessageTemplate
from clinicflow.messaging.services import message_enqueue
from clinicflow.messaging.tests.factories import APPT_CONTEXT, make_patient

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(org):
    patient = make_patient(org, first="Anna", phones=["+79161234567"])
    with transaction.atomic():
        return message_enqueue(
            org=org, patient=patient, channel="sms", kind="appointment_reminder", context=APPT_CONTEXT
        )


@pytest.mark.parametrize(
    ("persona", "status"),
    [("owner", 200), ("manager", 200), ("marketer", 403), ("frontdesk", 403), ("doctor", 403)],
)
def test_outbox_page_role_matrix(web, queued, persona, status):
    assert web(persona).get("/messaging/").status_code == status


def test_outbox_page_lists_messages_with_filters_and_no_bodies(web, queued):
    res = web("manager").get("/messaging/?status=queued")
    html = res.content.decode()
    assert res.status_code == 200
    assert "Petrova Anna" in html
    assert "+79161234567" in html
    assert "Botox" not in html
    res = web("manager").get("/messaging/?status=sent")
    assert "Petrova Anna" not in res.content.decode()


def test_outsider_sees_no_messages_of_another_organisation(web, queued):
    client = web("outsider")
    res = client.get(f"/messaging/?patient={queued.patient_id}")
    assert res.status_code == 200
    assert res.context["page"].paginator.count == 0
    html = client.get("/messaging/").content.decode()
    assert "Petrova" not in html
    assert "+79161234567" not in html
    assert str(queued.patient_id) not in html


def test_outbox_page_query_budget(web, org, queued, django_assert_num_queries):
    for i in range(5):
        patient = make_patient(org, first=f"P{i}", phones=[f"+7916000000{i}"])
        with transaction.atomic():
            message_enqueue(org=org, patient=patient, channel="sms", kind="recall", context={})
    client = web("owner")
    client.get("/messaging/")
    # + the branches, for each message's time zone; the audit event and its chain link are one
    # statement on PostgreSQL (clinicflow.core.audit), two elsewhere
    with django_assert_num_queries(12 if connection.vendor == "postgresql" else 13):
        client.get("/messaging/")


def test_manager_edits_a_template_and_new_messages_use_it(web, org):
    client = web("manager")
    url = "/messaging/templates/booking_code/sms/en/"
    assert client.get("/messaging/templates/").status_code == 200
    assert client.get(url).status_code == 200
    res = client.post(url, {"body": "{clinic} code: {code}"})
    assert res.status_code == 302
    row = MessageTemplate.objects.get(organization=org)
    assert (row.kind, row.channel, row.language, row.body) == (
        "booking_code",
        "sms",
        "en",
        "{clinic} code: {code}",
    )
    patient = make_patient(org, language="en")
    with transaction.atomic():
        m = message_enqueue(
            org=org, patient=patient, channel="sms", kind="booking_code", context={"code": "77"}
        )
    assert m.body_text == "Demo Aesthetic Clinic code: 77"
    assert client.post(f"{url}reset/").status_code == 302
    assert MessageTemplate.objects.count() == 0


def test_template_tags_are_refused(web, org):
    res = web("owner").post("/messaging/templates/survey/email/ru/", {"subject": "Hi", "body": "{% debug %}"})
    assert res.status_code == 422
    assert MessageTemplate.objects.count() == 0


def test_an_over_long_subject_is_refused_naming_the_field_and_the_typed_text_stays(web, org):
    res = web("owner").post(
        "/messaging/templates/survey/email/ru/", {"subject": "S" * 301, "body": "Thanks, {first_name}"}
    )
    assert res.status_code == 422
    assert MessageTemplate.objects.count() == 0
    assert res.context["errors"]["subject"] == ["Ensure this value has at most 300 characters (it has 301)."]
    assert "Thanks, {first_name}" in res.content.decode()


def test_unknown_template_is_404_and_other_roles_are_refused(web, org):
    assert web("owner").get("/messaging/templates/spam/sms/en/").status_code == 404
    assert web("marketer").get("/messaging/templates/").status_code == 403
    assert web("frontdesk").post("/messaging/templates/survey/sms/en/", {"body": "x"}).status_code == 403
    assert MessageTemplate.objects.count() == 0


def test_outsiders_override_does_not_touch_organisation_a(web, org, other_org):
    web("outsider").post("/messaging/templates/booking_code/sms/en/", {"body": "B {code}"})
    assert list(MessageTemplate.objects.values_list("organization_id", flat=True)) == [other_org.pk]
    patient = make_patient(org, language="en")
    with transaction.atomic():
        m = message_enqueue(
            org=org, patient=patient, channel="sms", kind="booking_code", context={"code": "1"}
        )
    assert m.body_text == "Demo Aesthetic Clinic: your booking code is 1. Do not share it with anyone."


@pytest.mark.parametrize(("language", "title"), [("ru", "Шаблоны сообщений"), ("zh-hans", "消息模板")])
def test_pages_are_translated(web, org, language, title):
    client = web("owner")
    client.cookies["cf_language"] = language
    assert f"<h1>{title}</h1>" in client.get("/messaging/templates/").content.decode()
