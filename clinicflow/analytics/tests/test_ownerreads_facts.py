"""The lifetime-value facts (``owner.value_facts``): built when predictions are stored they equal the raw
statement (``reports.owner.value_sql``: every payment and prediction ranked per request); payments
recorded, refunded and deleted afterwards reach them through the recorded changes (the incremental
update): each patient's revenue to date and each class's sums equal the raw tables' for the classes
given at the build, and a build again equals the raw statement."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinicflow.analytics.models import FactsChange, PatientValueFact, ValueClassFact
from clinicflow.analytics.owner import value_facts
from clinicflow.analytics.owner.changes import apply_changes
from clinicflow.analytics.owner.patients import value_to_date
from clinicflow.analytics.reports.owner import value_sql
from clinicflow.analytics.reports.owner.value import CLASSES, RECALL_ALIVE, RECALL_ROWS
from clinicflow.booking.models import Payment, PaymentKind
from clinicflow.core.models import Branch, Organization
from clinicflow.ledger.models import InvoiceTender
from clinicflow.patients.models import PatientPrediction
from clinicflow.simulator.runner import simulate_org
from clinicflow.simulator.scenario import load_scenario

END = dt.date(2026, 11, 30)


def _plain(sums: tuple[int, dict[str, object]]) -> tuple[int, dict[str, tuple[object, ...]]]:
    return sums[0], {k: tuple(v.__dict__.values()) for k, v in sums[1].items()}


def _equal_raw(org: Organization) -> int:
    """The facts' classes and recall lists equal the raw statement's for the chain and each branch."""
    checked = 0
    for branch in [None, *Branch.objects.filter(organization=org)]:
        cur = branch.currency if branch is not None else org.currency
        shares = (CLASSES[0][1], CLASSES[1][1])
        raw = value_sql.class_sums(org=org, currency=cur, branch=branch, shares=shares)
        assert _plain(value_facts.class_sums(org=org, currency=cur, branch=branch)) == _plain(raw)
        raw_top = value_sql.lapsing_top(
            org=org, currency=cur, branch=branch, alive_below=RECALL_ALIVE, rows=RECALL_ROWS
        )
        top = value_facts.lapsing_top(org=org, currency=cur, branch=branch, rows=RECALL_ROWS)
        assert [v.__dict__ for v in top] == [v.__dict__ for v in raw_top]
        checked += raw[0] + len(top)
    return checked


@pytest.fixture
def clinic(org: Organization) -> Organization:
    simulate_org(
        org=org,
        scenario=load_scenario(overrides={"clinic": {"months": 3, "end_date": END.isoformat()}}),
        seed=5,
    )
    call_command("analytics", "clv", "--org", org.slug, "--until", str(END), stdout=io.StringIO())
    FactsChange.objects.for_org(org).delete()  # the simulator wrote in bulk: nothing to follow
    return org


@pytest.mark.django_db
def test_stored_predictions_build_facts_equal_to_the_raw_statement(clinic: Organization) -> None:
    org = clinic
    n = PatientPrediction.objects.for_org(org).count()
    assert n > 100 and PatientValueFact.objects.for_org(org).count() == n  # built by the clv command
    assert _equal_raw(org) > n
    # P(alive) falling for every third patient: the next stored predictions rank them again
    ids = list(PatientPrediction.objects.for_org(org).order_by("patient_id").values_list("pk", flat=True))
    for i, pk in enumerate(ids[::3]):
        PatientPrediction.objects.filter(pk=pk).update(p_alive=(i % 10) / 20)
    value_facts.build_value_facts(org)
    assert PatientValueFact.objects.for_org(org).filter(recall__isnull=False).count() > 10
    assert _equal_raw(org) > n
    ctx_reads = []
    for reader in (
        lambda: value_facts.class_sums(org=org, currency=org.currency, branch=None),
        lambda: value_facts.lapsing_top(org=org, currency=org.currency, branch=None, rows=RECALL_ROWS),
    ):
        with CaptureQueriesContext(connection) as q:
            reader()
        ctx_reads.append(len(q))
    assert ctx_reads == [1, 1]


@pytest.mark.django_db
def test_payments_reach_the_facts_incrementally(clinic: Organization) -> None:
    from clinicflow.analytics.owner.facts import rebuild

    org = clinic
    rebuild(org)  # the daily facts the incremental update changes (and the value facts again)
    FactsChange.objects.for_org(org).delete()
    preds = list(
        PatientPrediction.objects.for_org(org).order_by("patient_id").values_list("patient_id", flat=True)
    )
    before = {
        r.patient_id: (r.klass, r.branch_klass, r.rank, r.recall)
        for r in PatientValueFact.objects.for_org(org)
    }
    pay = Payment.objects.for_org(org).filter(currency=org.currency).order_by("paid_at").first()
    assert pay is not None
    # a payment, a refund, another currency's payment and a deleted payment, as users record them
    Payment.objects.create(
        organization=org,
        patient_id=preds[0],
        branch=pay.branch,
        amount=Decimal("1500.50"),
        currency=org.currency,
        method="cash",
        paid_at=pay.paid_at,
    )
    Payment.objects.create(
        organization=org,
        patient_id=preds[1],
        branch=pay.branch,
        amount=Decimal("99.99"),
        currency=org.currency,
        method="cash",
        kind=PaymentKind.REFUND,
        paid_at=pay.paid_at,
    )
    Payment.objects.create(
        organization=org,
        patient_id=preds[2],
        branch=pay.branch,
        amount=Decimal("10.00"),
        currency="USD",
        method="cash",
        paid_at=pay.paid_at,
    )
    tendered = InvoiceTender.objects.for_org(org).exclude(payment=None).values("payment_id")
    gone = (
        Payment.objects.for_org(org)
        .filter(patient_id__in=preds[3:], currency=org.currency)
        .exclude(pk__in=tendered)  # paid at a checkout: kept by its invoice
        .first()
    )
    assert gone is not None
    gone.delete()
    assert FactsChange.objects.for_org(org).count() == 4
    while apply_changes(org).changes:
        pass
    # classes and places kept, revenue to date current
    after = {r.patient_id: r for r in PatientValueFact.objects.for_org(org)}
    assert {p: (r.klass, r.branch_klass, r.rank, r.recall) for p, r in after.items()} == before
    paid = value_to_date(org=org, currency=org.currency)
    for p, r in after.items():
        assert Decimal(r.hist_cents).scaleb(-2) == paid.get(p, Decimal(0))
    assert Decimal(after[preds[0]].hist_cents).scaleb(-2) == paid[preds[0]] and paid[preds[0]] >= Decimal(
        "1500.50"
    )
    for cls in ValueClassFact.objects.for_org(org):
        members = [
            r
            for r in after.values()
            if (cls.branch_id is None and r.klass == cls.klass)
            or (cls.branch_id == r.branch_id and r.branch_klass == cls.klass)
        ]
        assert cls.patients == len(members)
        assert cls.hist_cents == sum(r.hist_cents for r in members)
        assert cls.pred_cents == sum(r.pred_cents for r in members)
    # a build again (predictions stored, or a full rebuild) ranks them again: the raw statement's
    value_facts.build_value_facts(org)
    assert _equal_raw(org) > 100


@pytest.mark.django_db
def test_home_liability_from_cached_balances_equals_the_ledgers(clinic: Organization) -> None:
    """The owner home's membership liability (the member accounts' cached balances) equals the
    ledger's ``liability`` (every posting summed), and is None for a currency with no member account."""
    org = clinic
    from clinicflow.analytics.owner.home import _liability
    from clinicflow.ledger.models import Account, AccountKind
    from clinicflow.ledger.selectors.wallet import liability

    members = Account.objects.for_org(org).filter(kind__in=[AccountKind.MONEY, AccountKind.BONUS])
    assert members.exclude(balance=0).exists()  # the simulator sells memberships and top-ups
    assert _liability(org, org.currency) == liability(org=org, unit=org.currency) > 0
    assert _liability(org, "XXX") is None


def _split_reference(org: Organization, d0: dt.date, d1: dt.date, branch: Branch | None) -> dict:
    """The former read: ``RevenueFact``'s rows (one per doctor, service and flag) summed per currency."""
    from collections import defaultdict

    from django.db.models import BooleanField, ExpressionWrapper, Q, Sum

    from clinicflow.analytics.models import RevenueFact

    visit = ExpressionWrapper(Q(service_id__isnull=False), output_field=BooleanField())
    qs = RevenueFact.objects.for_org(org).filter(day__gte=d0, day__lte=d1)
    if branch is not None:
        qs = qs.filter(branch=branch)
    out: dict = defaultdict(lambda: [Decimal(0)] * 3)
    for r in qs.order_by().values("currency", "first", visit=visit).annotate(s=Sum("amount")):
        amount = Decimal(r["s"] or 0).quantize(Decimal("0.01"))
        out[r["currency"]][0 if r["first"] else 1 if r["visit"] else 2] += amount
    return {k: tuple(v) for k, v in out.items()}


def _split_equal(org: Organization) -> int:
    from clinicflow.analytics.owner.selectors import revenue_by, revenue_split

    checked = 0
    for branch in [None, *Branch.objects.filter(organization=org)]:
        for d0, d1 in [(END - dt.timedelta(days=29), END), (END - dt.timedelta(days=120), END), (END, END)]:
            got = {
                k: (s.first, s.repeat, s.other)
                for k, s in revenue_split(org=org, d0=d0, d1=d1, branch=branch).items()
            }
            assert got == _split_reference(org, d0, d1, branch)
            by_branch = {
                (line.key, line.currency): (line.amount, line.first, line.payments)
                for line in revenue_by(org=org, d0=d0, d1=d1, branch=branch, by="branch")
            }
            from clinicflow.analytics.models import RevenueFact

            ref = RevenueFact.objects.for_org(org).filter(day__gte=d0, day__lte=d1)
            ref = ref.filter(branch=branch) if branch is not None else ref
            expected: dict = {}
            for r in ref.values_list("branch_id", "currency", "amount", "first", "payments"):
                a, f, n = expected.get((r[0], r[1]), (Decimal(0), Decimal(0), 0))
                expected[(r[0], r[1])] = (a + r[2], f + (r[2] if r[3] else 0), n + r[4])
            assert by_branch == expected
            checked += len(got) + len(by_branch)
    return checked


@pytest.mark.django_db
def test_revenue_split_facts_equal_the_revenue_facts_summed(clinic: Organization) -> None:
    """The home's revenue split and the revenue report by branch read the day's split: equal to the
    revenue facts summed, after a full rebuild and after payments applied incrementally."""
    from clinicflow.analytics.owner.facts import rebuild

    org = clinic
    rebuild(org)
    assert _split_equal(org) > 10
    pay = Payment.objects.for_org(org).filter(currency=org.currency).order_by("-paid_at").first()
    assert pay is not None
    Payment.objects.create(
        organization=org,
        patient_id=pay.patient_id,
        branch=pay.branch,
        appointment=pay.appointment,
        amount=Decimal("777.70"),
        currency=org.currency,
        method="cash",
        paid_at=pay.paid_at,
    )
    Payment.objects.create(
        organization=org,
        patient_id=pay.patient_id,
        branch=pay.branch,
        amount=Decimal("50.00"),
        currency=org.currency,
        method="cash",
        kind=PaymentKind.REFUND,
        paid_at=pay.paid_at,
    )
    while apply_changes(org).changes:
        pass
    assert _split_equal(org) > 10
