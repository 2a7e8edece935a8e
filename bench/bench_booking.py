"""Booking benchmarks on a scratch PostgreSQL database ``bench_booking`` (created and dropped here).

BENCH free_slots_ms           median of 7 slot searches: one branch, one service, 14 days, 30 doctors,
                              a year of appointments (all free slots, no limit)
BENCH free_slots_first100_ms  the same search stopping at the first 100 slots (what pages ask for)
BENCH booking_p95_ms          p95 latency of POST /api/v1/appointments: 50 concurrent patient-like clients,
                              each looping "GET /api/v1/slots for a day from an hour, POST one of the
                              first five slots shown"
                              with a think time of 0.5-1.5 s (uniform) before each request, for 45 s;
                              clients looking at the same day collide (409) on purpose
BENCH booking_p95_ms_saturated the same 50 clients with no think time (closed loop at saturation), 30 s
BENCH booking_throughput_per_s successful bookings (201) per second in the saturated phase
BENCH booking_double_bookings live appointments overlapping on a doctor or a room, counted in SQL over both
                              phases (must be 0)

The server is gunicorn as in production (``config/gunicorn.py``): one worker process per core x 2
threads (gthread), persistent database connections (DB_CONN_MAX_AGE=60). BENCH_WORKERS /
BENCH_THREADS override the process and thread counts to compare layouts. The clients run in this
process on the same machine, so they share the cores with the server and PostgreSQL.

Run: ``.venv/bin/python bench/bench_booking.py`` (PGHOST/PGPORT/PGUSER as for CI; default 127.0.0.1:5432 postgres).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import admin_sql, free_port, loadavg, pct, start_gunicorn  # noqa: E402

PGHOST = os.environ.get("PGHOST", "127.0.0.1")
PGPORT = os.environ.get("PGPORT", "5432")
PGUSER = os.environ.get("PGUSER", "postgres")
DB = "bench_booking"
URL = f"postgresql://{PGUSER}@{PGHOST}:{PGPORT}/{DB}"
DOCTORS = 30
ROOMS = 30
CLIENTS = 50
THINK_MIN, THINK_MAX = 0.5, 1.5  # seconds before each request of a client
THINK_SECONDS = float(os.environ.get("BENCH_THINK_SECONDS", "45"))
SATURATED_SECONDS = float(os.environ.get("BENCH_SATURATED_SECONDS", "30"))


def setup_django() -> None:
    os.environ["DATABASE_URL"] = URL
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DEBUG", "0")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def build_data() -> dict[str, object]:
    # Django models and services import only after setup_django() has pointed Django at the
    # benchmark's database (django.setup() bootstrapping), hence the imports inside the functions.
    from clinicflow.accounts.roles import Role
    from clinicflow.accounts.services import api_token_issue, user_create
    from clinicflow.booking import availability as av
    from clinicflow.booking import services
    from clinicflow.booking.models import Appointment, Doctor, DoctorBranch, DoctorService, Room, WorkingHours
    from clinicflow.catalogue.models import Service
    from clinicflow.core.services import branch_create, organization_create
    from clinicflow.patients.models import Patient, PatientPhone

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
    # every patient has a mobile phone and an e-mail, so each booking really writes its six outbox
    # messages (confirmation and two reminders, SMS and e-mail)
    patients = Patient.objects.bulk_create(
        Patient(
            organization=org,
            last_name=f"P{i}",
            first_name="Bench",
            search_name=f"p{i} bench",
            email=f"p{i}@bench.test",
        )
        for i in range(3000)
    )
    PatientPhone.objects.bulk_create(
        PatientPhone(organization=org, patient=p, e164=f"+7916{i:07d}", kind="mobile", is_primary=True)
        for i, p in enumerate(patients)
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
    # fresh planner statistics, as autovacuum would have them on a live database (without them the
    # planner guesses a thousandth of the year's appointments and picks worse plans)
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("ANALYZE")
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
    from clinicflow.booking.selectors import slots_find  # after django.setup(), as in build_data

    branch: Any = data["branch"]
    service: Any = data["service"]
    org: Any = data["org"]
    today = dt.datetime.now(branch.tz).date()
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


def start_server(port: int) -> subprocess.Popen[bytes]:
    """gunicorn with the production settings (``config/gunicorn.py``), persistent database connections."""
    return start_gunicorn(port, URL)


class Load:
    """50 patient-like clients: each looks up free slots (GET /api/v1/slots for one day from a preferred
    hour), then books one of the first five shown (POST /api/v1/appointments) — clients looking at the
    same day and hour are offered the same slots, so some bookings collide and answer 409. ``think`` is the pause before each request (uniform, s);
    ``None`` is a closed loop at saturation."""

    def __init__(self, data: dict[str, object], base: str, days: list[dt.date]) -> None:
        self.data, self.base, self.days = data, base, days
        self.headers = {"Authorization": f"Bearer {data['token']}", "Content-Type": "application/json"}
        self.lock = threading.Lock()
        self.post_ms: list[float] = []
        self.get_ms: list[float] = []
        self.codes: dict[str, int] = {}
        self.no_slot = 0

    def _count(self, key: str) -> None:
        with self.lock:
            self.codes[key] = self.codes.get(key, 0) + 1

    def _call(self, req: urllib.request.Request) -> tuple[int, bytes, float]:
        t0 = time.perf_counter()
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                code, body = r.status, r.read()
        except urllib.error.HTTPError as e:
            code, body = e.code, e.read()
        return code, body, (time.perf_counter() - t0) * 1000

    def client(
        self, i: int, think: tuple[float, float] | None, until: float, barrier: threading.Barrier
    ) -> None:
        rng = random.Random(1000 + i)
        branch: Any = self.data["branch"]
        service: Any = self.data["service"]
        patients: Any = self.data["patients"]
        barrier.wait()
        while time.perf_counter() < until:
            if think:
                time.sleep(rng.uniform(*think))
            # a day and the hour from which the patient would like to come ("Tuesday, after 14:00")
            day = rng.choice(self.days)
            query = urllib.parse.urlencode(
                {
                    "branch": str(branch.pk),
                    "service": str(service.pk),
                    "from": day.isoformat(),
                    "to": day.isoformat(),
                    "time_from": f"{rng.randrange(9, 18):02d}:00",
                    "limit": 20,
                }
            )
            code, body, ms = self._call(
                urllib.request.Request(f"{self.base}/api/v1/slots?{query}", headers=self.headers)
            )
            self._count(f"GET {code}")
            with self.lock:
                self.get_ms.append(ms)
            items = json.loads(body)["items"] if code == 200 else []
            if not items:
                with self.lock:
                    self.no_slot += 1
                continue
            slot = rng.choice(items[:5])  # most patients take one of the first times offered
            if think:
                time.sleep(rng.uniform(*think))
            payload = json.dumps(
                {
                    "patient": str(rng.choice(patients).pk),
                    "service": str(service.pk),
                    "doctor": slot["doctor"],
                    "branch": str(branch.pk),
                    "start": slot["start"],
                }
            ).encode()
            code, _, ms = self._call(
                urllib.request.Request(
                    f"{self.base}/api/v1/appointments", data=payload, headers=self.headers, method="POST"
                )
            )
            self._count(f"POST {code}")
            with self.lock:
                self.post_ms.append(ms)

    def run(self, think: tuple[float, float] | None, seconds: float) -> float:
        barrier = threading.Barrier(CLIENTS + 1)
        until = time.perf_counter() + seconds + 1.0
        threads = [
            threading.Thread(target=self.client, args=(i, think, until, barrier), daemon=True)
            for i in range(CLIENTS)
        ]
        for t in threads:
            t.start()
        time.sleep(1.0)
        barrier.wait()
        t0 = time.perf_counter()
        for t in threads:
            t.join()
        return time.perf_counter() - t0


def wait_ready(base: str, data: dict[str, object]) -> None:
    """Wait for gunicorn, then warm both workers up (imports, first connections) before measuring."""
    branch: Any = data["branch"]
    service: Any = data["service"]
    day = dt.datetime.now(branch.tz).date() + dt.timedelta(days=1)
    query = urllib.parse.urlencode(
        {"branch": str(branch.pk), "service": str(service.pk), "from": day, "to": day, "limit": 5}
    )
    req = urllib.request.Request(
        f"{base}/api/v1/slots?{query}", headers={"Authorization": f"Bearer {data['token']}"}
    )
    deadline = time.time() + 120
    while True:
        try:
            urllib.request.urlopen(req, timeout=30).read()
            break
        except urllib.error.HTTPError:
            break
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.3)
    warm = [
        threading.Thread(target=lambda: urllib.request.urlopen(req, timeout=60).read()) for _ in range(32)
    ]
    for t in warm:
        t.start()
    for t in warm:
        t.join()


def bench_http(data: dict[str, object]) -> None:
    from django.db import connection

    port = free_port()
    server = start_server(port)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, data)
        tz = data["branch"].tz  # type: ignore[attr-defined]
        today = dt.datetime.now(tz).date()
        # days beyond the pre-booked year (empty calendars), Sundays off; each phase its own days
        open_days = [today + dt.timedelta(days=d) for d in range(70, 200)]
        open_days = [d for d in open_days if d.weekday() != 6]
        phases = (
            ("think", (THINK_MIN, THINK_MAX), THINK_SECONDS, open_days[:10]),
            ("saturated", None, SATURATED_SECONDS, open_days[10:40]),
        )
        server_errors = 0
        for name, think, seconds, days in phases:
            load = Load(data, base, days)
            print(f"# {name}: load average before {loadavg()}", flush=True)
            wall = load.run(think, seconds)
            posts = len(load.post_ms)
            booked = load.codes.get("POST 201", 0)
            server_errors += sum(n for k, n in load.codes.items() if k.split()[1].startswith("5"))
            print(
                f"# {name}: {CLIENTS} clients, think {think or 'none'} s, {wall:.1f} s: "
                f"{dict(sorted(load.codes.items()))}, no free slot shown {load.no_slot}; "
                f"POST p50 {pct(load.post_ms, 0.5):.1f} ms p95 {pct(load.post_ms, 0.95):.1f} ms "
                f"p99 {pct(load.post_ms, 0.99):.1f} ms; GET /slots p50 {pct(load.get_ms, 0.5):.1f} ms "
                f"p95 {pct(load.get_ms, 0.95):.1f} ms; {posts / wall:.1f} POST/s, {booked / wall:.1f} "
                f"bookings/s; load average after {loadavg()}",
                flush=True,
            )
            if name == "think":
                print(f"BENCH booking_p95_ms {pct(load.post_ms, 0.95):.1f} ms", flush=True)
            else:
                print(f"BENCH booking_p95_ms_saturated {pct(load.post_ms, 0.95):.1f} ms", flush=True)
                print(f"BENCH booking_throughput_per_s {booked / wall:.1f} bookings/s", flush=True)
        with connection.cursor() as cur:
            # live appointments that overlap an earlier live appointment of the same doctor (then of the
            # same room): a sweep per doctor/room in start order, O(n log n) unlike a self-join
            overlaps = 0
            for col in ("doctor_id", "room_id"):
                cur.execute(
                    f"""
                    SELECT count(*) FROM (
                      SELECT start_at, max(busy_until) OVER (
                               PARTITION BY organization_id, {col} ORDER BY start_at, id
                               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_end
                        FROM booking_appointment
                       WHERE status NOT IN ('cancelled', 'no_show') AND {col} IS NOT NULL
                    ) t WHERE start_at < prev_end
                    """
                )
                overlaps += cur.fetchone()[0]
            cur.execute("SELECT count(*) FROM booking_appointment WHERE source = 'api'")
            api_rows = cur.fetchone()[0]
            cur.execute("SELECT count(*) FROM messaging_message")
            messages = cur.fetchone()[0]
        print(f"# {api_rows} appointments booked through the API, {messages} outbox messages", flush=True)
        print(f"BENCH booking_double_bookings {overlaps} count", flush=True)
        if server_errors:
            print(f"# {server_errors} server errors occurred", flush=True)
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()


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
    main()
