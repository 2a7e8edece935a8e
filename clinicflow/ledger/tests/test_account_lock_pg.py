"""The accounts read and locked in one statement (``journal.accounts_locked``, issue #16 speed) on
PostgreSQL, with real connections: the patient's accounts are locked, the clinic's are not, and
simultaneous first uses of a patient's accounts (created on first use) all post, none lost."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import OperationalError, connection, connections, transaction

from clinicflow.core.models import Branch, Organization
from clinicflow.ledger.models import Account, AccountKind
from clinicflow.ledger.services.journal import accounts_locked
from clinicflow.ledger.services.verify import ledger_verify
from clinicflow.ledger.services.wallet import wallet_top_up
from clinicflow.ledger.tests.factories import make_patient, patient_balance

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]


def _locked_elsewhere(pk: object) -> bool:
    """Whether another connection finds the account's row locked (``FOR UPDATE NOWAIT``)."""
    out: list[bool] = []

    def probe() -> None:
        try:
            with transaction.atomic():
                list(Account.objects.select_for_update(nowait=True).filter(pk=pk))
            out.append(False)
        except OperationalError:
            out.append(True)
        finally:
            connections.close_all()

    thread = threading.Thread(target=probe)
    thread.start()
    thread.join(timeout=30)
    return out[0]


def test_the_patients_accounts_are_locked_and_the_clinics_are_not(org: Organization) -> None:
    patient = make_patient(org)
    wallet_top_up(org=org, actor=None, patient=patient, amount="1000", currency="RUB")
    wanted = [(AccountKind.MONEY, "RUB"), (AccountKind.CASH, "RUB")]
    with transaction.atomic():
        found, locked = accounts_locked(org=org, patient=patient, wanted=wanted)
        money, cash = found[(AccountKind.MONEY, "RUB")], found[(AccountKind.CASH, "RUB")]
        assert list(locked) == [money.pk] and locked[money.pk] is money
        assert money.balance == Decimal(1000)
        assert _locked_elsewhere(money.pk)
        assert not _locked_elsewhere(cash.pk)
    assert not _locked_elsewhere(money.pk)


def test_simultaneous_first_top_ups_all_post(org: Organization, branch: Branch) -> None:
    """The patient has no account yet: each writer creates or finds it, then locks it; none is lost."""
    patient = make_patient(org)
    count = 12
    barrier = threading.Barrier(count)
    errors: list[Exception] = []

    def run(i: int) -> None:
        try:
            barrier.wait()
            wallet_top_up(org=org, actor=None, patient=patient, amount=str(100 + i), currency="RUB")
        except Exception as exc:  # collected and asserted on below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert patient_balance(org, patient, "money") == Decimal(sum(100 + i for i in range(count)))
    assert Account.objects.for_org(org).filter(patient=patient, kind=AccountKind.MONEY).count() == 1
    assert ledger_verify(org=org).ok
