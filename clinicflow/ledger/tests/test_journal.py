"""The journal: balanced, append-only (ORM and PostgreSQL), reversals, reconciliation."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from clinicflow.core.errors import Conflict
from clinicflow.core.models import Branch, Organization
from clinicflow.ledger.models import Account, AccountKind, Posting, Transaction, TxKind
from clinicflow.ledger.services.journal import LedgerError, Leg, account_for, lock, post, transaction_reverse
from clinicflow.ledger.services.verify import ledger_verify
from clinicflow.ledger.services.wallet import wallet_spend, wallet_top_up
from clinicflow.ledger.tests.factories import make_patient, make_plan, make_program, patient_balance

pytestmark = pytest.mark.django_db
on_postgres = pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL trigger")


def test_unbalanced_postings_are_refused(org: Organization, branch: Branch) -> None:
    patient = make_patient(org)
    money = account_for(org=org, kind=AccountKind.MONEY, unit="RUB", patient=patient)
    cash = account_for(org=org, kind=AccountKind.CASH, unit="RUB")
    with transaction.atomic(), pytest.raises(LedgerError, match="do not sum to zero"):
        post(
            org=org,
            kind=TxKind.TOP_UP,
            legs=[Leg(cash, Decimal("-10")), Leg(money, Decimal("9.99"))],
            locked=lock([money]),
        )
    assert Transaction.objects.for_org(org).count() == 0


def test_a_float_amount_raises(org: Organization, branch: Branch) -> None:
    patient = make_patient(org)
    money = account_for(org=org, kind=AccountKind.MONEY, unit="RUB", patient=patient)
    cash = account_for(org=org, kind=AccountKind.CASH, unit="RUB")
    with transaction.atomic(), pytest.raises(TypeError):
        post(org=org, kind=TxKind.TOP_UP, legs=[Leg(cash, -10.0), Leg(money, 10.0)], locked=lock([money]))  # type: ignore[arg-type]


def test_postings_and_transactions_are_append_only_through_the_orm(org: Organization, branch: Branch) -> None:
    patient = make_patient(org)
    txn = wallet_top_up(org=org, actor=None, patient=patient, amount="10", currency="RUB")
    posting = Posting.objects.for_org(org).filter(transaction=txn).first()
    assert posting is not None
    with pytest.raises(TypeError):
        posting.save()
    with pytest.raises(TypeError):
        posting.delete()
    with pytest.raises(TypeError):
        Posting.objects.for_org(org).update(amount=1)
    with pytest.raises(TypeError):
        Transaction.objects.for_org(org).delete()
    with pytest.raises(TypeError):
        txn.save()
    assert Posting.objects.for_org(org).filter(transaction=txn).count() == 2


@on_postgres
def test_postgresql_refuses_raw_updates_and_deletes_of_postings(org: Organization, branch: Branch) -> None:
    patient = make_patient(org)
    wallet_top_up(org=org, actor=None, patient=patient, amount="10", currency="RUB")
    for sql in (
        "UPDATE ledger_posting SET amount = amount * 2",
        "DELETE FROM ledger_posting",
        "DELETE FROM ledger_transaction",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert patient_balance(org, patient, "money") == Decimal("10.00")


@on_postgres
def test_postgresql_refuses_an_unbalanced_transaction_at_commit(org: Organization, branch: Branch) -> None:
    patient = make_patient(org)
    txn = wallet_top_up(org=org, actor=None, patient=patient, amount="10", currency="RUB")
    money = Account.objects.for_org(org).get(patient=patient, kind="money")
    with pytest.raises(DatabaseError, match="does not sum to zero"), transaction.atomic():
        Posting.objects.create(
            organization=org,
            transaction=txn,
            account=money,
            unit="RUB",
            amount=Decimal(5),
            balance_after=None,
        )
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    assert Posting.objects.for_org(org).filter(transaction=txn).count() == 2


def test_a_reversal_restores_the_balances_exactly_and_only_once(org: Organization, branch: Branch) -> None:
    make_program(org)
    patient = make_patient(org)
    wallet_top_up(org=org, actor=None, patient=patient, amount="50000", currency="RUB", plan=make_plan(org))
    spend = wallet_spend(org=org, actor=None, patient=patient, amount="7000.55", currency="RUB")
    assert patient_balance(org, patient, "points", "PTS") == Decimal(100)  # 2000.55 x 0.05 = 100.0275
    reversal = transaction_reverse(org=org, actor=None, original=spend)
    assert reversal.reverses_id == spend.pk
    assert patient_balance(org, patient, "money") == Decimal("50000.00")
    assert patient_balance(org, patient, "bonus") == Decimal("5000.00")
    assert patient_balance(org, patient, "points", "PTS") == Decimal(0)
    with pytest.raises(Conflict):
        transaction_reverse(org=org, actor=None, original=spend)
    with pytest.raises(Conflict):
        transaction_reverse(org=org, actor=None, original=reversal)
    assert ledger_verify(org=org).ok


def test_reversing_a_top_up_whose_money_was_spent_is_refused(org: Organization, branch: Branch) -> None:
    patient = make_patient(org)
    top_up = wallet_top_up(org=org, actor=None, patient=patient, amount="100", currency="RUB")
    wallet_spend(org=org, actor=None, patient=patient, amount="60", currency="RUB")
    count = Posting.objects.for_org(org).count()
    with pytest.raises(Conflict):
        transaction_reverse(org=org, actor=None, original=top_up)
    assert Posting.objects.for_org(org).count() == count
    assert patient_balance(org, patient, "money") == Decimal("40.00")


def test_verify_names_the_first_mismatch(org: Organization, branch: Branch) -> None:
    patient = make_patient(org)
    wallet_top_up(org=org, actor=None, patient=patient, amount="100", currency="RUB")
    out = io.StringIO()
    call_command("ledger", "verify", "--org", "demo", stdout=out)
    assert "demo: 2 accounts, 1 transactions, 2 postings: OK" in out.getvalue()
    Account.objects.for_org(org).filter(patient=patient).update(balance=Decimal("99.99"))  # injected drift
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("ledger", "verify", "--org", "demo", stdout=out)
    text = out.getvalue()
    assert "first mismatch:" in text
    assert "cached balance 99.99, postings sum to 100.00" in text
    assert "1 organisation(s) checked, 1 with mismatches" in text


def test_verify_refuses_an_unknown_organisation(db: object) -> None:
    with pytest.raises(CommandError, match="no organisation"):
        call_command("ledger", "verify", "--org", "nope", stdout=io.StringIO())
