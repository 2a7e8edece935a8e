"""Data residency of e-mail (SECURITY.md PR-04): a RU or CN organisation's e-mail never goes through a
relay whose region is unknown or foreign unless cross-border transfer is allowed and consented — the
same rule (``delivery.residency_refusal``) as SMS. A real SMTP server (aiosmtpd) proves nothing arrives."""

from __future__ import annotations

import pytest
from django.db import transaction

from clinicflow.core.models import Region
from clinicflow.messaging.models import Message, MessagingSettings
from clinicflow.messaging.services import message_enqueue
from clinicflow.messaging.tasks import Worker
from clinicflow.messaging.tests.factories import APPT_CONTEXT, grant, make_patient
from clinicflow.patients.models import ConsentPurpose

pytestmark = pytest.mark.django_db

UNKNOWN = (
    "data residency: a RU organisation's patient data may not be sent to a provider in an unknown "
    "region without the cross-border setting and the patient's consent"
)


def enqueue_email(org, patient, key="appt:1:confirmation"):
    with transaction.atomic():
        return message_enqueue(
            org=org,
            patient=patient,
            channel="email",
            kind="appointment_confirmation",
            context=APPT_CONTEXT,
            dedupe_key=key,
        )


@pytest.mark.parametrize("region", ["", "  ", "XX", "moon"])
def test_ru_email_through_a_relay_of_unknown_region_fails_and_nothing_arrives(
    org, smtp_server, settings, region
):
    settings.EMAIL_REGION = region
    message = enqueue_email(org, make_patient(org))

    summary = Worker().run_once()

    assert (summary.sent, summary.failed) == (0, 1)
    message.refresh_from_db()
    assert (message.status, message.last_error, message.attempts) == ("failed", UNKNOWN, 0)
    assert message.handed_over_at is None and message.sent_at is None
    assert smtp_server.received == []


@pytest.mark.parametrize("region", ["EU", "OTHER", "cn"])
def test_ru_email_through_a_foreign_relay_fails_and_nothing_arrives(org, smtp_server, settings, region):
    settings.EMAIL_REGION = region
    message = enqueue_email(org, make_patient(org))

    summary = Worker().run_once()

    assert (summary.sent, summary.failed) == (0, 1)
    message.refresh_from_db()
    assert message.status == "failed"
    assert message.last_error == (
        f"data residency: a RU organisation's patient data may not be sent to a provider in "
        f"{region.upper()} without the cross-border setting and the patient's consent"
    )
    assert smtp_server.received == []


def test_cn_email_through_a_ru_relay_fails_and_nothing_arrives(other_org, smtp_server, settings):
    settings.EMAIL_REGION = "RU"
    message = enqueue_email(other_org, make_patient(other_org))

    assert Worker().run_once().failed == 1
    message.refresh_from_db()
    assert message.status == "failed"
    assert message.last_error.startswith("data residency: a CN organisation's patient data")
    assert smtp_server.received == []


def test_ru_email_through_a_ru_relay_is_sent(org, smtp_server, settings):
    settings.EMAIL_REGION = "ru"
    message = enqueue_email(org, make_patient(org))

    assert Worker().run_once().sent == 1
    message.refresh_from_db()
    assert (message.status, message.last_error) == ("sent", "")
    assert [rcpt for rcpt, _ in smtp_server.received] == [["anna@example.com"]]


def test_email_of_an_organisation_without_residency_rules_goes_through_any_relay(org, smtp_server, settings):
    org.data_region = Region.EU
    org.save(update_fields=["data_region"])
    settings.EMAIL_REGION = ""
    message = enqueue_email(org, make_patient(org))

    assert Worker().run_once().sent == 1
    message.refresh_from_db()
    assert message.status == "sent"
    assert len(smtp_server.received) == 1


def test_cross_border_email_needs_both_the_org_setting_and_the_patients_consent(org, smtp_server, settings):
    settings.EMAIL_REGION = ""
    consented = make_patient(org, phones=["+79031112233"], email="boris@example.com", first="Boris")
    grant(org, consented, ConsentPurpose.CROSS_BORDER)
    without = make_patient(org, phones=["+79161234567"], email="anna@example.com")
    m1 = enqueue_email(org, consented, key="a")

    assert Worker().run_once().failed == 1  # the consent alone is not enough
    assert smtp_server.received == []

    MessagingSettings.objects.create(organization=org, allow_cross_border=True)
    m2 = enqueue_email(org, without, key="b")
    m3 = enqueue_email(org, consented, key="c")

    summary = Worker().run_once()

    assert (summary.sent, summary.failed) == (1, 1)
    assert dict(Message.objects.values_list("pk", "status")) == {
        m1.pk: "failed",
        m2.pk: "failed",
        m3.pk: "sent",
    }
    assert [rcpt for rcpt, _ in smtp_server.received] == [["boris@example.com"]]


def test_email_refused_for_residency_shows_the_reason_on_the_messages_page(web, org, smtp_server, settings):
    settings.EMAIL_REGION = ""
    enqueue_email(org, make_patient(org))
    Worker().run_once()

    html = web("manager").get("/messaging/?status=failed").content.decode()

    assert "Petrova Anna" in html
    assert (
        "data residency: a RU organisation&#x27;s patient data may not be sent to a provider in an unknown"
        in html
    )
    assert smtp_server.received == []
