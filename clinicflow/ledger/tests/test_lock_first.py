"""Lock first, then read (issue #16): checkout, points, memberships and refunds lock the patient's
accounts before they read a balance or a lot (as the wallet's spend path does, through
``journal.accounts_locked``; on PostgreSQL the read is the lock, one statement), and they still
post the same amounts."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from freezegun import freeze_time

from clinicflow.core.models import Branch, Organization
from clinicflow.ledger.models import MembershipPlan, MembershipStatus, PlanKind, PlanPeriod, PointsProgram
from clinicflow.ledger.services.checkout import TenderIn, invoice_pay
from clinicflow.ledger.services.memberships import membership_cancel, membership_sell
from clinicflow.ledger.services.points import points_give, points_redeem
from clinicflow.ledger.services.refunds import invoice_refund
from clinicflow.ledger.services.verify import ledger_verify
from clinicflow.ledger.services.wallet import wallet_spend, wallet_top_up
from clinicflow.ledger.tests.factories import make_patient, make_plan, make_program, patient_balance
from clinicflow.ledger.tests.invoice_factories import make_invoice

pytestmark = pytest.mark.django_db
PG = "postgresql"
_PATIENT = re.compile(r'patient_id"? (=|IN) ')


def _sql(run: Callable[[], Any]) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        run()
    return [q["sql"] for q in ctx.captured_queries]


def _account_reads(sql: list[str]) -> list[int]:
    """Positions of the statements that read patient accounts (ORM reads and the locking read)."""
    return [
        i
        for i, q in enumerate(sql)
        if q.lstrip().startswith(("SELECT", "WITH"))
        and "ledger_account" in q
        and "ledger_posting" not in q.split("FROM", 1)[-1].split("WHERE", 1)[0]
        and _PATIENT.search(q)  # not the clinic's accounts (``patient_id IS NULL``, created on first use)
    ]


def _first_lock_before_reads(sql: list[str]) -> None:
    """On PostgreSQL: the first statement reading the patient's accounts is the lock itself, and no
    posting (lot) is read before it."""
    reads = _account_reads(sql)
    assert reads, "\n".join(q[:120] for q in sql)
    first = reads[0]
    if connection.vendor == PG:
        assert "FOR UPDATE" in sql[first], sql[first][:300]
        assert not any('FROM "ledger_posting"' in q for q in sql[:first])


def _with_points(org: Organization, patient: Any) -> None:
    """2,000 points and every patient account in place (money, bonus, points): the steady state, in
    which the accounts are read and locked by one statement on PostgreSQL (a missing one is created
    first, then locked: tested in ``test_request_overhead``)."""
    program = PointsProgram.objects.for_org(org).first() or make_program(org)
    plan = MembershipPlan.objects.for_org(org).filter(code="sv-50").first() or make_plan(org)
    assert program.is_active
    wallet_top_up(org=org, actor=None, patient=patient, amount="50000", currency="RUB", plan=plan)
    # 5,000 of bonus first, then 20,000 of money: 2,000 points at the laser rate
    wallet_spend(org=org, actor=None, patient=patient, amount="25000", currency="RUB", category="laser")


def test_points_redeem_locks_its_accounts_in_the_read(org: Organization) -> None:
    patient = make_patient(org)
    _with_points(org, patient)
    held = patient_balance(org, patient, "points", "PTS")
    assert held == Decimal(2000)
    sql = _sql(lambda: points_redeem(org=org, actor=None, patient=patient, points=500, currency="RUB"))
    _first_lock_before_reads(sql)
    if connection.vendor == PG:
        assert len(_account_reads(sql)) == 1
    assert patient_balance(org, patient, "points", "PTS") == Decimal(1500)
    assert patient_balance(org, patient, "bonus") == Decimal(500)  # points x the point value (1)


def test_points_give_locks_both_patients_in_one_statement(org: Organization) -> None:
    giver, taker = make_patient(org), make_patient(org)
    _with_points(org, giver)
    _with_points(org, taker)
    sql = _sql(lambda: points_give(org=org, actor=None, patient=giver, to_patient=taker, points=300))
    _first_lock_before_reads(sql)
    if connection.vendor == PG:
        [one] = _account_reads(sql)
        assert "FOR UPDATE" in sql[one]
    assert patient_balance(org, giver, "points", "PTS") == Decimal(1700)
    assert patient_balance(org, taker, "points", "PTS") == Decimal(2300)


def test_points_give_to_a_patient_without_points_yet(org: Organization) -> None:
    """First use: the taker's account does not exist; it is created, then both are locked."""
    giver, taker = make_patient(org), make_patient(org)
    _with_points(org, giver)
    points_give(org=org, actor=None, patient=giver, to_patient=taker, points=300)
    assert patient_balance(org, taker, "points", "PTS") == Decimal(300)
    assert ledger_verify(org=org).ok


def test_a_checkout_by_balance_locks_the_accounts_before_reading_them(
    org: Organization, branch: Branch
) -> None:
    patient = make_patient(org)
    _with_points(org, patient)
    wallet_top_up(org=org, actor=None, patient=patient, amount="1000000", currency="RUB")
    make_invoice(org, branch, patient)  # the clinic's accounts exist
    invoice = make_invoice(org, branch, patient)
    before = patient_balance(org, patient, "money")
    tenders = [TenderIn("card", amount="10000"), TenderIn("balance", amount="20000")]
    sql = _sql(lambda: invoice_pay(org=org, actor=None, invoice=invoice, tenders=tenders))
    _first_lock_before_reads(sql)
    assert patient_balance(org, patient, "money") == before - Decimal(20000)
    sql = _sql(lambda: invoice_refund(org=org, actor=None, invoice=invoice, amount="5000", reason="r"))
    _first_lock_before_reads(sql)
    assert ledger_verify(org=org).ok


def test_a_fee_plan_cancel_reads_its_lot_after_the_lock(org: Organization) -> None:
    patient = make_patient(org)
    plan = make_plan(
        org, code="gold", kind=PlanKind.FEE, name="Gold", price=Decimal("36500"), credit=None,
        bonus_valid_days=None, period=PlanPeriod.YEAR, duration_days=365,
    )  # fmt: skip
    start = timezone.now() - dt.timedelta(days=73)
    with freeze_time(start):
        m = membership_sell(org=org, actor=None, patient=patient, plan=plan)
    with freeze_time(start + dt.timedelta(days=73)):
        sql = _sql(lambda: membership_cancel(org=org, actor=None, membership=m))
    _first_lock_before_reads(sql)
    m.refresh_from_db()
    # 292 of 365 days left: 29,200.00 back, the rest earned
    assert m.status == MembershipStatus.CANCELLED and m.refund == Decimal("29200.00")
    assert patient_balance(org, patient, "prepaid") == Decimal(0)
    assert ledger_verify(org=org).ok
