"""FHIR ``Patient`` search by phone among 1,000,000 patients of one organisation (PostgreSQL).

Seeds the patients and their encrypted phones (with their blind indexes) by binary COPY through the
simulator's bulk writer, then times ``GET /fhir/r4/Patient?phone=<E.164>`` end to end (bearer token,
audit row, FHIR JSON) and, as an anchor, the raw SQL of the same lookup. Prints
BENCH fhir_search_ms (p95), BENCH fhir_search_p50_ms, BENCH fhir_search_sql_anchor_ms (p95) and
BENCH fhir_search_anchor_ratio (the endpoint's p95 over the SQL's). ``BENCH_PATIENTS`` sets N;
``BENCH_FHIR_REUSE=1`` times again on the database the last run seeded; ``BENCH_FHIR_DB`` names it.
Audit rows are left to the chainer as in production (``AUDIT_CHAIN_INLINE`` off: the search writes
its row in its own statement); ``BENCH_FHIR_INLINE_CHAIN=1`` times the development default instead
(each request also locks the chain head and links its row).
"""

from __future__ import annotations

import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import percentile, setup_django

N = int(os.environ.get("BENCH_PATIENTS", "1000000"))
OTHER = max(1, N // 10)  # a second organisation's patients share the tables
CHUNK = 100_000
SEARCHES = 300
DB = os.environ.get("BENCH_FHIR_DB", "cf_im_bench_fhir")  # the scratch database (one per helper)


def _seed(org, count: int, numbers: list[int], rng: random.Random) -> None:  # type: ignore[no-untyped-def]
    import numpy as np

    from clinicflow.patients.models import Patient, PatientPhone
    from clinicflow.simulator.engine.ids import uuid7_array
    from clinicflow.simulator.writers.bulk import BulkWriter

    now = int(time.time())
    np_rng = np.random.default_rng(rng.randrange(2**32))
    patients = BulkWriter(Patient, now=now, org_id=org.pk)
    phones = BulkWriter(PatientPhone, now=now, org_id=org.pk)
    for start in range(0, count, CHUNK):
        n = min(CHUNK, count - start)
        created = np.full(n, now - 86_400, dtype=np.int64) + np.arange(n)
        ids = uuid7_array(np_rng, created * 1000)
        last = [f"Last{start + i}" for i in range(n)]
        first = [f"First{start + i}" for i in range(n)]
        patients.write(
            {
                "id": ids,
                "branch": None,
                "last_name": last,
                "first_name": first,
                "search_name": [f"{a} {b}".lower() for a, b in zip(last, first, strict=True)],
                "birth_date__null": np.ones(n, dtype=bool),
                "birth_date": np.zeros(n, dtype=np.int64),
                "merged_into": None,
                "created_by": None,
                "created_at": created,
                "updated_at": created,
            }
        )
        phones.write(
            {
                "id": uuid7_array(np_rng, created * 1000),
                "patient": ids,
                "e164": [f"+7{numbers[start + i]}" for i in range(n)],
                "kind": "mobile",
                "is_primary": True,
            }
        )


def _reuse() -> bool:
    """``BENCH_FHIR_REUSE=1``: time again on the database a previous run seeded (no reseeding)."""
    if os.environ.get("BENCH_FHIR_REUSE") != "1":
        return False
    host = os.environ.get("PGHOST", "127.0.0.1")
    os.environ["DATABASE_URL"] = f"postgresql://postgres@{host}:5432/{DB}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["LOG_LEVEL"] = "WARNING"
    import django

    django.setup()
    return True


def main() -> None:
    reuse = _reuse()
    if not reuse:
        setup_django("postgres", DB)
    # imported after setup_django(): models need the app registry, which needs the scratch database's settings
    from django.conf import settings
    from django.db import connection, transaction
    from django.test import Client

    from clinicflow.accounts.roles import Role
    from clinicflow.accounts.services import api_token_issue, user_create
    from clinicflow.core.crypto import phone_index
    from clinicflow.core.services import organization_create

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    settings.AUDIT_CHAIN_INLINE = os.environ.get("BENCH_FHIR_INLINE_CHAIN") == "1"
    rng = random.Random(7)
    numbers = rng.sample(range(9_000_000_000, 9_999_999_999), N + OTHER)
    if reuse:
        from clinicflow.accounts.models import User
        from clinicflow.core.models import Organization

        org = Organization.objects.get(slug="bench")
        user = User.objects.get(email="bench@bench.test")
    else:
        org = organization_create(name="Bench", slug="bench", country="RU", currency="RUB")
        other = organization_create(name="Other", slug="other", country="RU", currency="RUB")
        started = time.perf_counter()
        with transaction.atomic():
            _seed(org, N, numbers, rng)
            _seed(other, OTHER, numbers[N:], rng)
        with connection.cursor() as cur:
            cur.execute("ANALYZE patients_patient")
            cur.execute("ANALYZE patients_patientphone")
        print(f"   loaded {N + OTHER} patients by COPY in {time.perf_counter() - started:.1f} s", flush=True)
        user = user_create(
            org=org, actor=None, email="bench@bench.test", password="-", role=Role.FRONTDESK, validate=False
        )
    _, raw = api_token_issue(user=user)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_ACCEPT="application/fhir+json")
    picks = [numbers[rng.randrange(N)] for _ in range(SEARCHES)]
    for d in picks[:10]:  # warm the connection, the token row and the caches
        client.get("/fhir/r4/Patient", {"phone": f"+7{d}"})
    timings, anchor = [], []
    sql = (
        "SELECT p.* FROM patients_patient p WHERE p.organization_id = %s AND p.merged_into_id IS NULL "
        "AND p.id IN (SELECT ph.patient_id FROM patients_patientphone ph "
        "WHERE ph.organization_id = %s AND ph.e164_index = %s) LIMIT 21"
    )
    for d in picks:
        t0 = time.perf_counter()
        response = client.get("/fhir/r4/Patient", {"phone": f"+7{d}"})
        timings.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200 and response.content.count(b'"resourceType":"Patient"') == 1, d
        t0 = time.perf_counter()
        with connection.cursor() as cur:
            cur.execute(sql, [org.pk, org.pk, phone_index(org.pk, f"+7{d}")])
            rows = cur.fetchall()
        anchor.append((time.perf_counter() - t0) * 1000)
        assert len(rows) == 1
    from clinicflow.core.audit import audit_chain

    audit_chain(org_id=org.pk, wait=True)  # what the worker does every few seconds
    p95, a95 = percentile(timings, 95), percentile(anchor, 95)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    chain = "chained inline" if settings.AUDIT_CHAIN_INLINE else "left to the chainer (production)"
    print(f"   {N} patients (+{OTHER} in another organisation), {SEARCHES} searches; load average {load}")
    print(f"   audit rows {chain}")
    print(f"BENCH fhir_search_p50_ms {percentile(timings, 50):.2f} ms")
    print(f"BENCH fhir_search_ms {p95:.2f} ms")
    print(f"BENCH fhir_search_sql_anchor_ms {a95:.3f} ms")
    print(f"BENCH fhir_search_anchor_ratio {p95 / a95:.1f} x")


if __name__ == "__main__":
    main()
