"""What-if planner benchmark (issue #18), in a scratch PostgreSQL database ``cf_pr_bench``:

1. the honesty check at bench scale: the "mid" clinic (30 months, seed 11) simulated as a baseline and
   once per lever changed from month 24 in ``[[changes]]`` (first-visit price −10%, search-ads budget
   +30%, one administrator's conversion +0.15, one doctor's hours −30%, the recall campaigns' reach and
   response ×1.5, every doctor's repeat rate ×1.3); the planner is fitted on the
   baseline's first 24 months and predicts the last 6 under each change. Prints each figure's error
   against the re-run's realised totals, whether it is inside the 95% interval, and
   ``BENCH whatif_max_error_pct`` (unique calls, first visits and revenue of every run);
2. ``BENCH whatif_fit_s``: fitting the planner (history read + elasticity + curves + value curve +
   capacity) and ``BENCH whatif_fit_sql_ratio``: that against the anchor, raw SQL that reads the same
   rows (monthly unique calls per branch and channel, payments per patient and month);
3. ``BENCH whatif_recompute_ms``: one recomputation after moving a lever (median of 50).

    .venv/bin/python bench/bench_whatif.py

``BENCH_DEMAND`` (default 1.0) scales the clinic; ``BENCH_KEEP=1`` keeps the database, ``BENCH_DB``
names it (default ``cf_pr_bench``).

``BENCH_CHAIN=1``: the issue's scale instead — the ``chain-1m`` scenario (20 branches, 60 months) with
``BENCH_PATIENTS`` patients (default 200,000; the scenario's own 1,000,000 with ``BENCH_PATIENTS=0``)
in ``cf_pr_chain`` (or ``BENCH_CHAIN_DB``); prints ``BENCH whatif_fit_s`` (the fit on the last whole months before the end,
median of 3 runs after a first, cold one), ``BENCH whatif_recompute_ms`` and the anchor, raw SQL
reading the same rows. The issue's targets: under 5 s and 200 ms. ``BENCH_REUSE=1`` reuses (and keeps) a kept
database; ``BENCH_DATABASE_URL`` runs on an existing database instead (e.g. a copy of the lead's
``chain-1m`` simulation; org ``BENCH_ORG``, default ``chain``, ending ``BENCH_END``, default
2026-11-30), which is never dropped. The fit reads the owner's daily facts when the organisation's are
built (``clinicflow analytics rebuild``; the chain line says which), the raw rows otherwise;
``BENCH_FACTS=0`` forces the raw rows."""

from __future__ import annotations

import datetime as dt
import os
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = os.environ.get("BENCH_DB", "cf_pr_bench")
PG = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
sys.path.insert(0, str(ROOT))
os.environ["DATABASE_URL"] = f"{PG}/{DB_NAME}"
os.environ["DEBUG"] = "0"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

END = dt.date(2026, 6, 30)
AS_OF = dt.date(2026, 1, 1)
CHANGE = 24
SEED = 11


def db(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def chain() -> int:
    """The fit at a 20-branch chain's scale (BENCH_CHAIN=1)."""
    name = os.environ.get("BENCH_CHAIN_DB", "cf_pr_chain")
    given = os.environ.get("BENCH_DATABASE_URL", "")
    os.environ["DATABASE_URL"] = given or f"{PG}/{name}"
    reuse = os.environ.get("BENCH_REUSE") == "1" or bool(given)
    if not reuse:
        db(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        db(f"CREATE DATABASE {name}")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from clinicflow.acquisition.models import Call
    from clinicflow.analytics.pricing.forecast import forecast
    from clinicflow.analytics.pricing.levers import parse_levers
    from clinicflow.analytics.pricing.whatif import build_plan
    from clinicflow.booking.models import Appointment, Payment
    from clinicflow.core.models import Organization
    from clinicflow.core.services import organization_create
    from clinicflow.simulator.runner import simulate_org
    from clinicflow.simulator.scenario import load_scenario

    end = dt.date.fromisoformat(os.environ.get("BENCH_END", "2026-11-30"))
    org = Organization.objects.filter(slug=os.environ.get("BENCH_ORG", "chain")).first() if reuse else None
    if org is None:
        call_command("migrate", verbosity=0)
        patients = int(os.environ.get("BENCH_PATIENTS", "200000"))
        clinic: dict[str, object] = {"months": 60, "end_date": end.isoformat()}
        if patients:
            clinic["patients"] = patients
        org = organization_create(name="Bench Chain", slug="chain", country="RU", currency="RUB")
        started = time.perf_counter()
        simulate_org(org=org, scenario=load_scenario("chain-1m", overrides={"clinic": clinic}), seed=5)
        print(f"simulated chain-1m (60 months): {time.perf_counter() - started:.0f} s", flush=True)
    print(
        f"rows: {Call.objects.filter(organization=org).count()} calls, "
        f"{Appointment.objects.filter(organization=org).count()} appointments, "
        f"{Payment.objects.filter(organization=org).count()} payments",
        flush=True,
    )
    as_of = end + dt.timedelta(days=1)
    facts = False if os.environ.get("BENCH_FACTS") == "0" else None
    fits = []
    for _ in range(4):
        started = time.perf_counter()
        model = build_plan(org=org, as_of=as_of, facts=facts)
        fits.append(time.perf_counter() - started)
        print(f"fit {fits[-1]:.2f} s", flush=True)
    with connection.cursor() as cur:
        started = time.perf_counter()
        cur.execute(
            "SELECT branch_id, channel_id, date_trunc('month', started_at), count(*) FROM acquisition_call "
            "WHERE organization_id = %s AND is_unique AND started_at >= %s GROUP BY 1, 2, 3",
            [org.pk, model.months[0]],
        )
        cur.fetchall()
        cur.execute(
            "SELECT patient_id, date_trunc('month', paid_at), sum(amount) FROM booking_payment "
            "WHERE organization_id = %s AND paid_at >= %s GROUP BY 1, 2",
            [org.pk, model.months[0]],
        )
        cur.fetchall()
        sql_s = time.perf_counter() - started
    levers = parse_levers(model, {"first_visit_price": 2500, "repeat_rate_factor": 1.2})
    times = []
    for _ in range(50):
        started = time.perf_counter()
        forecast(model, levers, 6)
        times.append((time.perf_counter() - started) * 1000)
    fit_s = statistics.median(fits[1:])
    read = (
        "the owner's facts"
        if model.history.panel.monthly and model.history.panel.monthly.facts
        else "raw rows"
    )
    scale = f"{len(model.history.panel.branches)} branches, {len(model.months)} months fitted from {read}"
    print(f"BENCH whatif_fit_s {fit_s:.2f} s (chain: {scale}; cold {fits[0]:.2f} s; target < 5 s)")
    print(f"BENCH whatif_fit_sql_ratio {fit_s / sql_s:.1f} x (raw SQL on the same rows: {sql_s:.2f} s)")
    print(f"BENCH whatif_recompute_ms {statistics.median(times):.1f} ms (chain; target < 200 ms)")
    if os.environ.get("BENCH_KEEP") != "1" and not reuse:  # a reused database is never dropped
        connection.close()
        db(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    return 0


def main() -> int:
    if os.environ.get("BENCH_CHAIN") == "1":
        return chain()
    db(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
    db(f"CREATE DATABASE {DB_NAME}")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from clinicflow.acquisition.models import Call
    from clinicflow.analytics.pricing.forecast import forecast
    from clinicflow.analytics.pricing.history import realised
    from clinicflow.analytics.pricing.levers import parse_levers
    from clinicflow.analytics.pricing.whatif import build_plan
    from clinicflow.booking.models import Payment
    from clinicflow.core.services import organization_create
    from clinicflow.simulator.runner import simulate_org
    from clinicflow.simulator.scenario import load_scenario

    clinic = {
        "months": 30,
        "end_date": END.isoformat(),
        "demand_factor": float(os.environ.get("BENCH_DEMAND", "1.0")),
    }
    scn = load_scenario("mid", overrides={"clinic": clinic})
    adm, doc = scn.administrators[0], scn.doctors[0]
    search = next(c for c in scn.channels if c.code == "search_ads")
    price = dict(scn.price_schedule)[max(m for m, _ in scn.price_schedule if m <= CHANGE)]
    response = scn.recall["return_week"] + scn.recall["return_two_months"]
    runs: dict[str, dict[str, float]] = {
        "baseline": {},
        "price -10%": {"first_visit_price": price * 0.9},
        "search ads +30%": {"channels.search_ads.monthly_spend": search.monthly_spend * 1.3},
        "administrator +0.15": {f"administrators.{adm.name_en}.conversion": min(adm.conversion + 0.15, 1.0)},
        "doctor hours -30%": {f"doctors.{doc.name_en}.hours_share": 0.7},
        "recall x1.5": {
            "recall.contact_share": min(scn.recall["contact_share"] * 1.5, 1.0),
            "recall.response": response * 1.5,
        },
        "repeat rate x1.3": {"repeat_rate_factor": 1.3},
    }
    orgs = {}
    for i, (name, moved) in enumerate(runs.items()):
        org = organization_create(name=name, slug=f"wi-{i}", country="RU", currency="RUB")
        changes = [{"month": CHANGE, "set": moved}] if moved else []
        started = time.perf_counter()
        simulate_org(
            org=org,
            scenario=load_scenario("mid", overrides={"clinic": clinic, "changes": changes}),
            seed=SEED,
        )
        print(f"simulated {name}: {time.perf_counter() - started:.1f} s", flush=True)
        orgs[name] = org
    base_org = orgs["baseline"]
    print(
        f"rows: {Call.objects.filter(organization=base_org).count()} calls, "
        f"{Payment.objects.filter(organization=base_org).count()} payments per run"
    )

    started = time.perf_counter()
    model = build_plan(org=base_org, as_of=AS_OF)
    fit_s = time.perf_counter() - started
    with connection.cursor() as cur:
        started = time.perf_counter()
        cur.execute(
            "SELECT branch_id, channel_id, date_trunc('month', started_at), count(*) FROM acquisition_call "
            "WHERE organization_id = %s AND is_unique GROUP BY 1, 2, 3",
            [base_org.pk],
        )
        cur.fetchall()
        cur.execute(
            "SELECT patient_id, date_trunc('month', paid_at), sum(amount) FROM booking_payment "
            "WHERE organization_id = %s GROUP BY 1, 2",
            [base_org.pk],
        )
        cur.fetchall()
        sql_s = time.perf_counter() - started
    # the model's lever names: the database's names of the scenario's people
    names = {
        adm.name_en: next((n for n in model.admin_names if adm.name in n or adm.name_en in n), adm.name_en),
        doc.name_en: next((n for n in model.doctor_names if doc.name in n or doc.name_en in n), doc.name_en),
    }
    now = model.current()
    planned: dict[str, dict[str, Decimal]] = {
        "baseline": {},
        "price -10%": {"first_visit_price": Decimal(str(price)) * Decimal("0.9")},
        "search ads +30%": {
            "channels.search_ads.monthly_spend": now["channels.search_ads.monthly_spend"] * Decimal("1.3")
        },
        "administrator +0.15": {
            f"administrators.{names[adm.name_en]}.conversion": min(
                now[f"administrators.{names[adm.name_en]}.conversion"] + Decimal("0.15"), Decimal(1)
            )
        },
        "doctor hours -30%": {f"doctors.{names[doc.name_en]}.hours_share": Decimal("0.7")},
        "recall x1.5": {
            "recall.contact_share": min(now["recall.contact_share"] * Decimal("1.5"), Decimal(1)),
            "recall.response": now["recall.response"] * Decimal("1.5"),
        },
        "repeat rate x1.3": {"repeat_rate_factor": Decimal("1.3")},
    }
    errors = []
    for name, moved_now in planned.items():
        pred = forecast(model, parse_levers(model, moved_now), 6).totals
        rows = realised(org=orgs[name], date_from=AS_OF, date_to=END)
        for k in ("unique_calls", "first_visits", "revenue"):
            real = sum(float(str(r[k])) for r in rows)
            p = float(pred[k])
            err = abs(p - real) / real * 100
            inside = float(pred["low"][k]) <= real <= float(pred["high"][k])
            errors.append(err)
            print(
                f"{name:<20} {k:<13} predicted {p:>12.0f} [{pred['low'][k]} .. {pred['high'][k]}] "
                f"realised {real:>12.0f} error {err:5.1f}% {'inside' if inside else 'OUTSIDE'} the interval"
            )
    times = []
    price_cut = parse_levers(model, {"first_visit_price": 2500})
    for _ in range(50):
        started = time.perf_counter()
        forecast(model, price_cut, 6)
        times.append((time.perf_counter() - started) * 1000)
    print(f"BENCH whatif_max_error_pct {max(errors):.1f} %")
    print(f"BENCH whatif_fit_s {fit_s:.2f} s")
    print(
        f"BENCH whatif_fit_sql_ratio {fit_s / sql_s:.1f} x (raw SQL on the same rows: {sql_s * 1000:.0f} ms)"
    )
    print(f"BENCH whatif_recompute_ms {statistics.median(times):.1f} ms")
    if os.environ.get("BENCH_KEEP") != "1":
        connection.close()
        db(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
