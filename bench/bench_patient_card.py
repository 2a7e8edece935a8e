"""The patient card of a patient with 200 events, through the whole page (issue #13: under 150 ms).

Seeds one organisation with 2,000 patients and their appointments, payments, calls and messages (so
the indexes have other rows to skip), one patient with 200 events of every kind (50 appointments, 50
payments, 50 calls, 50 messages, a web session, a lead, a callback), and as much again in another
organisation. Times ``GET /patients/<id>/`` as the owner (every block shown: the timeline's first
page, the side blocks, consents, the audit row) through Django's test client, and, as the anchor in
the same run, one raw-SQL statement that reads the same rows the timeline's sources read (each kind's
latest 51, UNION ALL). Prints BENCH patient_card_ms_<database>_p50/_p95, the page's CPU time in this
process (patient_card_cpu_ms_<database>_p50: steadier than wall time on a loaded machine), the
anchor's p95 and the ratio, and BENCH patient_card_ms: the page's p95 on PostgreSQL. ``BENCH_DB``
picks ``postgres``, ``sqlite`` or ``both`` (the default); ``BENCH_ROUNDS`` shrinks it for a quick look.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import percentile, seed_two_clinics, setup_django

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "60"))
OTHERS = int(os.environ.get("BENCH_PATIENTS", "2000"))
PER_KIND = 50  # x 4 kinds = 200 events for the patient on the card
T0 = dt.datetime(2025, 1, 6, 9, 0, tzinfo=dt.UTC)

ANCHOR = """
SELECT * FROM (SELECT a.start_at AS at, s.name, d.full_name, b.name, a.status FROM booking_appointment a
  JOIN catalogue_service s ON s.id = a.service_id JOIN booking_doctor d ON d.id = a.doctor_id
  JOIN core_branch b ON b.id = a.branch_id
  WHERE a.organization_id = %(org)s AND a.patient_id = %(p)s ORDER BY a.start_at DESC LIMIT 51) x
UNION ALL SELECT * FROM (SELECT paid_at, currency, method, kind, CAST(amount AS TEXT) FROM booking_payment
  WHERE organization_id = %(org)s AND patient_id = %(p)s ORDER BY paid_at DESC LIMIT 51) y
UNION ALL SELECT * FROM (SELECT started_at, status, source, medium, utm_campaign FROM acquisition_call
  WHERE organization_id = %(org)s AND patient_id = %(p)s ORDER BY started_at DESC LIMIT 51) z
UNION ALL SELECT * FROM (SELECT created_at, kind, channel, status, subject FROM messaging_message
  WHERE organization_id = %(org)s AND patient_id = %(p)s ORDER BY created_at DESC LIMIT 51) w
"""


def _rows_for(
    org: Any, branch: Any, patients: list[Any], service: Any, doctor: Any, channel: Any, n: int, key: str
) -> None:
    """``n`` appointments (done), their payments, ``n`` calls and ``n`` messages for each patient."""
    from clinicflow.acquisition.models import Call, CallStatus
    from clinicflow.booking.models import Appointment, AppointmentStatus, Payment
    from clinicflow.messaging.models import Message

    appts, payments, calls, messages = [], [], [], []
    for j, patient in enumerate(patients):
        for i in range(n):
            d = T0 + dt.timedelta(days=7 * i, minutes=j % 600)
            end = d + dt.timedelta(hours=1)
            appt = Appointment(
                organization=org,
                branch=branch,
                patient=patient,
                service=service,
                doctor=doctor,
                start_at=d,
                end_at=end,
                busy_until=end,
                status=AppointmentStatus.DONE,
                price=Decimal("5000.00"),
                currency="RUB",
            )
            appts.append(appt)
            payments.append(
                Payment(
                    organization=org,
                    appointment=appt,
                    patient=patient,
                    branch=branch,
                    amount=Decimal("5000.00"),
                    currency="RUB",
                    method="card",
                    paid_at=end,
                )
            )
            calls.append(
                Call(
                    organization=org,
                    provider="generic",
                    provider_call_id=f"{key}-{j}-{i}",
                    started_at=d - dt.timedelta(days=2),
                    status=CallStatus.ANSWERED,
                    patient=patient,
                    channel=channel,
                    source="yandex",
                    medium="cpc",
                )
            )
            messages.append(
                Message(
                    organization=org,
                    patient=patient,
                    channel="sms",
                    kind="appointment_reminder",
                    language="en",
                    to="+79161234567",
                    body_text="Reminder: laser resurfacing tomorrow at 10:00",
                    status="sent",
                    created_at=d - dt.timedelta(days=1),
                )
            )
    Appointment.objects.bulk_create(appts, batch_size=2000)
    Payment.objects.bulk_create(payments, batch_size=2000)
    Call.objects.bulk_create(calls, batch_size=2000)
    Message.objects.bulk_create(messages, batch_size=2000)


def _fill(org: Any, branch: Any, patients: list[Any], service: Any, doctor: Any, slug: str) -> None:
    """Four events for every other patient; the card patient's 200, a web session, a missed call
    with its callback and a lead."""
    from clinicflow.acquisition.models import Call, CallbackTask, CallStatus, Channel, Lead, WebSession

    channel = Channel.objects.create(organization=org, code="search_ads", name="Yandex Direct")
    _rows_for(org, branch, patients[1:], service, doctor, channel, 1, f"{slug}-o")
    patient = patients[0]
    _rows_for(org, branch, [patient], service, doctor, channel, PER_KIND, f"{slug}-card")
    session = WebSession.objects.create(
        organization=org, client_id="c1", started_at=T0, utm_source="yandex", patient=patient, channel=channel
    )
    call = Call.objects.create(
        organization=org,
        provider="generic",
        provider_call_id=f"{slug}-missed",
        started_at=T0,
        status=CallStatus.MISSED,
        patient=patient,
        session=session,
    )
    Lead.objects.create(organization=org, name="Anna", patient=patient, created_at=T0)
    CallbackTask.objects.create(organization=org, call=call, due_at=T0 + dt.timedelta(minutes=15))


def _seed() -> tuple[Any, Any]:
    return seed_two_clinics(OTHERS, _fill)


def run(database: str) -> None:
    setup_django(database, "bench_patient_card")
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()  # the test client's host and the in-memory mail outbox
    patient, owner = _seed()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    client = Client()
    client.force_login(owner, backend="django.contrib.auth.backends.ModelBackend")
    url = f"/patients/{patient.pk}/"
    first = client.get(url)
    assert first.status_code == 200, first.status_code
    assert first.content.count(b"cf-event ") == 50, first.content.count(b"cf-event ")
    timings, cpu, anchor = [], [], []
    sql = ANCHOR.replace("%(org)s", "%s").replace("%(p)s", "%s")
    from clinicflow.core.rawsql import db_uuid

    params = [db_uuid(patient.organization_id), db_uuid(patient.pk)] * 4
    for _ in range(ROUNDS):
        t0, c0 = time.perf_counter(), time.process_time()
        response = client.get(url)
        timings.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
        assert response.status_code == 200
        t0 = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        anchor.append((time.perf_counter() - t0) * 1000)
        assert len(rows) == 4 * (PER_KIND + 1) - 4 + 1, len(rows)  # 50 of each kind, the missed call
    tag = connection.vendor
    p95, a95 = percentile(timings, 95), percentile(anchor, 95)
    print(f"BENCH patient_card_ms_{tag}_p50 {percentile(timings, 50):.2f} ms")
    print(f"BENCH patient_card_ms_{tag}_p95 {p95:.2f} ms")
    # the Python side's CPU time (the database server's work excluded): steadier on a loaded machine
    print(f"BENCH patient_card_cpu_ms_{tag}_p50 {percentile(cpu, 50):.2f} ms")
    print(f"BENCH patient_card_raw_sql_ms_{tag}_p95 {a95:.2f} ms")
    print(f"BENCH patient_card_ratio_{tag} {p95 / a95:.1f} x", flush=True)
    if tag == "postgresql":
        # the headline figure (issue 13: under 150 ms): the whole page's p95 on the production database
        print(f"BENCH patient_card_ms {p95:.2f} ms", flush=True)


def main() -> None:
    which = os.environ.get("BENCH_DB", "both")
    if which in ("postgres", "sqlite"):
        run(which)
        return
    # each database in its own process: Django's settings are read once per process
    for database in ("postgres", "sqlite"):
        env = {**os.environ, "BENCH_DB": database}
        subprocess.run([sys.executable, __file__], env=env, check=True)


if __name__ == "__main__":
    main()
