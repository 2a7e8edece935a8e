"""The clinical rows of the patient card's timeline for a patient with 200 clinical entries (issue #14).

Seeds one organisation with 2,000 patients, each with a visit, a consultation, a quote, a signed
consent, a photo and a treatment record (so the indexes have other rows to skip), and one patient with
200 clinical entries (40 consultations, 40 quotes, 30 signed consents, 40 photos, 30 treatment
records, 20 complications), and as much again in another organisation. Times the timeline API
``GET /api/v1/patients/<id>/timeline?kind=consultation&kind=quote&...`` (the six clinical kinds, the
first 50 rows, the audit row) as the owner through Django's test client and, as the anchor in the same
run, one raw-SQL statement that reads the same rows (each kind's latest 51, UNION ALL). Prints BENCH
clinical_timeline_ms_<database>_p50/_p95, the anchor's p95 and the ratio, and BENCH
clinical_timeline_ms: the p95 on PostgreSQL. ``BENCH_DB`` picks ``postgres``, ``sqlite`` or ``both``
(the default); ``BENCH_ROUNDS`` and ``BENCH_PATIENTS`` shrink it for a quick look.
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
T0 = dt.datetime(2025, 1, 6, 9, 0, tzinfo=dt.UTC)
KINDS = ("consultation", "quote", "consent", "photo", "treatment", "complication")
# the card patient's entries: 40 + 40 + 30 + 40 + 30 + 20 = 200
VISITS, CONSENTS, TREATED, COMPLICATIONS = 40, 30, 30, 20

ANCHOR = """
SELECT * FROM (SELECT c.created_at AS at, c.category, c.outcome, CAST(c.expectation AS TEXT), d.full_name
  FROM clinical_consultation c JOIN booking_doctor d ON d.id = c.doctor_id
  WHERE c.organization_id = %(org)s AND c.patient_id = %(p)s ORDER BY c.created_at DESC LIMIT 51) a
UNION ALL SELECT * FROM (SELECT q.created_at, q.status, q.currency, CAST(q.total AS TEXT),
  CAST(q.consultation_id AS TEXT) FROM clinical_quote q JOIN clinical_consultation c ON c.id = q.consultation_id
  WHERE c.organization_id = %(org)s AND c.patient_id = %(p)s AND q.organization_id = %(org)s
  ORDER BY q.created_at DESC LIMIT 51) b
UNION ALL SELECT * FROM (SELECT s.signed_at, s.language, v.title, CAST(v.number AS TEXT), CAST(s.id AS TEXT)
  FROM clinical_signedconsent s JOIN clinical_consenttemplateversion v ON v.id = s.version_id
  WHERE s.organization_id = %(org)s AND s.patient_id = %(p)s ORDER BY s.signed_at DESC LIMIT 51) c
UNION ALL SELECT * FROM (SELECT taken_at, area, view, kind, CAST(id AS TEXT) FROM clinical_photo
  WHERE organization_id = %(org)s AND patient_id = %(p)s ORDER BY taken_at DESC LIMIT 51) d
UNION ALL SELECT * FROM (SELECT t.created_at, s.name, d.full_name, CAST(t.signed_at AS TEXT),
  CAST(t.appointment_id AS TEXT) FROM clinical_treatmentrecord t JOIN catalogue_service s ON s.id = t.service_id
  JOIN booking_doctor d ON d.id = t.doctor_id
  WHERE t.organization_id = %(org)s AND t.patient_id = %(p)s ORDER BY t.created_at DESC LIMIT 51) e
UNION ALL SELECT * FROM (SELECT created_at, severity, outcome, CAST(onset_date AS TEXT),
  CAST(appointment_id AS TEXT) FROM clinical_complication
  WHERE organization_id = %(org)s AND patient_id = %(p)s ORDER BY created_at DESC LIMIT 51) f
"""


def _clinical_rows(
    org: Any, branch: Any, patients: list[Any], service: Any, doctor: Any, version: Any, n: int, key: str
) -> None:
    """For each patient: ``n`` done visits, each with a consultation and a quote and a photo; a
    treatment record, a signed consent and a complication on the first ``TREATED``, ``CONSENTS``,
    ``COMPLICATIONS`` of them (scaled down for the background patients)."""
    from clinicflow.booking.models import Appointment, AppointmentStatus
    from clinicflow.clinical.models import (
        Complication,
        Consultation,
        Photo,
        Quote,
        SignedConsent,
        TreatmentRecord,
    )

    appts, consults, quotes, photos, records, signed, complications = [], [], [], [], [], [], []
    treated = TREATED * n // VISITS
    consents = CONSENTS * n // VISITS
    complicated = COMPLICATIONS * n // VISITS
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
            c = Consultation(
                organization=org,
                appointment=appt,
                patient=patient,
                doctor=doctor,
                branch=branch,
                category="laser",
                expectation=7,
                outcome="booked",
                created_at=d,
            )
            consults.append(c)
            quotes.append(
                Quote(
                    organization=org,
                    consultation=c,
                    patient=patient,
                    doctor=doctor,
                    branch=branch,
                    priced_on=d.date(),
                    valid_until=d.date() + dt.timedelta(days=30),
                    currency="RUB",
                    total=Decimal("45210.50"),
                    status="sent",
                    created_at=d + dt.timedelta(minutes=10),
                )
            )
            photos.append(
                Photo(
                    organization=org,
                    patient=patient,
                    appointment=appt,
                    area="lips",
                    view="front",
                    kind="before",
                    taken_at=d + dt.timedelta(minutes=20),
                    width=800,
                    height=600,
                    bytes=50_000,
                    content_type="image/jpeg",
                    sha256="0" * 64,
                    storage_key=f"{key}-{j}-{i}",
                )
            )
            if i < treated or (n == 1 and j % 2 == 0):
                records.append(
                    TreatmentRecord(
                        organization=org,
                        appointment=appt,
                        patient=patient,
                        doctor=doctor,
                        service=service,
                        created_at=d + dt.timedelta(minutes=30),
                        signed_at=end,
                    )
                )
            if i < consents or n == 1:
                signed.append(
                    SignedConsent(
                        organization=org,
                        patient=patient,
                        version=version,
                        language="en",
                        rendered_text="I agree to laser resurfacing.",
                        text_sha256="1" * 64,
                        signer_name="Anna",
                        signed_at=d - dt.timedelta(minutes=5),
                    )
                )
            if i < complicated:
                complications.append(
                    Complication(
                        organization=org,
                        patient=patient,
                        appointment=appt,
                        severity="mild",
                        onset_date=d.date() + dt.timedelta(days=1),
                        description="Redness",
                        outcome="resolved",
                        created_at=d + dt.timedelta(days=1),
                    )
                )
    batches: list[tuple[Any, list[Any]]] = [
        (Appointment, appts),
        (Consultation, consults),
        (Quote, quotes),
        (Photo, photos),
        (TreatmentRecord, records),
        (SignedConsent, signed),
        (Complication, complications),
    ]
    for model, rows in batches:
        model.objects.bulk_create(rows, batch_size=2000)


def _fill(org: Any, branch: Any, patients: list[Any], service: Any, doctor: Any, slug: str) -> None:
    """One visit's clinical records for every other patient; the card patient's 200 entries."""
    from clinicflow.clinical.services.consents import consent_template_create, consent_version_add

    template = consent_template_create(org=org, actor=None, name="Laser consent", service=service)
    version = consent_version_add(
        org=org, actor=None, template=template, language="en", title="Consent to laser", body="I agree."
    )
    _clinical_rows(org, branch, patients[1:], service, doctor, version, 1, f"{slug}-o")
    _clinical_rows(org, branch, [patients[0]], service, doctor, version, VISITS, f"{slug}-card")


def _seed() -> tuple[Any, Any]:
    return seed_two_clinics(OTHERS, _fill)


def run(database: str) -> None:
    setup_django(database, "bench_clinical_timeline")
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    from clinicflow.accounts.services import api_token_issue
    from clinicflow.core.rawsql import db_uuid

    setup_test_environment()
    patient, owner = _seed()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    _, raw = api_token_issue(user=owner)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    url = f"/api/v1/patients/{patient.pk}/timeline"
    params = {"kind": list(KINDS)}
    first = client.get(url, params)
    assert first.status_code == 200, first.content
    body = first.json()
    assert len(body["items"]) == 50 and {e["kind"] for e in body["items"]} <= set(KINDS), body["items"][:3]
    timings, cpu, anchor = [], [], []
    sql = ANCHOR.replace("%(org)s", "%s").replace("%(p)s", "%s")
    org_id, patient_id = db_uuid(patient.organization_id), db_uuid(patient.pk)
    args = [org_id, patient_id, org_id, patient_id, org_id] + [org_id, patient_id] * 4
    for _ in range(ROUNDS):
        t0, c0 = time.perf_counter(), time.process_time()
        response = client.get(url, params)
        timings.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
        assert response.status_code == 200
        t0 = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(sql, args)
            rows = cursor.fetchall()
        anchor.append((time.perf_counter() - t0) * 1000)
        assert len(rows) == 40 + 40 + 30 + 40 + 30 + 20, len(rows)
    tag = connection.vendor
    p95, a95 = percentile(timings, 95), percentile(anchor, 95)
    print(f"BENCH clinical_timeline_ms_{tag}_p50 {percentile(timings, 50):.2f} ms")
    print(f"BENCH clinical_timeline_ms_{tag}_p95 {p95:.2f} ms")
    print(f"BENCH clinical_timeline_cpu_ms_{tag}_p50 {percentile(cpu, 50):.2f} ms")
    print(f"BENCH clinical_timeline_raw_sql_ms_{tag}_p95 {a95:.2f} ms")
    print(f"BENCH clinical_timeline_ratio_{tag} {p95 / a95:.1f} x", flush=True)
    if tag == "postgresql":
        print(f"BENCH clinical_timeline_ms {p95:.2f} ms", flush=True)


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
