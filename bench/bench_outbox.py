"""Outbox throughput on PostgreSQL: enqueue 2,000 SMS, then 4 workers in threads deliver them to a
local HTTP SMS provider stand-in.

Prints BENCH outbox_enqueue_per_s, BENCH outbox_deliver_per_s and BENCH outbox_duplicates (must be 0).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import setup_django

N = int(os.environ.get("BENCH_MESSAGES", "2000"))
WORKERS = 4


def main() -> None:
    setup_django("postgres", "bench_outbox")
    # imported after setup_django(): models need the app registry, which needs the scratch database's settings
    from django.db import connection, transaction

    from clinicflow.core.models import Region
    from clinicflow.core.services import organization_create
    from clinicflow.messaging.channels.http_sms import HttpJsonSmsProvider
    from clinicflow.messaging.services import message_enqueue
    from clinicflow.messaging.tasks import Worker
    from clinicflow.patients.models import Patient, PatientPhone

    keys: Counter[str] = Counter()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with lock:
                keys[body["idempotency_key"]] += 1
            payload = b'{"id": "x"}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/sms"

    org = organization_create(name="Bench", slug="bench", country="RU", currency="RUB", data_region=Region.RU)
    patients = Patient.objects.bulk_create(
        Patient(
            organization=org,
            last_name=f"L{i}",
            first_name=f"F{i}",
            search_name=f"l{i}",
            preferred_language="ru",
        )
        for i in range(N)
    )
    PatientPhone.objects.bulk_create(
        PatientPhone(organization=org, patient=p, e164=f"+7916{i:07d}", is_primary=True)
        for i, p in enumerate(patients)
    )
    context = {
        "service": "Botox",
        "doctor": "Dr A",
        "start_local": "2026-12-01 10:00",
        "branch": "M",
        "manage_url": "https://x/m",
    }
    started = time.perf_counter()
    for i, p in enumerate(patients):
        with transaction.atomic():
            message_enqueue(
                org=org,
                patient=p,
                channel="sms",
                kind="appointment_reminder",
                context=context,
                dedupe_key=f"k{i}",
            )
    enqueue_s = time.perf_counter() - started

    def run(n: int) -> None:
        try:
            Worker(
                worker_id=f"w{n}", batch=50, sms=HttpJsonSmsProvider(url=url, token="t", region="RU")
            ).run_once()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(WORKERS)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    deliver_s = time.perf_counter() - started
    server.shutdown()
    duplicates = sum(c - 1 for c in keys.values() if c > 1)
    assert len(keys) == N, (len(keys), N)
    print(f"BENCH outbox_enqueue_per_s {N / enqueue_s:.0f} msg/s")
    print(f"BENCH outbox_deliver_per_s {N / deliver_s:.0f} msg/s")
    print(f"BENCH outbox_duplicates {duplicates} messages")


if __name__ == "__main__":
    main()
