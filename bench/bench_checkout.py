"""Checkout: an invoice of 3 lines paid by 2 methods (card and the patient's balance), issue #16.

Seeds two organisations ("bench" and "other") with ``BENCH_PATIENTS`` patients each holding a balance
(a top-up through the wallet service) and a points programme. One round, as the front desk through
Django's test client: ``POST /api/v1/invoices`` (a patient, 3 lines at catalogue prices) then
``POST /api/v1/invoices/<id>/payments`` (card + balance, with an Idempotency-Key) — each patient in
turn. The anchor, in the same run: raw SQL writing the same rows in one transaction (the invoice, 3
lines, the account row locked and updated, 2 journal transactions with their 5 postings, 2 tenders, 2
payments). Prints BENCH checkout_ms_<database>_p50/_p95, the anchor's p95, the ratio, and BENCH
checkout_ms: the p95 on PostgreSQL. ``BENCH_DB`` picks ``postgres``, ``sqlite`` or ``both``
(default); ``BENCH_ROUNDS`` and ``BENCH_PATIENTS`` shrink it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import percentile, seed_two_clinics, setup_django

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "200"))
OTHERS = int(os.environ.get("BENCH_PATIENTS", "300"))


def _fill(org: Any, branch: Any, patients: list[Any], service: Any, doctor: Any, slug: str) -> None:
    from clinicflow.catalogue.models import RoomType, Service
    from clinicflow.ledger.models import PointsProgram
    from clinicflow.ledger.services.wallet import wallet_top_up

    PointsProgram.objects.create(organization=org, currency="RUB", category_rates={"laser": "0.1"})
    for code, price in (("botox", "15000"), ("peel", "3000")):
        Service.objects.create(
            organization=org,
            code=code,
            name=code.title(),
            category="injection",
            duration_minutes=30,
            room_type=RoomType.TREATMENT,
            price=Decimal(price),
            currency="RUB",
        )
    for patient in patients:
        wallet_top_up(org=org, actor=None, patient=patient, amount="1000000", currency="RUB")


def _anchor(cursor: Any, org_id: Any, patient_id: Any, branch_id: Any, account_id: Any, now: Any) -> None:
    """The same rows in raw SQL: what checkout writes, without its checks."""
    from clinicflow.core.rawsql import db_uuid

    def new() -> Any:
        return db_uuid(uuid.uuid4())

    inv, t1, t2 = new(), new(), new()
    cursor.execute(
        "INSERT INTO ledger_invoice (id, organization_id, number, patient_id, branch_id, currency, subtotal, "
        "discount, total, paid, refunded, status, source, points_earned, points_taken_back, note, created_at) "
        "VALUES (%s, %s, %s, %s, %s, 'RUB', 23000, 0, 23000, 0, 0, 'open', 'checkout', 0, 0, '', %s)",
        [inv, org_id, "A-" + uuid.uuid4().hex[:12], patient_id, branch_id, now],
    )
    for pos, price in enumerate((15000, 5000, 3000), start=1):
        cursor.execute(
            "INSERT INTO ledger_invoiceline (id, organization_id, invoice_id, position, description, category, "
            "quantity, unit_price, discount, total) VALUES (%s, %s, %s, %s, '', '', 1, %s, 0, %s)",
            [new(), org_id, inv, pos, price, price],
        )
    cursor.execute("SELECT balance FROM ledger_account WHERE id = %s FOR UPDATE", [account_id])
    cursor.execute("UPDATE ledger_account SET balance = balance - 13000 WHERE id = %s", [account_id])
    for txn, kind in ((t1, "payment"), (t2, "spend")):
        cursor.execute(
            "INSERT INTO ledger_transaction (id, organization_id, kind, patient_id, memo, reference, created_at) "
            "VALUES (%s, %s, %s, %s, '', '', %s)",
            [txn, org_id, kind, patient_id, now],
        )
    for txn, amount in ((t1, -10000), (t1, 10000), (t2, -13000), (t2, 13000)):
        cursor.execute(
            "INSERT INTO ledger_posting (id, organization_id, transaction_id, account_id, unit, amount, created_at) "
            "VALUES (%s, %s, %s, %s, 'RUB', %s, %s)",
            [new(), org_id, txn, account_id, amount, now],
        )
    for txn, amount in ((t1, 10000), (t2, 13000)):
        pay = new()
        cursor.execute(
            "INSERT INTO booking_payment (id, organization_id, patient_id, branch_id, amount, currency, method, "
            "kind, paid_at, note, created_at) VALUES (%s, %s, %s, %s, %s, 'RUB', 'card', 'payment', %s, '', %s)",
            [pay, org_id, patient_id, branch_id, amount, now, now],
        )
        cursor.execute(
            "INSERT INTO ledger_invoicetender (id, organization_id, invoice_id, kind, method, amount, revenue, "
            "transaction_id, payment_id, batch, reference, reason, created_at) "
            "VALUES (%s, %s, %s, 'payment', 'card', %s, %s, %s, %s, %s, '', '', %s)",
            [new(), org_id, inv, amount, amount, txn, pay, inv, now],
        )
    cursor.execute("UPDATE ledger_invoice SET paid = 23000, status = 'paid' WHERE id = %s", [inv])


def run(database: str) -> None:
    setup_django(database, "cf_inv_bench_checkout")
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.utils import timezone

    from clinicflow.accounts.services import api_token_issue
    from clinicflow.core.rawsql import db_uuid
    from clinicflow.ledger.models import Account, Invoice
    from clinicflow.patients.models import Patient

    setup_test_environment()
    first, owner = seed_two_clinics(OTHERS, _fill)
    org = first.organization
    patients = list(Patient.objects.for_org(org).order_by("id"))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    _, raw = api_token_issue(user=owner)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    lines = [{"service": "botox"}, {"service": "laser"}, {"service": "peel"}]
    timings, anchor = [], []
    for i in range(ROUNDS):
        patient = patients[i % len(patients)]
        t0 = time.perf_counter()
        made = client.post(
            "/api/v1/invoices",
            json.dumps({"patient": str(patient.pk), "lines": lines}),
            content_type="application/json",
        )
        invoice_id = made.json()["id"]
        paid = client.post(
            f"/api/v1/invoices/{invoice_id}/payments",
            json.dumps(
                {"tenders": [{"method": "card", "amount": "10000"}, {"method": "balance", "amount": "13000"}]}
            ),
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY=f"bench-{i}",
        )
        timings.append((time.perf_counter() - t0) * 1000)
        assert made.status_code == 201 and paid.status_code == 201, (made.content[:300], paid.content[:300])
        assert paid.json()["status"] == "paid"
        money = Account.objects.for_org(org).get(patient=patient, kind="money")
        ids = [db_uuid(x) for x in (org.pk, patient.pk, patient.branch_id, money.pk)]
        t0 = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            _anchor(cursor, *ids, timezone.now())
        anchor.append((time.perf_counter() - t0) * 1000)
    assert Invoice.objects.for_org(org).filter(status="paid").count() == 2 * ROUNDS
    tag = connection.vendor
    p95, a95 = percentile(timings, 95), percentile(anchor, 95)
    print(f"BENCH checkout_ms_{tag}_p50 {percentile(timings, 50):.2f} ms")
    print(f"BENCH checkout_ms_{tag}_p95 {p95:.2f} ms")
    print(f"BENCH checkout_raw_sql_ms_{tag}_p95 {a95:.2f} ms")
    print(f"BENCH checkout_ratio_{tag} {p95 / a95:.1f} x", flush=True)
    if tag == "postgresql":
        print(f"BENCH checkout_ms {p95:.2f} ms", flush=True)


def main() -> None:
    which = os.environ.get("BENCH_DB", "both")
    if which in ("postgres", "sqlite"):
        run(which)
        return
    for database in ("postgres", "sqlite"):
        env = {**os.environ, "BENCH_DB": database}
        subprocess.run([sys.executable, __file__], env=env, check=True)


if __name__ == "__main__":
    main()
