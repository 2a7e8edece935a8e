"""Cancelling a stored-value plan (issue #16): the money part still on the balance is paid back (at
most the price), the plan's bonus is never paid out and what its lot has left is forfeited to the
clinic's ``expired`` account; another plan's bonus is kept. One rule (``stored_value_cancel_terms``)
for the ledger and the simulator."""

from __future__ import annotations

from decimal import Decimal

import pytest

from clinicflow.core.models import Branch, Organization
from clinicflow.ledger.models import Posting, Transaction, TxKind
from clinicflow.ledger.services.memberships import (
    membership_cancel,
    membership_sell,
    stored_value_cancel_terms,
)
from clinicflow.ledger.services.verify import ledger_verify
from clinicflow.ledger.services.wallet import wallet_spend
from clinicflow.ledger.tests.factories import make_patient, make_plan, patient_balance

pytestmark = pytest.mark.django_db


def test_the_terms_pay_back_the_money_part_and_forfeit_the_bonus() -> None:
    assert stored_value_cancel_terms(price=50000, money_left=60000, bonus_left=5000) == (50000, 5000)
    assert stored_value_cancel_terms(price=50000, money_left=12345, bonus_left=0) == (12345, 0)
    assert stored_value_cancel_terms(
        price=Decimal("500.00"), money_left=Decimal(0), bonus_left=Decimal(7)
    ) == (
        Decimal(0),
        Decimal(7),
    )


def test_cancel_refunds_what_is_left_of_the_money_and_forfeits_the_plans_bonus(
    org: Organization, branch: Branch
) -> None:
    patient = make_patient(org)
    plan = make_plan(org)  # pay 50,000, get 55,000
    m = membership_sell(org=org, actor=None, patient=patient, plan=plan)
    # 7,000 spent: 5,000 bonus first, then 2,000 of the money
    wallet_spend(org=org, actor=None, patient=patient, amount="7000", currency="RUB")
    other = membership_sell(org=org, actor=None, patient=patient, plan=plan)
    assert patient_balance(org, patient, "bonus") == Decimal(5000)
    assert patient_balance(org, patient, "money") == Decimal(98000)
    done = membership_cancel(org=org, actor=None, membership=m)
    # the money part left (98,000) is more than the price: the price is paid back
    assert done.refund == Decimal(50000) and done.status == "cancelled"
    assert patient_balance(org, patient, "money") == Decimal(48000)
    # the first plan's bonus was spent: nothing to forfeit; the other plan's bonus is kept
    assert patient_balance(org, patient, "bonus") == Decimal(5000)
    assert not Transaction.objects.for_org(org).filter(kind=TxKind.EXPIRE).exists()
    # the second plan: 48,000 money left (less than the price) paid back, its unspent bonus forfeited
    wallet_spend(org=org, actor=None, patient=patient, amount="1000", currency="RUB")
    again = membership_cancel(org=org, actor=None, membership=other)
    assert again.refund == Decimal(48000)
    assert patient_balance(org, patient, "money") == 0
    assert patient_balance(org, patient, "bonus") == 0
    forfeited = Posting.objects.for_org(org).filter(
        transaction__kind=TxKind.EXPIRE, transaction__reference=str(other.pk)
    )
    assert sorted((p.account.kind, p.amount) for p in forfeited) == [
        ("bonus", Decimal(-4000)),
        ("expired", Decimal(4000)),
    ]
    assert ledger_verify(org=org).ok
