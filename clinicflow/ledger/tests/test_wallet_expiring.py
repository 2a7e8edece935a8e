"""What the wallet says expires when (issue #16 speed): the usable lots' remainders summed per day in
the branch's zone, the first days listed and the rest as one total, expired lots not spendable; the
same numbers as a lot-by-lot pass (``open_lots_dated``), in one query however many lots are open."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from freezegun import freeze_time

from clinicflow.core.models import Branch, Organization
from clinicflow.ledger.models import Account, MembershipPlan
from clinicflow.ledger.selectors.wallet import EXPIRING_DAYS, wallet_get
from clinicflow.ledger.services.lots import open_lots_dated
from clinicflow.ledger.services.wallet import wallet_spend, wallet_top_up
from clinicflow.ledger.tests.factories import make_patient, make_plan
from clinicflow.patients.models import Patient

pytestmark = pytest.mark.django_db
MOSCOW = ZoneInfo("Europe/Moscow")
# 20:30 UTC is 23:30 in Moscow; an hour later it is already the next day there (not in UTC)
T0 = dt.datetime(2026, 1, 10, 20, 30, tzinfo=dt.UTC)


def _top_ups(org: Organization, patient: Patient, moments: list[dt.datetime]) -> None:
    # 50,000 paid, 5,000 bonus valid 180 days
    plan = MembershipPlan.objects.for_org(org).filter(code="sv-50").first() or make_plan(org)
    for at in moments:
        with freeze_time(at):
            wallet_top_up(org=org, actor=None, patient=patient, amount="50000", currency="RUB", plan=plan)


def _by_day(org: Organization, patient: Patient, now: dt.datetime) -> dict[dt.date, Decimal]:
    """The lot-by-lot answer: what each usable lot has left, summed per Moscow day of its expiry."""
    account = Account.objects.for_org(org).get(patient=patient, kind="bonus")
    out: dict[dt.date, Decimal] = {}
    for _, left, at in open_lots_dated(org=org, account=account, now=now):
        assert at is not None
        day = at.astimezone(MOSCOW).date()
        out[day] = out.get(day, Decimal(0)) + left
    return out


def test_lots_are_summed_per_day_of_the_branchs_zone(org: Organization, branch: Branch) -> None:
    patient = make_patient(org, branch=branch)
    assert patient.branch.timezone == "Europe/Moscow"
    _top_ups(org, patient, [T0, T0 + dt.timedelta(hours=1), T0 + dt.timedelta(hours=2)])
    with freeze_time(T0 + dt.timedelta(hours=3)):
        wallet_spend(org=org, actor=None, patient=patient, amount="1234.56", currency="RUB")
    now = T0 + dt.timedelta(days=1)
    bonus = {b.kind: b for b in wallet_get(org=org, patient=patient, now=now).balances}["bonus"]
    first = (T0 + dt.timedelta(days=180)).astimezone(MOSCOW).date()
    # the first lot (expiring first) gave the 1,234.56; the two later lots expire the next Moscow day
    assert bonus.expiring == [
        (first, Decimal("3765.44")),
        (first + dt.timedelta(days=1), Decimal("10000.00")),
    ]
    assert bonus.expiring_later == 0
    assert bonus.spendable == bonus.balance == Decimal("13765.44")
    assert dict(bonus.expiring) == _by_day(org, patient, now)
    # in UTC the three lots expire on the same day
    utc = {b.kind: b for b in wallet_get(org=org, patient=patient, now=now, zone="UTC").balances}["bonus"]
    assert utc.expiring == [(first, Decimal("13765.44"))]


def test_the_first_days_are_listed_and_the_rest_is_one_total(org: Organization, branch: Branch) -> None:
    patient = make_patient(org, branch=branch)
    _top_ups(org, patient, [T0 + dt.timedelta(days=i) for i in range(EXPIRING_DAYS + 3)])
    now = T0 + dt.timedelta(days=EXPIRING_DAYS + 4)
    bonus = {b.kind: b for b in wallet_get(org=org, patient=patient, now=now).balances}["bonus"]
    days = sorted(_by_day(org, patient, now).items())
    assert len(days) == EXPIRING_DAYS + 3
    assert bonus.expiring == days[:EXPIRING_DAYS]
    assert (
        bonus.expiring_later == Decimal("15000.00") == sum((a for _, a in days[EXPIRING_DAYS:]), Decimal(0))
    )
    assert bonus.spendable == bonus.balance


def test_expired_lots_are_neither_spendable_nor_listed(org: Organization, branch: Branch) -> None:
    patient = make_patient(org, branch=branch)
    _top_ups(org, patient, [T0, T0 + dt.timedelta(days=30)])
    # the first lot expired (the job has not run yet): the balance still holds it, spendable does not
    now = T0 + dt.timedelta(days=181)
    bonus = {b.kind: b for b in wallet_get(org=org, patient=patient, now=now).balances}["bonus"]
    assert bonus.balance == Decimal("10000.00")
    assert bonus.spendable == Decimal("5000.00")
    assert bonus.expiring == [((T0 + dt.timedelta(days=210)).astimezone(MOSCOW).date(), Decimal("5000.00"))]
    assert dict(bonus.expiring) == _by_day(org, patient, now)


def test_the_wallet_reads_its_lots_in_one_query(org: Organization, branch: Branch) -> None:
    patient = make_patient(org, branch=branch)
    _top_ups(org, patient, [T0 + dt.timedelta(days=i) for i in range(3)])
    now = T0 + dt.timedelta(days=5)
    few = _count(org, patient, now)
    _top_ups(org, patient, [T0 + dt.timedelta(days=i) for i in range(3, 90)])
    assert _count(org, patient, now) == few == 1  # the accounts with their lots per day (was 2)


def _count(org: Organization, patient: Patient, now: dt.datetime) -> int:
    with CaptureQueriesContext(connection) as ctx:
        wallet_get(org=org, patient=patient, now=now, zone="Europe/Moscow")
    return len(ctx.captured_queries)


def test_the_api_lists_days_and_the_later_total(
    api: Callable[[str], Client], org: Organization, branch: Branch
) -> None:
    patient = make_patient(org, branch=branch)
    now = dt.datetime.now(dt.UTC)
    _top_ups(org, patient, [now - dt.timedelta(days=i) for i in range(EXPIRING_DAYS + 2)])
    client = api("frontdesk")
    got = client.get(f"/api/v1/patients/{patient.pk}/wallet")
    assert got.status_code == 200, got.content
    bonus = {b["kind"]: b for b in got.json()["balances"]}["bonus"]
    assert len(bonus["expiring"]) == EXPIRING_DAYS
    days = [dt.date.fromisoformat(e["on"]) for e in bonus["expiring"]]
    assert days == sorted(days) and len(set(days)) == EXPIRING_DAYS
    assert {e["amount"] for e in bonus["expiring"]} == {"5000.00"}
    assert bonus["expiring_later"] == "10000.00"
    assert bonus["spendable"] == bonus["balance"] == "60000.00"
