"""Booking benchmarks on a scratch PostgreSQL database ``bench_booking`` (created and dropped here).

BENCH free_slots_ms           median of 7 slot searches: one branch, one service, 14 days, 30 doctors,
                              a year of appointments (all free slots, no limit)
BENCH free_slots_first100_ms  the same search stopping at the first 100 slots (what pages ask for)
BENCH booking_p95_ms          p95 latency of POST /api/v1/appointments from 50 concurrent clients
                              against a real server process (``clinicflow a threaded wsgiref server subprocess``)
BENCH booking_double_bookings live appointments overlapping on a doctor or a room, counted in SQL (must be 0)

Run: ``.venv/bin/python bench/bench_booking.py`` (PGHOST/PGPORT/PGUSER as for CI; default 127.0.0.1:5432 postgres).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PGHOST = os.environ.get("PGHOST", "127.0.0.1")
PGPORT = os.environ.get("PGPORT", "5432")
PGUSER = os.environ.get("PGUSER", "postgres")
DB = "bench_booking"
URL = f"postgresql://{PGUSER}@{PGHOST}:{PGPORT}/{DB}"
DOCTORS = 30
ROOMS = 30
CLIENTS = 50
REQUESTS_PER_CLIENT = 8


def admin_sql(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"postgresql://{PGUSER}@{PGHOST}:{PGPORT}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def setup_django() -> None:
    os.environ["DATABASE_URL"] = URL
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DEBUG", "0")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def build_data() -> dict[str, object]:
    from clinicflow.accounts.roles import Role
    from clinicflow.accounts.services import api_token_issue, user_create
    from clinicflow.booking import availability as av
    from clinicflow.booking import services
    from clinicflow.booking.models import Appointment, Doctor, DoctorBranch, DoctorService, Room, WorkingHours
    from clinicflow.catalogue.models import Service
    from clinicflow.core.services import branch_create, organization_create
    from clinicflow.patients.models import Patient

    rng = random.Random(7)
    org = organization_create(name="Bench Clinic", slug="bench", country="RU", currency="RUB")
    branch = branch_create(org=org, name="Main", slug="main", timezone="Europe/Moscow")
    service = Service.objects.create(
        organization=org,
        code="laser",
        name="Laser",
        category="laser",
        duration_minutes=60,
        buffer_minutes=0,
        room_type="laser",
        price=Decimal("9000.00"),
        currency="RUB",
    )
    doctors = Doctor.objects.bulk_create(
        Doctor(organization=org, full_name=f"Doctor {i:02d}") for i in range(DOCTORS)
    )
    DoctorBranch.objects.bulk_create(DoctorBranch(organization=org, doctor=d, branch=branch) for d in doctors)
    DoctorService.objects.bulk_create(
        DoctorService(organization=org, doctor=d, service=service) for d in doctors
    )
    WorkingHours.objects.bulk_create(
        WorkingHours(
            organization=org, doctor=d, branch=branch, weekday=wd, start_time=dt.time(9), end_time=dt.time(19)
        )
        for d in doctors
        for wd in range(6)
    )
    rooms = Room.objects.bulk_create(
        Room(organization=org, branch=branch, name=f"Laser {i:02d}", room_type="laser") for i in range(ROOMS)
    )
    patients = Patient.objects.bulk_create(
        Patient(organization=org, last_name=f"P{i}", first_name="Bench", search_name=f"p{i} bench")
        for i in range(3000)
    )
    tz = branch.tz
    today = dt.datetime.now(tz).date()
    batch: list[Appointment] = []
    count = 0
    # a year: 300 days back and 65 days ahead, ~65% of each doctor's hours booked, rooms permitting
    for offset in range(-300, 65):
        day = today + dt.timedelta(days=offset)
        if day.weekday() == 6:
            continue
        for hour in range(9, 19):
            free_rooms = list(rooms)
            rng.shuffle(free_rooms)
            for d in doctors:
                if not free_rooms or rng.random() > 0.65:
                    continue
                start = av.local_dt(day, dt.time(hour), tz)
                status = "done" if offset < 0 else "booked"
                if offset < 0 and rng.random() < 0.08:
                    status = "no_show"
                batch.append(
                    services.appointment_build(
                        org=org,
                        branch=branch,
                        patient=rng.choice(patients),
                        service=service,
                        doctor=d,
                        room=free_rooms.pop(),
                        start=start,
                        status=status,
                    )
                )
        if len(batch) > 5000:
            Appointment.objects.bulk_create(batch)
            count += len(batch)
            batch = []
    Appointment.objects.bulk_create(batch)
    count += len(batch)
    user = user_create(
        org=org,
        actor=None,
        email="bench@bench.test",
        password="bench-password-123456",
        role=Role.FRONTDESK,
        validate=False,
    )
    _, token = api_token_issue(user=user)
    return {
        "org": org,
        "branch": branch,
        "service": service,
        "doctors": doctors,
        "patients": patients,
        "token": token,
        "appointments": count,
    }


def bench_slots(data: dict[str, object]) -> None:
    from clinicflow.booking.selectors import slots_find

    branch, service, org = data["branch"], data["service"], data["org"]
    today = dt.datetime.now(branch.tz).date()  # type: ignore[attr-defined]
    for name, limit in (("free_slots_ms", None), ("free_slots_first100_ms", 100)):
        times = []
        n = 0
        for _ in range(7):
            t0 = time.perf_counter()
            found = slots_find(
                org=org,
                branch=branch,
                service=service,
                date_from=today + dt.timedelta(days=1),  # type: ignore[arg-type]
                date_to=today + dt.timedelta(days=14),
                limit=limit,
            )
            times.append((time.perf_counter() - t0) * 1000)
            n = len(found)
        print(f"# {name}: {n} slots, runs {[round(t, 1) for t in times]}", flush=True)
        print(f"BENCH {name} {statistics.median(times):.1f} ms", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bench_http(data: dict[str, object]) -> None:
    from django.db import connection

    port = free_port()
    env = {**os.environ, "DATABASE_URL": URL, "DEBUG": "0", "DB_CONN_MAX_AGE": "0"}
    log = open(os.environ.get("BENCH_SERVER_LOG", os.devnull), "w")  # noqa: SIM115
    server = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--serve", str(port)],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/api/v1/openapi.json", timeout=2)
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        branch = data["branch"]
        tz = branch.tz  # type: ignore[attr-defined]
        today = dt.datetime.now(tz).date()
        days = [
            today + dt.timedelta(days=d)
            for d in range(70, 80)
            if (today + dt.timedelta(days=d)).weekday() != 6
        ][:2]
        doctors = data["doctors"][:20]  # type: ignore[index]
        # targets collide on purpose: 20 doctors x 2 days x 10 hours, starts on the quarter hour
        targets = [
            (d, dt.datetime.combine(day, dt.time(h, q), tzinfo=tz))
            for d in doctors
            for day in days
            for h in range(9, 18)
            for q in (0, 30)
        ]
        rng = random.Random(11)
        headers = {"Authorization": f"Bearer {data['token']}", "Content-Type": "application/json"}
        latencies: list[float] = []
        codes: dict[int, int] = {}
        lock = threading.Lock()
        barrier = threading.Barrier(CLIENTS)
        patients = data["patients"]

        def client(i: int) -> None:
            local_rng = random.Random(i)
            barrier.wait()
            for _ in range(REQUESTS_PER_CLIENT):
                doctor, start = local_rng.choice(targets)
                body = json.dumps(
                    {
                        "patient": str(local_rng.choice(patients).pk),
                        "service": str(data["service"].pk),  # type: ignore[attr-defined]
                        "doctor": str(doctor.pk),
                        "start": start.isoformat(),
                    }
                ).encode()
                req = urllib.request.Request(
                    f"{base}/api/v1/appointments", data=body, headers=headers, method="POST"
                )
                t0 = time.perf_counter()
                try:
                    with urllib.request.urlopen(req, timeout=60) as r:
                        code = r.status
                except urllib.error.HTTPError as e:
                    code = e.code
                ms = (time.perf_counter() - t0) * 1000
                with lock:
                    latencies.append(ms)
                    codes[code] = codes.get(code, 0) + 1

        rng.shuffle(targets)
        threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        latencies.sort()
        p95 = latencies[int(0.95 * (len(latencies) - 1))]
        print(
            f"# {len(latencies)} requests in {wall:.1f} s, statuses {dict(sorted(codes.items()))}, "
            f"p50 {statistics.median(latencies):.1f} ms",
            flush=True,
        )
        print(f"BENCH booking_p95_ms {p95:.1f} ms", flush=True)
        with connection.cursor() as cur:
            cur.execute(
                """
                SELECT count(*) FROM booking_appointment a JOIN booking_appointment b
                  ON a.organization_id = b.organization_id AND a.id < b.id
                 AND (a.doctor_id = b.doctor_id OR a.room_id = b.room_id)
                 AND a.start_at < b.busy_until AND b.start_at < a.busy_until
                WHERE a.status NOT IN ('cancelled', 'no_show') AND b.status NOT IN ('cancelled', 'no_show')
                """
            )
            overlaps = cur.fetchone()[0]
        print(f"BENCH booking_double_bookings {overlaps} count", flush=True)
        if codes.get(500):
            print("# server errors occurred", flush=True)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


def serve(port: int) -> None:
    """A threaded WSGI server (wsgiref) running the real Django application, with a deep accept queue."""
    from socketserver import ThreadingMixIn
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.wsgi import get_wsgi_application

    class Server(ThreadingMixIn, WSGIServer):
        daemon_threads = True
        request_queue_size = 256

    class Quiet(WSGIRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = make_server("127.0.0.1", port, get_wsgi_application(), server_class=Server, handler_class=Quiet)
    httpd.serve_forever()


def main() -> None:
    admin_sql(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    admin_sql(f"CREATE DATABASE {DB}")
    try:
        setup_django()
        t0 = time.perf_counter()
        data = build_data()
        print(f"# built {data['appointments']} appointments in {time.perf_counter() - t0:.1f} s", flush=True)
        bench_slots(data)
        bench_http(data)
    finally:
        from django.db import connections

        connections.close_all()
        admin_sql(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--serve":
        serve(int(sys.argv[2]))
    else:
        main()
