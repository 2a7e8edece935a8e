"""A patient's wallet and last 100 ledger lines with 10,000 postings (issue #16).

Seeds two organisations ("bench" and "other"), each with ``BENCH_PATIENTS`` background patients
holding a small wallet (a top-up and a spend), and one card patient whose accounts hold 10,000
postings written through the ledger's own services: top-ups (every 25th with a stored-value plan's
bonus), payments from the balance (bonus first, points earned at the laser rate), points redeemed now
and then. Times ``GET /api/v1/patients/<id>/wallet`` plus ``GET /api/v1/patients/<id>/ledger`` (one
round = both calls, as the owner, through Django's test client) and, as the anchor in the same run,
raw SQL reading the same: the patient's accounts and their last 100 postings with their
transactions. Prints BENCH wallet_ms_<database>_p50/_p95, the anchor's p95, the ratio, and BENCH
wallet_ms: the p95 on PostgreSQL (target < 30 ms). ``BENCH_DB`` picks ``postgres``, ``sqlite`` or
``both`` (the default); ``BENCH_ROUNDS`` and ``BENCH_PATIENTS`` shrink it for a quick look.
Audit rows are left to the chainer as in production (``BENCH_INLINE_CHAIN=1``: chained inline, the
development default). ``BENCH_REUSE=1`` (PostgreSQL) times the database an earlier run seeded, without seeding it again:
two versions of the code can be timed on the same rows.
"""

from __future__ import annotations

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
OTHERS = int(os.environ.get("BENCH_PATIENTS", "1000"))
POSTINGS = int(os.environ.get("BENCH_POSTINGS", "10000"))
DBNAME = os.environ.get("BENCH_DBNAME", "bench_wallet")  # PostgreSQL scratch database (a helper's own name)

ANCHOR = """
SELECT a.id, a.kind, a.unit, a.balance FROM ledger_account a
 WHERE a.organization_id = %s AND a.patient_id = %s;
"""
ANCHOR_LINES = """
SELECT p.id, p.created_at, p.unit, p.amount, p.balance_after, p.expires_at, t.kind, t.reverses_id
  FROM ledger_posting p JOIN ledger_transaction t ON t.id = p.transaction_id
 WHERE p.organization_id = %s AND p.account_id IN ({ids})
 ORDER BY p.created_at DESC, p.id DESC LIMIT 100
"""


def _fill(org: Any, branch: Any, patients: list[Any], service: Any, doctor: Any, slug: str) -> None:
    """A points programme, a stored-value plan, a small wallet for each background patient."""
    from clinicflow.ledger.models import MembershipPlan, PlanKind, PointsProgram
    from clinicflow.ledger.services.wallet import wallet_spend, wallet_top_up

    PointsProgram.objects.create(organization=org, currency="RUB", category_rates={"laser": "0.1"})
    MembershipPlan.objects.create(
        organization=org, code="sv", kind=PlanKind.STORED_VALUE, name="Stored value", currency="RUB",
        price=Decimal("50000"), credit=Decimal("55000"), bonus_valid_days=365,
    )  # fmt: skip
    for patient in patients[1:]:
        wallet_top_up(org=org, actor=None, patient=patient, amount="1000", currency="RUB")
        wallet_spend(org=org, actor=None, patient=patient, amount="400", currency="RUB", category="laser")


def _card(patient: Any) -> int:
    """The card patient's history through the services, until their accounts hold ``POSTINGS``."""
    from django.db import transaction

    from clinicflow.ledger.models import MembershipPlan, Posting
    from clinicflow.ledger.services.points import points_redeem
    from clinicflow.ledger.services.wallet import wallet_spend, wallet_top_up

    org = patient.organization
    plan = MembershipPlan.objects.for_org(org).get(code="sv")
    mine = Posting.objects.for_org(org).filter(account__patient=patient)
    i = 0
    with transaction.atomic():
        while mine.count() < POSTINGS:
            for _ in range(50):
                if i % 25 == 0:
                    wallet_top_up(
                        org=org, actor=None, patient=patient, amount="50000", currency="RUB", plan=plan
                    )
                else:
                    wallet_top_up(org=org, actor=None, patient=patient, amount="3000", currency="RUB")
                wallet_spend(
                    org=org, actor=None, patient=patient, amount="2990", currency="RUB", category="laser"
                )
                if i % 10 == 9:
                    points_redeem(org=org, actor=None, patient=patient, points=250, currency="RUB")
                i += 1
    return mine.count()


def _reuse() -> tuple[Any, Any]:
    """The card patient (the one whose money account holds the most postings) and the owner of the
    database an earlier run seeded."""
    import django

    host = os.environ.get("PGHOST", "127.0.0.1")
    os.environ["DATABASE_URL"] = f"postgresql://postgres@{host}:5432/{DBNAME}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["LOG_LEVEL"] = "WARNING"
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    from clinicflow.accounts.models import User
    from clinicflow.ledger.models import Account

    top = Account.objects.filter(patient__isnull=False).order_by("-last_seq").select_related("patient")
    return top[0].patient, User.objects.get(email="owner@bench.test")


def run(database: str) -> None:
    reuse = database == "postgres" and os.environ.get("BENCH_REUSE") == "1"
    if reuse:
        patient, owner = _reuse()
        from django.test.utils import setup_test_environment

        setup_test_environment()
    else:
        setup_django(database, DBNAME)
        from django.test.utils import setup_test_environment

        setup_test_environment()
        patient, owner = seed_two_clinics(OTHERS, _fill)
        started = time.perf_counter()
        count = _card(patient)
        print(f"   the card patient's {count} postings in {time.perf_counter() - started:.1f} s", flush=True)
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from clinicflow.accounts.services import api_token_issue

    # audit rows left to the chainer, as in production (bench_fhir_search does the same);
    # BENCH_INLINE_CHAIN=1 times the development default, each request chaining its own row
    settings.AUDIT_CHAIN_INLINE = os.environ.get("BENCH_INLINE_CHAIN") == "1"
    from clinicflow.core.rawsql import db_uuid

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    _, raw = api_token_issue(user=owner)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    base = f"/api/v1/patients/{patient.pk}"
    wallet = client.get(f"{base}/wallet")
    assert wallet.status_code == 200, wallet.content
    lines = client.get(f"{base}/ledger")
    assert lines.status_code == 200 and len(lines.json()) == 100, lines.content[:300]
    org_id, patient_id = db_uuid(patient.organization_id), db_uuid(patient.pk)
    timings, anchor = [], []
    for _ in range(ROUNDS):
        t0 = time.perf_counter()
        a = client.get(f"{base}/wallet")
        b = client.get(f"{base}/ledger")
        timings.append((time.perf_counter() - t0) * 1000)
        assert a.status_code == b.status_code == 200
        t0 = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(ANCHOR, [org_id, patient_id])
            ids = [row[0] for row in cursor.fetchall()]
            marks = ", ".join(["%s"] * len(ids))
            cursor.execute(ANCHOR_LINES.format(ids=marks), [org_id, *ids])
            rows = cursor.fetchall()
        anchor.append((time.perf_counter() - t0) * 1000)
        assert len(rows) == 100
    tag = connection.vendor
    p95, a95 = percentile(timings, 95), percentile(anchor, 95)
    print(f"BENCH wallet_ms_{tag}_p50 {percentile(timings, 50):.2f} ms")
    print(f"BENCH wallet_ms_{tag}_p95 {p95:.2f} ms")
    print(f"BENCH wallet_raw_sql_ms_{tag}_p95 {a95:.2f} ms")
    print(f"BENCH wallet_ratio_{tag} {p95 / a95:.1f} x", flush=True)
    if tag == "postgresql":
        print(f"BENCH wallet_ms {p95:.2f} ms", flush=True)


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
