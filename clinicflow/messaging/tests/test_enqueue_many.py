"""message_enqueue_many: the same messages as message_enqueue one by one, in a fixed number of queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clinicflow.core.errors import ValidationFailed
from clinicflow.messaging.configuration import message_template_save
from clinicflow.messaging.models import Message, MessageAttachment
from clinicflow.messaging.services import message_enqueue, message_enqueue_many
from clinicflow.messaging.tests.factories import APPT_CONTEXT, grant, make_patient
from clinicflow.patients.models import ConsentPurpose

pytestmark = pytest.mark.django_db

ICS = b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
FIELDS = ("channel", "kind", "purpose", "language", "to", "subject", "body_text", "body_html", "context")


def _items(prefix: str, send_after: dt.datetime) -> list:  # type: ignore[type-arg]
    return [
        {
            "channel": "sms",
            "kind": "appointment_confirmation",
            "context": APPT_CONTEXT,
            "dedupe_key": f"{prefix}:conf:sms",
        },
        {
            "channel": "email",
            "kind": "appointment_confirmation",
            "context": APPT_CONTEXT,
            "dedupe_key": f"{prefix}:conf:email",
            "attachments": [("visit.ics", "text/calendar", ICS)],
        },
        {
            "channel": "sms",
            "kind": "appointment_reminder",
            "context": APPT_CONTEXT,
            "send_after": send_after,
            "dedupe_key": f"{prefix}:rem:sms",
        },
        {
            "channel": "email",
            "kind": "appointment_reminder",
            "context": APPT_CONTEXT,
            "send_after": send_after,
            "dedupe_key": f"{prefix}:rem:email",
        },
    ]


@pytest.mark.parametrize("language", ["en", "ru", "zh-hans"])
def test_batch_writes_exactly_what_single_enqueues_write(org, language):
    patient = make_patient(org, language=language)
    message_template_save(
        org=org,
        actor=None,
        kind="appointment_reminder",
        channel="sms",
        language=language,
        subject="",
        body="{clinic}: {service} at {start_local}",
    )
    send_after = timezone.now() + dt.timedelta(days=3)
    one_by_one = [message_enqueue(org=org, patient=patient, **item) for item in _items("single", send_after)]
    batch = message_enqueue_many(org=org, patient=patient, items=_items("batch", send_after))
    assert len(batch) == 4
    for a, b in zip(one_by_one, batch, strict=True):
        assert a is not None and b is not None
        a.refresh_from_db()
        b.refresh_from_db()
        assert [getattr(b, f) for f in FIELDS] == [getattr(a, f) for f in FIELDS]
        if a.kind == "appointment_reminder":
            assert b.send_after == a.send_after == send_after
        assert b.dedupe_key == a.dedupe_key.replace("single", "batch")
    assert batch[2].body_text == "Demo Aesthetic Clinic: Botox at 2026-12-01 10:00"
    att = MessageAttachment.objects.get(message=batch[1])
    assert (att.filename, att.content_type, bytes(att.content)) == ("visit.ics", "text/calendar", ICS)
    assert Message.objects.count() == 8


def test_batch_returns_existing_messages_for_used_keys_and_one_message_per_key(org):
    patient = make_patient(org)
    first = message_enqueue(
        org=org, patient=patient, channel="sms", kind="recall", context={}, dedupe_key="k:1"
    )
    out = message_enqueue_many(
        org=org,
        patient=patient,
        items=[
            {"channel": "sms", "kind": "recall", "context": {}, "dedupe_key": "k:1"},
            {"channel": "sms", "kind": "recall", "context": {}, "dedupe_key": "k:2"},
            {"channel": "email", "kind": "recall", "context": {}, "dedupe_key": "k:2"},
            {"channel": "sms", "kind": "recall", "context": {}},
        ],
    )
    assert first is not None
    assert out[0] is not None and out[0].pk == first.pk
    assert out[1] is not None and out[2] is out[1] and out[1].channel == "sms"
    assert out[3] is not None and out[3].dedupe_key is None
    assert Message.objects.count() == 3


def test_batch_skips_channels_without_address_and_marketing_without_consent(org):
    patient = make_patient(org, email="", phones=["+79161234567"])
    out = message_enqueue_many(
        org=org,
        patient=patient,
        items=[
            {"channel": "email", "kind": "recall", "context": {}},
            {"channel": "sms", "kind": "marketing", "purpose": "marketing", "context": {"text": "-20%"}},
            {"channel": "sms", "kind": "recall", "context": {}},
        ],
    )
    assert out[0] is None and out[1] is None
    assert out[2] is not None and out[2].to == "+79161234567"
    assert Message.objects.count() == 1
    grant(org, patient, ConsentPurpose.MARKETING_SMS)
    again = message_enqueue_many(
        org=org,
        patient=patient,
        items=[{"channel": "sms", "kind": "marketing", "purpose": "marketing", "context": {"text": "-20%"}}],
    )
    assert again[0] is not None and again[0].purpose == "marketing"
    assert Message.objects.count() == 2


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"channel": "fax"}, "channel"),
        ({"kind": "nope"}, "kind"),
        ({"purpose": "nope"}, "purpose"),
        ({"kind": "marketing"}, "purpose"),
        ({"send_after": dt.datetime(2030, 1, 1)}, "send_after"),
        ({"attachments": [("a.txt", "text/plain", "not bytes")]}, "attachments"),
    ],
)
def test_batch_validates_every_item_before_writing_anything(org, bad, field):
    patient = make_patient(org)
    items = [
        {"channel": "sms", "kind": "recall", "context": {}},
        {"channel": "sms", "kind": "recall", "context": {}, **bad},
    ]
    with pytest.raises(ValidationFailed) as exc:
        message_enqueue_many(org=org, patient=patient, items=items)  # type: ignore[arg-type]
    assert field in exc.value.fields
    assert Message.objects.count() == 0


def test_batch_refuses_another_organisations_patient(org, other_org):
    patient = make_patient(other_org)
    with pytest.raises(ValidationFailed) as exc:
        message_enqueue_many(
            org=org, patient=patient, items=[{"channel": "sms", "kind": "recall", "context": {}}]
        )
    assert "patient" in exc.value.fields
    assert Message.objects.count() == 0


def test_batch_costs_the_same_queries_for_two_or_twelve_messages(org):
    patient = make_patient(org)
    send_after = timezone.now() + dt.timedelta(days=3)
    counts = []
    for n in (1, 3):
        items = [
            dict(i, dedupe_key=f"{n}:{r}:{i['dedupe_key']}")
            for r in range(n)
            for i in _items("q", send_after)
        ]
        with CaptureQueriesContext(connection) as ctx:
            out = message_enqueue_many(org=org, patient=patient, items=items)  # type: ignore[arg-type]
        assert all(m is not None for m in out)
        counts.append(len(ctx.captured_queries))
    # dedupe lookup, phones, template overrides, savepoint, messages, attachments, release
    assert counts == [7, 7]
    assert Message.objects.count() == 16


@pytest.mark.django_db(transaction=True)
def test_batch_outside_a_transaction_is_refused(org):
    patient = make_patient(org)
    with pytest.raises(RuntimeError):
        message_enqueue_many(
            org=org, patient=patient, items=[{"channel": "sms", "kind": "recall", "context": {}}]
        )
    assert Message.objects.count() == 0
    with transaction.atomic():
        assert message_enqueue_many(org=org, patient=patient, items=[]) == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_batches_with_the_same_keys_store_each_key_once(org):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent transactions need PostgreSQL (SQLite serialises writers)")
    import threading

    patient = make_patient(org)
    send_after = timezone.now() + dt.timedelta(days=3)
    barrier = threading.Barrier(4)
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            with transaction.atomic():
                out = message_enqueue_many(org=org, patient=patient, items=_items("race", send_after))
            results.append([str(m.pk) for m in out if m is not None])
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert len(results) == 4
    stored = sorted(str(pk) for pk in Message.objects.filter(organization=org).values_list("pk", flat=True))
    assert len(stored) == 4
    assert all(sorted(r) == stored for r in results)
    assert MessageAttachment.objects.filter(organization=org).count() == 1
