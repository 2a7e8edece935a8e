"""Channel report benchmark: 12 months of a 20-branch chain in a scratch PostgreSQL database
``bench_channel_report`` (generated here with bulk_create), then the `channels` report over the year.

    .venv/bin/python bench/bench_channel_report.py

Prints ``BENCH channel_report_ms <n> ms`` (median of 5 runs after one warm-up).

Options (environment): ``BENCH_KEEP=1`` keeps the scratch database afterwards, ``BENCH_REUSE=1`` reuses
a kept one (skips generation), ``BENCH_PROFILE=1`` prints a cProfile of one run and the queries it sent."""

from __future__ import annotations

import datetime as dt
import os
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "bench_channel_report"
PG = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
sys.path.insert(0, str(ROOT))
os.environ["DATABASE_URL"] = f"{PG}/{DB_NAME}"
os.environ["DEBUG"] = "0"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def db(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def main() -> int:
    reuse = os.environ.get("BENCH_REUSE") == "1"
    if not reuse:
        db(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        db(f"CREATE DATABASE {DB_NAME}")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from clinicflow.analytics.reports.acquisition import acquisition_rows
    from clinicflow.core.models import Organization

    found = Organization.objects.filter(slug="chain").first() if reuse else None
    org = found if found is not None else build()
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    timings = []
    for _ in range(6):
        t = time.perf_counter()
        rows = acquisition_rows(org=org, date_from=dt.date(2025, 1, 1), date_to=dt.date(2025, 12, 31))
        timings.append((time.perf_counter() - t) * 1000)
    first = sum(r["arrived_first"] for r in rows)
    print(f"rows={len(rows)} first_patients={first:.0f} runs_ms={[round(x) for x in timings]}")
    print(f"BENCH channel_report_ms {statistics.median(timings[1:]):.0f} ms")
    check_sql_equals_python(org)
    if os.environ.get("BENCH_PROFILE") == "1":
        profile(org)
    connection.close()
    if os.environ.get("BENCH_KEEP") != "1":
        db(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
    return 0


def check_sql_equals_python(org: Any) -> None:
    """The report's statement gives, on this data set, what the pure definitions in
    ``acquisition.attribution`` give over every patient's rows (the property tests check the same on
    random data): per channel and campaign, every attribution model, the whole chain."""
    # imported here, as everywhere in this script: Django is set up in main()
    from clinicflow.acquisition import attribution as rules
    from clinicflow.acquisition.models import Call, Channel, Lead, WebSession
    from clinicflow.analytics.reports.acquisition.first_patients import first_patient_tallies
    from clinicflow.booking.models import Appointment, Payment
    from clinicflow.core.money import Money

    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    end = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    direct = set(Channel.objects.for_org(org).filter(code="direct").values_list("pk", flat=True))
    appts: dict[Any, list[Any]] = {}
    for p, at, status, branch in Appointment.objects.for_org(org).values_list(
        "patient_id", "start_at", "status", "branch_id"
    ):
        appts.setdefault(p, []).append(rules.Booking(at=at, status=status, branch=branch))
    touches: dict[Any, list[Any]] = {}
    for src, (model, at_field) in enumerate(
        ((Call, "started_at"), (Lead, "created_at"), (WebSession, "started_at"))
    ):
        rows = (
            model.objects.for_org(org)
            .exclude(patient=None)
            .values_list("patient_id", at_field, "id", "channel_id", "campaign_id")
        )
        for p, at, pk, ch, camp in rows:
            touches.setdefault(p, []).append(
                (src, pk, rules.Touch(at=at, channel=ch, campaign=camp, is_direct=ch in direct))
            )
    paid: dict[Any, list[Any]] = {}
    for p, at, amount, currency, kind in Payment.objects.for_org(org).values_list(
        "patient_id", "paid_at", "amount", "currency", "kind"
    ):
        paid.setdefault(p, []).append(rules.Paid(at=at, money=Money(amount, currency), kind=kind))
    histories = [
        rules.PatientHistory(
            appointments=a,
            touches=[t for _s, _pk, t in sorted(touches.get(p, []), key=lambda x: (x[0], x[1]))],
            payments=paid.get(p, []),
        )
        for p, a in appts.items()
    ]
    for model in rules.MODELS:
        for by, group in enumerate(("channel", "campaign")):
            want = rules.first_patient_credit(histories, start=start, end=end, model=model, by=by)
            got = first_patient_tallies(org=org, start=start, end=end, branch=None, model=model, group=group)
            assert {k: (t.booked, t.arrived) for k, t in got.items()} == {
                k: (t.booked, t.arrived) for k, t in want.items()
            }, (model, group)
            for k, t in want.items():
                for cur, m in t.revenue_to_date.items():
                    assert abs(got[k].revenue_to_date[cur].amount - m.amount) < Decimal("1e-12"), (
                        model,
                        group,
                        k,
                    )
    print(
        f"check: first patients of {len(histories)} patients, 3 models, by channel and campaign: SQL = definitions"
    )


def profile(org: Any) -> None:
    import cProfile
    import pstats

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from clinicflow.analytics.reports.acquisition import acquisition_rows

    prof = cProfile.Profile()
    with CaptureQueriesContext(connection) as ctx:
        prof.enable()
        acquisition_rows(org=org, date_from=dt.date(2025, 1, 1), date_to=dt.date(2025, 12, 31))
        prof.disable()
    pstats.Stats(prof).sort_stats("cumulative").print_stats(25)
    for q in ctx.captured_queries:
        print(f"{float(q['time']) * 1000:8.1f} ms  {q['sql'][:300]}")


def build() -> Any:
    """The 12-month, 20-branch data set; returns the organisation."""
    from clinicflow.acquisition import defaults
    from clinicflow.acquisition.models import AdSpend, Call, CallStatus, Campaign, Lead, WebSession
    from clinicflow.booking.models import Appointment, Doctor, Payment
    from clinicflow.catalogue.models import Service
    from clinicflow.core.models import Branch
    from clinicflow.core.services import organization_create
    from clinicflow.patients.models import Patient

    rng = random.Random(4)
    org = organization_create(name="Chain", slug="chain", country="RU", currency="RUB")
    branches = Branch.objects.bulk_create(
        [
            Branch(
                organization=org,
                name=f"B{i}",
                slug=f"b{i}",
                country="RU",
                timezone="Europe/Moscow",
                currency="RUB",
            )
            for i in range(20)
        ]
    )
    channels = defaults.channels_ensure(org=org)
    paid = [channels["search_ads"], channels["social_ads"], channels["aggregator"], channels["offline"]]
    campaigns = Campaign.objects.bulk_create(
        [
            Campaign(
                organization=org,
                channel=ch,
                name=f"{ch.code}-{b.slug}",
                utm_campaign=f"{ch.code}-{b.slug}",
                branch=b,
            )
            for ch in paid
            for b in branches
        ]
    )
    start = dt.date(2025, 1, 1)
    days = [start + dt.timedelta(days=i) for i in range(365)]
    AdSpend.objects.bulk_create(
        [
            AdSpend(
                organization=org,
                date=d,
                channel=c.channel,
                campaign=c,
                branch=c.branch,
                spend=Decimal(rng.randrange(1000, 20000)),
                currency="RUB",
                impressions=rng.randrange(1000, 9000),
                clicks=rng.randrange(10, 300),
            )
            for c in campaigns
            for d in days
        ],
        batch_size=5000,
    )
    n_patients = 24_000
    service = Service.objects.create(
        organization=org,
        code="consult",
        name="Consultation",
        category="consultation",
        duration_minutes=30,
        room_type="consultation",
        price=Decimal("3000"),
        currency="RUB",
    )
    doctors = Doctor.objects.bulk_create(
        [Doctor(organization=org, full_name=f"Dr {i}") for i in range(n_patients)], batch_size=5000
    )
    t0 = dt.datetime(2025, 1, 1, 8, tzinfo=dt.UTC)
    all_channels = [*paid, channels["organic"], channels["referral"], channels["direct"]]
    patients = Patient.objects.bulk_create(
        [
            Patient(
                organization=org,
                last_name=f"P{i}",
                first_name="X",
                search_name=f"p{i} x",
                branch=branches[i % 20],
            )
            for i in range(n_patients)
        ],
        batch_size=5000,
    )
    sessions, calls, leads, appts, payments = [], [], [], [], []
    for i, p in enumerate(patients):
        b = branches[i % 20]
        ch = rng.choice(all_channels)
        camp = next((c for c in campaigns if c.channel_id == ch.pk and c.branch_id == b.pk), None)
        at = t0 + dt.timedelta(minutes=rng.randrange(0, 365 * 24 * 60 - 20000))
        sessions.append(
            WebSession(
                organization=org,
                client_id=f"c{i}",
                started_at=at,
                last_seen_at=at,
                channel=ch,
                campaign=camp,
                branch=b,
                patient=p,
            )
        )
        for k in range(rng.choice((1, 1, 2, 3))):
            calls.append(
                Call(
                    organization=org,
                    provider="generic",
                    provider_call_id=f"{i}-{k}",
                    branch=b,
                    caller_e164=f"+7916{i:07d}",
                    started_at=at + dt.timedelta(hours=k),
                    status=rng.choice([CallStatus.COMPLETED, CallStatus.MISSED]),
                    status_rank=3,
                    is_unique=k == 0,
                    patient=p,
                    channel=ch,
                    campaign=camp,
                )
            )
        if rng.random() < 0.2:
            leads.append(
                Lead(
                    organization=org,
                    name="x",
                    phone=f"+7916{i:07d}",
                    patient=p,
                    channel=ch,
                    campaign=camp,
                    branch=b,
                    created_at=at,
                )
            )
        if rng.random() < 0.6:
            va = at + dt.timedelta(days=rng.randrange(1, 10), minutes=(i % 20) * 30)
            status = rng.choice(["done", "done", "arrived", "no_show", "booked"])
            appts.append(
                Appointment(
                    organization=org,
                    branch=b,
                    patient=p,
                    service=service,
                    doctor=doctors[i],
                    start_at=va,
                    end_at=va + dt.timedelta(minutes=30),
                    busy_until=va + dt.timedelta(minutes=30),
                    status=status,
                    price=Decimal("3000"),
                    currency="RUB",
                )
            )
            if status in ("done", "arrived"):
                payments.append(
                    Payment(
                        organization=org,
                        patient=p,
                        branch=b,
                        amount=Decimal(rng.randrange(3000, 90000)),
                        currency="RUB",
                        method="card",
                        paid_at=va,
                    )
                )
    WebSession.objects.bulk_create(sessions, batch_size=5000)
    Call.objects.bulk_create(calls, batch_size=5000)
    Lead.objects.bulk_create(leads, batch_size=5000)
    Appointment.objects.bulk_create(appts, batch_size=5000)  # one doctor per patient: no overlaps
    Payment.objects.bulk_create(payments, batch_size=5000)
    print(
        f"data: spend_rows={AdSpend.objects.count()} sessions={len(sessions)} calls={len(calls)} "
        f"leads={len(leads)} appointments={len(appts)} payments={len(payments)}"
    )
    return org


if __name__ == "__main__":
    raise SystemExit(main())
