"""Patient search by phone among 100,000 patients (SQLite, the default database).

Prints BENCH patient_search_p95_ms and BENCH patient_search_p50_ms over 500 searches with phones in
mixed local and international formats.
"""

from __future__ import annotations

import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import percentile, setup_django

N = int(os.environ.get("BENCH_PATIENTS", "100000"))


def main() -> None:
    setup_django("sqlite", "bench_patient_search")
    # imported after setup_django(): models need the app registry, which needs the scratch database's settings
    from django.db import transaction

    from clinicflow.core.models import Organization
    from clinicflow.core.services import branch_create, organization_create
    from clinicflow.patients.models import Patient, PatientPhone
    from clinicflow.patients.selectors import PatientFilters, patient_list

    org = organization_create(name="Bench", slug="bench", country="RU", currency="RUB")
    other = organization_create(name="Other", slug="other", country="RU", currency="RUB")
    branch_create(org=org, name="Main", slug="main", timezone="Europe/Moscow")
    rng = random.Random(7)
    numbers = rng.sample(range(9_000_000_000, 9_999_999_999), N * 2)
    started = time.perf_counter()
    with transaction.atomic():
        for target, offset in ((org, 0), (other, N)):
            patients = [
                Patient(
                    organization=target,
                    last_name=f"Last{i}",
                    first_name=f"First{i}",
                    search_name=f"last{i} first{i}",
                )
                for i in range(N)
            ]
            Patient.objects.bulk_create(patients, batch_size=5000)
            PatientPhone.objects.bulk_create(
                [
                    PatientPhone(
                        organization=target, patient=p, e164=f"+7{numbers[offset + i]}", is_primary=True
                    )
                    for i, p in enumerate(patients)
                ],
                batch_size=5000,
            )
    print(f"   loaded {2 * N} patients in {time.perf_counter() - started:.1f} s", flush=True)
    org = Organization.objects.get(slug="bench")
    timings = []
    for _ in range(500):
        d = str(numbers[rng.randrange(N)])
        query = rng.choice([f"8 ({d[:3]}) {d[3:6]}-{d[6:8]}-{d[8:]}", f"+7 {d[:3]} {d[3:]}", f"+7{d}"])
        t0 = time.perf_counter()
        found = list(patient_list(org=org, filters=PatientFilters(q=query, search_contacts=True))[:50])
        timings.append((time.perf_counter() - t0) * 1000)
        assert len(found) == 1, query
    print(f"BENCH patient_search_p50_ms {percentile(timings, 50):.2f} ms")
    print(f"BENCH patient_search_p95_ms {percentile(timings, 95):.2f} ms")


if __name__ == "__main__":
    main()
