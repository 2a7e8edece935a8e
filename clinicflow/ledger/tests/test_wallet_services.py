"""Wallet services: top-up with a plan's bonus, spend order, overspend, refunds, expiry."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from freezegun import freeze_time

from clinicflow.core.errors import Conflict, ValidationFailed
from clinicflow.core.models import Branch, Organization
from clinicflow.ledger.models import Posting, Transaction, TxKind
from clinicflow.ledger.services.lots import expire_due
from clinicflow.ledger.services.wallet import wallet_refund, wallet_spend, wallet_top_up
from clinicflow.ledger.tests.factories import make_patient, make_plan, make_program, patient_balance, replay

pytestmark = pytest.mark.django_db


def test_a_stored_value_plan_pays_50000_and_holds_55000(org: Organization, branch: Branch) -> None:
    patient = make_patient(org)
    plan = make_plan(org)
    txn = wallet_top_up(org=org, actor=None, patient=patient, amount="50000", currency="RUB", plan=plan)
    assert txn.kind == TxKind.TOP_UP
    assert patient_balance(org, patient, "money") == Decimal("50000.00")
    assert patient_balance(org, patient, "bonus") == Decimal("5000.00")
    bonus_lot = Posting.objects.for_org(org).get(transaction=txn, account__kind="bonus")
    assert bonus_lot.expires_at is not None
    assert (bonus_lot.expires_at - txn.created_at).days == 180
    sums: dict[str, Decimal] = {}
    for p in Posting.objects.for_org(org).filter(transaction=txn):
        sums[p.unit] = sums.get(p.unit, Decimal(0)) + p.amount
    assert sums == {"RUB": Decimal(0)}


def test_spend_takes_the_bonus_first_then_the_money(org: Organization, branch: Branch) -> None:
    patient = make_patient(org)
    wallet_top_up(org=org, actor=None, patient=patient, amount="50000", currency="RUB", plan=make_plan(org))
    wallet_spend(org=org, actor=None, patient=patient, amount="7000", currency="RUB")
    assert patient_balance(org, patient, "bonus") == Decimal(0)
    assert patient_balance(org, patient, "money") == Decimal("48000.00")
    assert patient_balance(org, patient, "money") == replay(org, patient, "money")


def test_spending_more_than_the_balance_is_refused_and_posts_nothing(
    org: Organization, branch: Branch
) -> None:
    patient = make_patient(org)
    wallet_top_up(org=org, actor=None, patient=patient, amount="100.50", currency="RUB")
    before = Posting.objects.for_org(org).count()
    with pytest.raises(Conflict) as caught:
        wallet_spend(org=org, actor=None, patient=patient, amount="100.51", currency="RUB")
    assert caught.value.fields == {"amount": ["exceeds the balance"]}
    assert Posting.objects.for_org(org).count() == before
    assert patient_balance(org, patient, "money") == Decimal("100.50")


@pytest.mark.parametrize(
    ("amount", "currency", "field"),
    [
        ("-5", "RUB", "amount"),
        ("0", "RUB", "amount"),
        ("1.001", "RUB", "amount"),
        ("abc", "RUB", "amount"),
        ("10", "EUR", "currency"),
        ("10", "XXX", "currency"),
    ],
)
def test_bad_input_names_its_field_and_posts_nothing(
    org: Organization, branch: Branch, amount: str, currency: str, field: str
) -> None:
    patient = make_patient(org)
    with pytest.raises(ValidationFailed) as caught:
        wallet_top_up(org=org, actor=None, patient=patient, amount=amount, currency=currency)
    assert list(caught.value.fields) == [field]
    assert Transaction.objects.for_org(org).count() == 0


def test_a_float_amount_is_refused(org: Organization, branch: Branch) -> None:
    patient = make_patient(org)
    with pytest.raises(ValidationFailed):
        wallet_top_up(org=org, actor=None, patient=patient, amount=10.5, currency="RUB")


def test_an_expired_or_withdrawn_plan_is_refused(org: Organization, branch: Branch) -> None:
    patient = make_patient(org)
    old = make_plan(org, code="old", available_until=timezone.localdate() - dt.timedelta(days=1))
    off = make_plan(org, code="off", is_active=False)
    for plan in (old, off):
        with pytest.raises(ValidationFailed) as caught:
            wallet_top_up(org=org, actor=None, patient=patient, amount="50000", currency="RUB", plan=plan)
        assert list(caught.value.fields) == ["plan"]
    with pytest.raises(ValidationFailed) as wrong:
        wallet_top_up(
            org=org, actor=None, patient=patient, amount="40000", currency="RUB", plan=make_plan(org)
        )
    assert list(wrong.value.fields) == ["amount"]
    assert Transaction.objects.for_org(org).count() == 0


def test_an_expired_bonus_cannot_be_spent_and_the_job_expires_it(org: Organization, branch: Branch) -> None:
    patient = make_patient(org)
    start = timezone.now()
    with freeze_time(start):
        wallet_top_up(
            org=org, actor=None, patient=patient, amount="50000", currency="RUB", plan=make_plan(org)
        )
    with freeze_time(start + dt.timedelta(days=181)):
        wallet_spend(org=org, actor=None, patient=patient, amount="1000", currency="RUB")
        assert patient_balance(org, patient, "bonus") == Decimal("5000.00")  # untouched, expired
        assert patient_balance(org, patient, "money") == Decimal("49000.00")
        done = expire_due(org=org)
        assert [t.kind for t in done] == [TxKind.EXPIRE]
        assert patient_balance(org, patient, "bonus") == Decimal(0)
        assert expire_due(org=org) == []  # idempotent


def test_points_are_earned_on_money_paid_not_on_bonus(org: Organization, branch: Branch) -> None:
    make_program(org)
    patient = make_patient(org)
    wallet_top_up(org=org, actor=None, patient=patient, amount="50000", currency="RUB", plan=make_plan(org))
    wallet_spend(org=org, actor=None, patient=patient, amount="6000", currency="RUB", category="laser")
    # 5,000 from bonus earns nothing; 1,000 of money at the laser rate 0.1 earns 100
    assert patient_balance(org, patient, "points", "PTS") == Decimal(100)
    wallet_spend(org=org, actor=None, patient=patient, amount="10.10", currency="RUB")
    # 10.10 × 0.05 = 0.505 -> 1 point (ROUND_HALF_EVEN to whole points)
    assert patient_balance(org, patient, "points", "PTS") == Decimal(101)


def test_a_refund_pays_out_money_but_never_the_bonus(org: Organization, branch: Branch) -> None:
    patient = make_patient(org)
    wallet_top_up(org=org, actor=None, patient=patient, amount="50000", currency="RUB", plan=make_plan(org))
    with pytest.raises(Conflict):
        wallet_refund(org=org, actor=None, patient=patient, amount="50000.01", currency="RUB")
    wallet_refund(org=org, actor=None, patient=patient, amount="50000", currency="RUB")
    assert patient_balance(org, patient, "money") == Decimal(0)
    assert patient_balance(org, patient, "bonus") == Decimal("5000.00")
