"""MO-01 for checkout, as a Hypothesis state machine: random invoices, discounts, payments by several
methods (cash, card, balance, points) and refunds (whole, part, to named tenders). After every step:
each journal transaction sums to zero per unit, cached balances replay (``ledger_verify``); for every
invoice ``paid`` is the sum of its payment tenders, ``refunded`` the sum of its refunds,
``refunded <= paid <= total``, no tender refunded beyond its amount; and the revenue the reports read
(``booking.Payment`` net of refunds) equals the tenders' revenue net of their refunds. A refused step
posts nothing."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from django.db.models import Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from clinicflow.accounts.models import User
from clinicflow.accounts.roles import Role
from clinicflow.accounts.services import user_create
from clinicflow.booking.models import Payment, PaymentKind
from clinicflow.core.errors import DomainError
from clinicflow.core.services import branch_create, organization_create
from clinicflow.ledger.models import Invoice, InvoiceTender, Posting
from clinicflow.ledger.services.checkout import TenderIn, invoice_pay
from clinicflow.ledger.services.invoices import invoice_discount_add
from clinicflow.ledger.services.refunds import invoice_refund
from clinicflow.ledger.services.verify import ledger_verify
from clinicflow.ledger.services.wallet import wallet_top_up
from clinicflow.ledger.tests.factories import make_patient, make_plan, make_program
from clinicflow.ledger.tests.invoice_factories import make_invoice

pytestmark = pytest.mark.django_db
_orgs = itertools.count()
cents = st.integers(min_value=1, max_value=3_000_000).map(lambda c: Decimal(c) / 100)
methods = st.sampled_from(["cash", "card", "balance", "points"])


class CheckoutMachine(RuleBasedStateMachine):
    @initialize()
    def setup(self) -> None:
        n = next(_orgs)
        self.org = organization_create(name=f"Desk {n}", slug=f"desk-{n}", country="RU", currency="RUB")
        self.branch = branch_create(org=self.org, name="Main", slug="main", timezone="Europe/Moscow")
        make_program(self.org)
        self.patient = make_patient(self.org)
        self.manager: User = user_create(
            org=self.org,
            actor=None,
            email=f"m{n}@desk.test",
            password="x" * 20,
            role=Role.MANAGER,
            full_name="M",
            validate=False,
        )
        wallet_top_up(
            org=self.org,
            actor=None,
            patient=self.patient,
            amount="50000",
            currency="RUB",
            plan=make_plan(self.org),
        )
        self.invoices: list[Invoice] = []

    def _do(self, action: object) -> None:
        before = Posting.objects.for_org(self.org).count()
        try:
            action()  # type: ignore[operator]
        except DomainError:
            assert Posting.objects.for_org(self.org).count() == before

    def _pick(self, i: int) -> Invoice | None:
        if not self.invoices:
            return None
        return Invoice.objects.for_org(self.org).get(pk=self.invoices[i % len(self.invoices)].pk)

    @rule(prices=st.lists(cents, min_size=1, max_size=3))
    def new_invoice(self, prices: list[Decimal]) -> None:
        self.invoices.append(
            make_invoice(self.org, self.branch, self.patient, prices=tuple(str(p) for p in prices))
        )

    @rule(i=st.integers(0, 50), amount=cents)
    def discount(self, i: int, amount: Decimal) -> None:
        invoice = self._pick(i)
        if invoice is not None:
            self._do(
                lambda: invoice_discount_add(
                    org=self.org,
                    actor=self.manager,
                    invoice=invoice,
                    kind="manual",
                    amount=amount,
                    reason="r",
                )
            )

    @rule(i=st.integers(0, 50), parts=st.lists(st.tuples(methods, cents), min_size=1, max_size=3))
    def pay(self, i: int, parts: list[tuple[str, Decimal]]) -> None:
        invoice = self._pick(i)
        if invoice is None:
            return
        tenders = [
            TenderIn(m, points=int(a) or 1) if m == "points" else TenderIn(m, amount=a) for m, a in parts
        ]
        self._do(lambda: invoice_pay(org=self.org, actor=None, invoice=invoice, tenders=tenders))

    @rule(i=st.integers(0, 50), amount=cents, whole=st.booleans())
    def refund(self, i: int, amount: Decimal, whole: bool) -> None:
        invoice = self._pick(i)
        if invoice is None:
            return
        value = invoice.net if whole and invoice.net > 0 else amount
        self._do(lambda: invoice_refund(org=self.org, actor=None, invoice=invoice, amount=value, reason="r"))

    @invariant()
    def the_journal_balances_and_replays(self) -> None:
        unbalanced = (
            Posting.objects.for_org(self.org)
            .values("transaction", "unit")
            .annotate(s=Sum("amount"))
            .exclude(s=0)
        )
        assert list(unbalanced) == []
        assert ledger_verify(org=self.org).mismatches == []

    @invariant()
    def invoices_add_up(self) -> None:
        revenue = Decimal(0)
        for invoice in Invoice.objects.for_org(self.org):
            rows = list(InvoiceTender.objects.for_org(self.org).filter(invoice=invoice))
            pays = [t for t in rows if t.kind == "payment"]
            refunds = [t for t in rows if t.kind == "refund"]
            assert invoice.paid == sum((t.amount for t in pays), Decimal(0))
            assert invoice.refunded == sum((t.amount for t in refunds), Decimal(0))
            assert Decimal(0) <= invoice.refunded <= invoice.paid <= invoice.total
            lines = invoice.lines.all()
            assert invoice.total == sum((ln.total for ln in lines), Decimal(0))
            for t in pays:
                back = sum((r.amount for r in refunds if r.refund_of_id == t.pk), Decimal(0))
                assert back <= t.amount
            revenue += sum((t.revenue for t in pays), Decimal(0)) - sum(
                (t.revenue for t in refunds), Decimal(0)
            )
        paid = Payment.objects.for_org(self.org)
        net = sum(((-p.amount if p.kind == PaymentKind.REFUND else p.amount) for p in paid), Decimal(0))
        assert net == revenue


def test_checkout_keeps_its_invariants_under_random_operations(db: object) -> None:
    run_state_machine_as_test(
        CheckoutMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=12,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
