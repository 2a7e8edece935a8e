"""MO-01 as a Hypothesis state machine: random sequences of top-up (with and without a plan's bonus),
spend, refund, earn, redeem, give, expiry (time moves on) and reversal. After every step: every
transaction sums to zero per unit, cached balances equal a replay of the postings (``ledger_verify``),
no patient balance is negative, and the liability equals the sum of the patients' balances and the
negated sum of the clinic's accounts. A refused step posts nothing."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone
from freezegun import freeze_time
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from clinicflow.core.errors import DomainError
from clinicflow.core.services import branch_create, organization_create
from clinicflow.ledger.models import PATIENT_KINDS, Account, Posting, Transaction
from clinicflow.ledger.selectors.wallet import liability
from clinicflow.ledger.services.journal import round_unit, transaction_reverse
from clinicflow.ledger.services.lots import expire_due
from clinicflow.ledger.services.points import points_earn, points_give, points_redeem
from clinicflow.ledger.services.verify import ledger_verify
from clinicflow.ledger.services.wallet import wallet_refund, wallet_spend, wallet_top_up
from clinicflow.ledger.tests.factories import make_patient, make_plan, make_program

pytestmark = pytest.mark.django_db
_orgs = itertools.count()
cents = st.integers(min_value=1, max_value=6_000_000).map(lambda c: Decimal(c) / 100)
who = st.integers(min_value=0, max_value=2)


class LedgerMachine(RuleBasedStateMachine):
    @initialize()
    def setup(self) -> None:
        n = next(_orgs)
        self.org = organization_create(name=f"Clinic {n}", slug=f"clinic-{n}", country="RU", currency="RUB")
        branch_create(org=self.org, name="Main", slug="main", timezone="Europe/Moscow")
        make_program(self.org, valid_days=30)
        self.plan = make_plan(self.org, bonus_valid_days=20)
        self.patients = [make_patient(self.org, first_name=f"P{i}") for i in range(3)]
        self.clock = timezone.now()
        self.refused = 0

    def _do(self, action: object) -> None:
        """Run one step at the machine's clock; a refusal must leave the journal as it was."""
        before = Posting.objects.for_org(self.org).count()
        with freeze_time(self.clock):
            try:
                action()  # type: ignore[operator]
            except DomainError:
                self.refused += 1
                assert Posting.objects.for_org(self.org).count() == before

    @rule(p=who, amount=cents, with_plan=st.booleans())
    def top_up(self, p: int, amount: Decimal, with_plan: bool) -> None:
        patient = self.patients[p]
        plan = self.plan if with_plan else None
        paid = self.plan.price if with_plan else amount
        self._do(
            lambda: wallet_top_up(
                org=self.org, actor=None, patient=patient, amount=paid, currency="RUB", plan=plan
            )
        )

    @rule(p=who, amount=cents, category=st.sampled_from(["", "laser", "fillers"]))
    def spend(self, p: int, amount: Decimal, category: str) -> None:
        patient = self.patients[p]
        self._do(
            lambda: wallet_spend(
                org=self.org, actor=None, patient=patient, amount=amount, currency="RUB", category=category
            )
        )

    @rule(p=who, amount=cents)
    def refund(self, p: int, amount: Decimal) -> None:
        patient = self.patients[p]
        self._do(
            lambda: wallet_refund(org=self.org, actor=None, patient=patient, amount=amount, currency="RUB")
        )

    @rule(p=who, amount=cents)
    def earn(self, p: int, amount: Decimal) -> None:
        patient = self.patients[p]
        self._do(lambda: points_earn(org=self.org, actor=None, patient=patient, paid=amount, currency="RUB"))

    @rule(p=who, points=st.integers(min_value=1, max_value=5000))
    def redeem(self, p: int, points: int) -> None:
        patient = self.patients[p]
        self._do(
            lambda: points_redeem(org=self.org, actor=None, patient=patient, points=points, currency="RUB")
        )

    @rule(p=who, q=who, points=st.integers(min_value=1, max_value=5000))
    def give(self, p: int, q: int, points: int) -> None:
        a, b = self.patients[p], self.patients[q]
        self._do(lambda: points_give(org=self.org, actor=None, patient=a, to_patient=b, points=points))

    @rule(days=st.integers(min_value=1, max_value=40))
    def time_passes_and_lots_expire(self, days: int) -> None:
        self.clock += dt.timedelta(days=days)
        self._do(lambda: expire_due(org=self.org))

    @rule(pick=st.integers(min_value=0, max_value=10_000))
    def reverse(self, pick: int) -> None:
        txns = list(Transaction.objects.for_org(self.org).order_by("created_at", "id"))
        if not txns:
            return
        original = txns[pick % len(txns)]
        self._do(lambda: transaction_reverse(org=self.org, actor=None, original=original))

    @invariant()
    def every_transaction_sums_to_zero_and_balances_replay(self) -> None:
        sums = Posting.objects.for_org(self.org).values("transaction", "unit").annotate(s=Sum("amount"))
        # SQLite adds decimals as floats (9.1E-13 for an exact zero): each sum in its unit's places, as
        # ``ledger_verify`` reads them
        unbalanced = [r for r in sums if _exact(r["s"], r["unit"]) != 0]
        assert unbalanced == []
        report = ledger_verify(org=self.org)
        assert report.mismatches == []

    @invariant()
    def nothing_negative_and_liability_is_the_sum_of_balances(self) -> None:
        accounts = list(Account.objects.for_org(self.org))
        for unit in ("RUB", "PTS"):
            held = [a for a in accounts if a.kind in PATIENT_KINDS and a.unit == unit]
            assert all(a.balance >= 0 for a in held)
            cached = sum((a.balance for a in held), Decimal(0))
            assert liability(org=self.org, unit=unit) == cached
            clinic = Posting.objects.for_org(self.org).filter(unit=unit, account__patient__isnull=True)
            assert -_exact(clinic.aggregate(s=Sum("amount"))["s"], unit) == cached


def _exact(total: Decimal | None, unit: str) -> Decimal:
    """A database sum of amounts in the unit's places (SQLite's float residue gone; exact elsewhere)."""
    return round_unit(Decimal(str(total or 0)), unit)


def test_the_ledger_keeps_its_invariants_under_random_operations(db: object) -> None:
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=30,
            stateful_step_count=12,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
