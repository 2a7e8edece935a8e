"""Memberships used, cancelled and renewed, balances spent, stored-value plans cancelled (issue #16):
the simulator plants the rates (``[loyalty.usage]``), writes them through the ledger, and the loyalty
reports (or the ledger's rows) recover them.

Every rate is checked within Z = 3 binomial standard errors of the planted one: |k/n − p| ≤
3·sqrt(p(1 − p)/n) (a pooled rate over plans with different planted rates: the sum of the
variances), i.e. a false alarm about once in 370 runs for a fair coin of the planted bias; the seed
is fixed, so the test is deterministic."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import defaultdict
from decimal import ROUND_HALF_EVEN, Decimal

import pytest
from django.db.models import Q, Sum

from clinicflow.analytics.reports import loyalty  # noqa: F401 - registers the loyalty reports
from clinicflow.analytics.reports.base import REGISTRY, build_context, run_report
from clinicflow.booking.models import Appointment, Payment
from clinicflow.conftest import module_data
from clinicflow.core.models import Organization
from clinicflow.ledger.models import (
    Account,
    AccountKind,
    Invoice,
    InvoiceTender,
    Membership,
    MembershipStatus,
    MembershipUse,
    PlanKind,
    Posting,
    Transaction,
    TxKind,
)
from clinicflow.ledger.services.verify import ledger_verify
from clinicflow.simulator.runner import simulate_org
from clinicflow.simulator.scenario import load_scenario

Z = 3.0
# the reports' days are UTC days for a chain: the run ends a second before the last one reported
NOW = dt.datetime(2026, 6, 29, 23, 59, 59, tzinfo=dt.UTC)
LAST_DAY = "2026-06-29"
USAGE = {
    "term_days": 90,
    "renew_fee": 0.6,
    "renew_package": 0.3,
    "cancel_fee": 0.15,
    "cancel_package": 0.1,
    "cancel_stored_value": 0.8,
}
SCENARIO = {
    "clinic": {"months": 8},
    "loyalty": {"membership_probability": 0.3, "usage": USAGE},
}
TRACKED = (PlanKind.FEE, PlanKind.PACKAGE)


def within(k: int, n: int, p: float) -> bool:
    return n > 0 and abs(k / n - p) <= Z * math.sqrt(p * (1 - p) / n) + 1e-9


@pytest.fixture(scope="module")
def run(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    from clinicflow.core.services import organization_create

    with module_data(django_db_blocker):
        org = organization_create(name="Loyalty use", slug="loyalty-use", country="RU", currency="RUB")
        result = simulate_org(org=org, scenario=load_scenario("mid", overrides=SCENARIO), seed=11, now=NOW)
        yield org, result.truth


def _report(org: Organization, name: str, date_from: str):  # type: ignore[no-untyped-def]
    spec = REGISTRY[name]
    ctx = build_context(spec, org=org, user=None, query={"from": date_from, "to": LAST_DAY})
    return ctx, run_report(spec, ctx)


def _numbers(notes: list[str], pattern: str) -> tuple[int, ...]:
    for note in notes:
        found = re.search(pattern, note)
        if found:
            return tuple(int(x) for x in found.groups())
    raise AssertionError(f"no note matches {pattern!r}: {notes}")


def _verified(org: Organization) -> bool:
    """``ledger verify`` is clean — but for SQLite's float sums of a transaction's postings (``sums to
    5.7E-14``), each checked here exactly instead."""
    report = ledger_verify(org=org)
    sums: dict[object, Decimal] = defaultdict(Decimal)
    for txn, amount in Posting.objects.for_org(org).values_list("transaction_id", "amount"):
        sums[txn] += amount
    assert not [t for t, total in sums.items() if total != 0]
    rest = [m for m in report.mismatches if not re.search(r"sums to -?[0-9.]+E-1[0-9] ", m)]
    assert not rest, rest[:5]
    return True


@pytest.mark.django_db
def test_the_ledger_is_consistent_and_every_visit_is_paid_in_full(run) -> None:
    org, truth = run
    assert _verified(org)
    done = Appointment.objects.for_org(org).filter(status="done", price__gt=0)
    invoices = Invoice.objects.for_org(org).filter(appointment__isnull=False)
    assert invoices.count() == done.count()
    assert not invoices.exclude(paid=models_f("total")).exists()
    paid = InvoiceTender.objects.for_org(org).aggregate(s=Sum("amount"))["s"]
    assert paid == done.aggregate(s=Sum("price"))["s"]
    # revenue is what was received: the price less the included procedures and the bonus spent
    received = Payment.objects.for_org(org).filter(appointment__isnull=False).aggregate(s=Sum("amount"))["s"]
    unrecognised = Decimal(str(truth["loyalty_use"]["realised"]["unrecognised"]))
    assert received == done.aggregate(s=Sum("price"))["s"] - unrecognised
    assert received == Decimal(str(truth["revenue"]["total"])).quantize(Decimal("0.01"))
    assert unrecognised > 0


@pytest.mark.django_db
def test_the_report_recovers_the_planted_use_of_included_procedures(run) -> None:
    org, truth = run
    plans = truth["loyalty_use"]["plans"]
    _ctx, result = _report(org, "membership_economics", "2020-01-01")
    used, allowed = _numbers(result.notes, r"Included procedures used: (\d+) of (\d+)")
    assert used == sum(plans[k]["realised"]["used"] for k in TRACKED) > 100
    assert allowed == sum(plans[k]["realised"]["allowed"] for k in TRACKED)
    assert used == MembershipUse.objects.for_org(org).count()
    for kind in TRACKED:
        realised, planted = plans[kind]["realised"], plans[kind]["planted"]
        k = MembershipUse.objects.for_org(org).filter(membership__plan__kind=kind).count()
        n = realised["included_use"]["n"]
        assert k == realised["used"]
        assert within(k, n, planted["included_use"]), (kind, k, n, planted)
    # each use paid a whole visit of the procedure the plan includes, inside the active term
    for use in MembershipUse.objects.for_org(org).select_related("membership__plan", "service")[:300]:
        m = use.membership
        assert m.plan.included == {use.service.code: m.plan.included[use.service.code]}
        assert m.starts_at < use.used_at < (m.cancelled_at or m.ends_at)


@pytest.mark.django_db
def test_the_report_recovers_the_planted_churn(run) -> None:
    org, truth = run
    plans = truth["loyalty_use"]["plans"]
    ctx, result = _report(org, "membership_economics", "2020-01-01")
    end = ctx.end_utc()
    assert end == NOW + dt.timedelta(seconds=1)
    (churned,) = _numbers(result.notes, r"churned \(cancelled or ended without renewal\): (\d+)")
    held = Membership.objects.for_org(org).filter(plan__kind__in=TRACKED)
    cancelled = held.filter(status=MembershipStatus.CANCELLED)
    assert cancelled.count() == sum(plans[k]["realised"]["cancelled"] for k in TRACKED) > 20
    ran = {k: held.filter(plan__kind=k, status=MembershipStatus.ACTIVE, ends_at__lt=end) for k in TRACKED}
    renewed = {k: held.filter(plan__kind=k, renewed_from__isnull=False).count() for k in TRACKED}
    # churned = cancelled + ran the term without renewal
    assert churned == cancelled.count() + sum(ran[k].count() - renewed[k] for k in TRACKED)
    # renewal: pooled over the plans (the report is not per plan), and per plan
    n = {k: ran[k].count() for k in TRACKED}
    p = {k: plans[k]["planted"]["renew"] for k in TRACKED}
    total = sum(n.values())
    not_renewed = churned - cancelled.count()
    expected = sum(n[k] * (1 - p[k]) for k in TRACKED)
    assert abs(not_renewed - expected) <= Z * math.sqrt(sum(n[k] * p[k] * (1 - p[k]) for k in TRACKED))
    assert total > 100
    for k in TRACKED:
        assert renewed[k] == plans[k]["realised"]["renew"]["k"]
        assert within(renewed[k], n[k], p[k]), (k, renewed[k], n[k], p[k])
        # cancellation: of the memberships whose whole term is over
        whole = held.filter(plan__kind=k, ends_at__lt=end)
        gone = whole.filter(status=MembershipStatus.CANCELLED).count()
        assert (gone, whole.count()) == (
            plans[k]["realised"]["cancel"]["k"],
            plans[k]["realised"]["cancel"]["n"],
        )
        assert within(gone, whole.count(), plans[k]["planted"]["cancel"]), (k, gone, whole.count())


@pytest.mark.django_db
def test_a_cancellation_refunds_pro_rata_less_what_was_used(run) -> None:
    org, _truth = run
    uses: dict[object, Decimal] = defaultdict(Decimal)
    for m, value in MembershipUse.objects.for_org(org).values_list("membership_id", "value"):
        uses[m] += value
    every = list(
        Membership.objects.for_org(org).filter(status=MembershipStatus.CANCELLED).select_related("plan")
    )
    cancelled = [m for m in every if m.plan.kind in TRACKED]
    assert cancelled
    for m in cancelled:
        assert m.cancelled_at is not None and m.refund is not None
        left = (m.ends_at - m.cancelled_at).total_seconds() / (m.ends_at - m.starts_at).total_seconds()
        pro_rata = (m.price * Decimal(str(left))).quantize(Decimal("0.01"), ROUND_HALF_EVEN)
        expected = min(max(pro_rata - uses[m.pk], Decimal(0)), m.price)
        assert abs(m.refund - expected) <= Decimal("0.01"), (m.pk, m.refund, expected)
        assert (
            not MembershipUse.objects.for_org(org).filter(membership=m, used_at__gt=m.cancelled_at).exists()
        )
    # the prepaid lot of a cancelled membership is empty; the refund (stored value's too) is paid back
    refunds = sum((m.refund or Decimal(0) for m in every), Decimal(0))
    paid_back = Payment.objects.for_org(org).filter(kind="refund", note="membership refund")
    assert paid_back.aggregate(s=Sum("amount"))["s"] == refunds > 0
    lots = Posting.objects.for_org(org).filter(
        Q(pk__in=[m.lot_id for m in cancelled]) | Q(lot__in=[m.lot_id for m in cancelled])
    )
    assert lots.aggregate(s=Sum("amount"))["s"] == 0


@pytest.mark.django_db
def test_balances_are_spent_never_negative_and_the_liability_is_their_sum(run) -> None:
    org, truth = run
    realised = truth["loyalty_use"]["realised"]
    spends = InvoiceTender.objects.for_org(org).filter(method="balance")
    k, n = realised["balance_pay"]["k"], realised["balance_pay"]["n"]
    assert spends.count() == k > 50
    assert within(k, n, truth["loyalty_use"]["planted"]["balance_pay"]), (k, n)
    # the bonus is spent too (first), and the money part of a spend is revenue
    kinds = ("money", "bonus")
    out = Posting.objects.for_org(org).filter(transaction__kind=TxKind.SPEND, account__kind__in=kinds)
    assert -out.filter(account__kind="bonus").aggregate(s=Sum("amount"))["s"] == Decimal(
        str(realised["bonus_spent"])
    )
    assert -out.filter(account__kind="money").aggregate(s=Sum("amount"))["s"] == Decimal(
        str(realised["money_spent"])
    )
    assert spends.aggregate(s=Sum("revenue"))["s"] == Decimal(str(realised["money_spent"]))
    # replayed in time, no balance ever goes below zero
    running: dict[object, Decimal] = defaultdict(Decimal)
    rows = Posting.objects.for_org(org).filter(account__kind__in=kinds).order_by("created_at", "seq")
    for account, amount in rows.values_list("account_id", "amount"):
        running[account] += amount
        assert running[account] >= 0, account
    # the liability report owes exactly what the patients hold
    _ctx, liability = _report(org, "loyalty_liability", "2026-06-01")
    held = Account.objects.for_org(org).filter(
        patient__isnull=False,
        kind__in=(AccountKind.MONEY, AccountKind.BONUS, AccountKind.PREPAID),
        unit="RUB",
    )
    assert liability.totals is not None
    for kind in (AccountKind.MONEY, AccountKind.BONUS, AccountKind.PREPAID):
        assert liability.totals[str(kind)] == _sum(held.filter(kind=kind), "balance"), kind
    assert liability.totals["total"] == _sum(held, "balance") > 0
    # balances fell: less is held than was topped up
    topped = Posting.objects.for_org(org).filter(transaction__kind=TxKind.TOP_UP, account__kind__in=kinds)
    assert (
        held.filter(kind__in=kinds).aggregate(s=Sum("balance"))["s"] < topped.aggregate(s=Sum("amount"))["s"]
    )


@pytest.mark.django_db
def test_stored_value_plans_are_cancelled_at_the_planted_rate_by_the_ledgers_rule(run) -> None:
    """Recovered from the ledger's rows: each plan sold had the share f of its term (the bonus's year)
    elapsed by now, its cancellation's moment is uniform over the term, so k cancelled by now is a sum
    of binomials with p·f: |k − p·Σf| ≤ Z·sqrt(Σ p·f·(1 − p·f)). Each refund is the money part left
    on the balance just before the cancellation (at most the price); what the plan's bonus lot had left
    is forfeited, and the lot pays nothing after the cancellation."""
    org, truth = run
    sv = truth["loyalty_use"]["stored_value"]
    p = sv["planted"]["cancel"]
    assert p == USAGE["cancel_stored_value"]
    plans = list(Membership.objects.for_org(org).filter(plan__kind=PlanKind.STORED_VALUE))
    assert len(plans) == sv["realised"]["sold"] > 100
    end, second = NOW, dt.timedelta(seconds=1)
    shares = [
        min(1.0, max(0.0, (end - m.starts_at - second) / (m.ends_at - m.starts_at - second))) for m in plans
    ]
    assert abs(sum(shares) - sv["realised"]["by_now"]["exposure"]) < 1e-3
    cancelled = [m for m in plans if m.status == MembershipStatus.CANCELLED]
    k = len(cancelled)
    assert k == sv["realised"]["cancelled"] == sv["realised"]["by_now"]["k"] > 15
    expected = p * sum(shares)
    assert abs(k - expected) <= Z * math.sqrt(sum(p * f * (1 - p * f) for f in shares)), (k, expected)
    by_now = sv["realised"]["by_now"]
    assert abs(by_now["rate"] - p) <= Z * by_now["se"] + 1e-9, by_now
    # the refund: the money part left just before the cancellation, at most the price
    money = {a.patient_id: a for a in Account.objects.for_org(org).filter(kind=AccountKind.MONEY)}
    forfeited = Decimal(0)
    for m in cancelled:
        assert m.cancelled_at is not None and m.starts_at < m.cancelled_at <= NOW
        before = Posting.objects.for_org(org).filter(
            account=money[m.patient_id], created_at__lt=m.cancelled_at
        )
        left = _sum(before, "amount")
        assert m.refund == min(m.price, left), (m.pk, m.refund, left)
        # the plan's bonus lot: forfeited at the cancellation, empty after it, untouched later
        lot = Posting.objects.for_org(org).get(
            transaction=m.sale_id, account__kind=AccountKind.BONUS, lot=None
        )
        taken = Posting.objects.for_org(org).filter(lot=lot.pk)
        assert not taken.filter(created_at__gt=m.cancelled_at).exists()
        gone = taken.filter(transaction__kind=TxKind.EXPIRE, transaction__reference=str(m.pk))
        assert lot.amount + _sum(taken, "amount") == 0
        forfeited -= _sum(gone, "amount")
    assert forfeited == Decimal(str(sv["realised"]["forfeited"])) > 0
    refunds = sum((m.refund or Decimal(0) for m in cancelled), Decimal(0))
    assert refunds == Decimal(str(sv["realised"]["refunds"])) > 0
    # a plan not cancelled keeps its membership active; its bonus lot is not forfeited
    active = [m for m in plans if m.status == MembershipStatus.ACTIVE]
    assert len(active) == len(plans) - k
    assert (
        not Transaction.objects.for_org(org)
        .filter(kind=TxKind.EXPIRE, reference__in=[str(m.pk) for m in active])
        .exists()
    )


def _sum(qs, field: str) -> Decimal:  # type: ignore[no-untyped-def]
    """An exact sum (SQLite sums decimals as floats)."""
    return sum((Decimal(v) for v in qs.values_list(field, flat=True)), Decimal(0)).quantize(Decimal("0.01"))


def models_f(name: str):  # type: ignore[no-untyped-def]
    from django.db.models import F

    return F(name)
