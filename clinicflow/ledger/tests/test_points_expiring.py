"""What the points API says expires when (issue #16): as the wallet's bonus, the usable lots' points
summed per expiry day in the branch's zone in one statement, the first days listed and the rest as
one total, expired lots neither usable nor listed; the same numbers as a lot-by-lot pass."""

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
from clinicflow.ledger.models import Account
from clinicflow.ledger.selectors.loyalty import Points, points_of
from clinicflow.ledger.selectors.wallet import EXPIRING_DAYS
from clinicflow.ledger.services.lots import open_lots_dated
from clinicflow.ledger.services.points import points_earn
from clinicflow.ledger.tests.factories import make_patient, make_program
from clinicflow.patients.models import Patient

pytestmark = pytest.mark.django_db
MOSCOW = ZoneInfo("Europe/Moscow")
# 20:30 UTC is 23:30 in Moscow; an hour later it is already the next day there (not in UTC)
T0 = dt.datetime(2026, 1, 10, 20, 30, tzinfo=dt.UTC)


def _earn(org: Organization, patient: Patient, moments: list[dt.datetime], paid: str = "1000") -> None:
    # 5 points per 100 paid, valid 30 days
    for at in moments:
        with freeze_time(at):
            points_earn(org=org, actor=None, patient=patient, paid=paid, currency="RUB")


def _by_day(org: Organization, patient: Patient, now: dt.datetime) -> dict[dt.date, Decimal]:
    """The lot-by-lot answer: what each usable lot has left, summed per Moscow day of its expiry."""
    account = Account.objects.for_org(org).get(patient=patient, kind="points")
    out: dict[dt.date, Decimal] = {}
    for _, left, at in open_lots_dated(org=org, account=account, now=now):
        assert at is not None
        day = at.astimezone(MOSCOW).date()
        out[day] = out.get(day, Decimal(0)) + left
    return out


def test_points_are_summed_per_day_of_the_branchs_zone(org: Organization, branch: Branch) -> None:
    make_program(org, valid_days=30)
    patient = make_patient(org, branch=branch)
    assert patient.branch.timezone == "Europe/Moscow"
    _earn(org, patient, [T0, T0 + dt.timedelta(hours=1), T0 + dt.timedelta(hours=2)])
    now = T0 + dt.timedelta(days=1)
    got = points_of(org=org, patient=patient, now=now)
    first = (T0 + dt.timedelta(days=30)).astimezone(MOSCOW).date()
    # the first lot expires at 23:30 Moscow time, the two later ones the next Moscow day
    assert got.expiring == [(first, Decimal(50)), (first + dt.timedelta(days=1), Decimal(100))]
    assert got.expiring_later == 0
    assert got.usable == got.held == Decimal(150)
    assert dict(got.expiring) == _by_day(org, patient, now)
    # in UTC the three lots expire on the same day
    utc = points_of(org=org, patient=patient, now=now, zone="UTC")
    assert utc.expiring == [(first, Decimal(150))]


def test_the_first_days_are_listed_and_the_rest_is_one_total(org: Organization, branch: Branch) -> None:
    make_program(org, valid_days=30)
    patient = make_patient(org, branch=branch)
    _earn(org, patient, [T0 + dt.timedelta(days=i) for i in range(EXPIRING_DAYS + 3)])
    now = T0 + dt.timedelta(days=EXPIRING_DAYS + 4)
    got = points_of(org=org, patient=patient, now=now)
    days = sorted(_by_day(org, patient, now).items())
    assert len(days) == EXPIRING_DAYS + 3
    assert got.expiring == days[:EXPIRING_DAYS]
    assert got.expiring_later == Decimal(150) == sum((a for _, a in days[EXPIRING_DAYS:]), Decimal(0))
    assert got.usable == got.held == Decimal(50 * (EXPIRING_DAYS + 3))


def test_expired_and_spent_points_are_neither_usable_nor_listed(org: Organization, branch: Branch) -> None:
    make_program(org, valid_days=30)
    patient = make_patient(org, branch=branch)
    _earn(org, patient, [T0, T0 + dt.timedelta(days=10)])
    # the first lot expired (the job has not run yet): held still counts it, usable does not
    now = T0 + dt.timedelta(days=31)
    got = points_of(org=org, patient=patient, now=now)
    assert (got.held, got.usable) == (Decimal(100), Decimal(50))
    assert got.expiring == [((T0 + dt.timedelta(days=40)).astimezone(MOSCOW).date(), Decimal(50))]
    assert dict(got.expiring) == _by_day(org, patient, now)


def test_points_without_expiry_are_usable_but_not_listed(org: Organization, branch: Branch) -> None:
    make_program(org, valid_days=None)
    patient = make_patient(org, branch=branch)
    _earn(org, patient, [T0])
    got = points_of(org=org, patient=patient, now=T0 + dt.timedelta(days=400))
    assert (got.held, got.usable, got.expiring, got.expiring_later) == (Decimal(50), Decimal(50), [], 0)
    # no account yet: nothing
    assert points_of(org=org, patient=make_patient(org, branch=branch)) == Points()


def test_the_points_are_read_in_one_query_however_many_lots(org: Organization, branch: Branch) -> None:
    make_program(org, valid_days=365)
    patient = make_patient(org, branch=branch)
    _earn(org, patient, [T0 + dt.timedelta(days=i) for i in range(3)])
    now = T0 + dt.timedelta(days=100)
    few = _count(org, patient, now)
    _earn(org, patient, [T0 + dt.timedelta(days=i) for i in range(3, 90)])
    assert _count(org, patient, now) == few == 2  # the account, the lots per day


def _count(org: Organization, patient: Patient, now: dt.datetime) -> int:
    with CaptureQueriesContext(connection) as ctx:
        points_of(org=org, patient=patient, now=now, zone="Europe/Moscow")
    return len(ctx.captured_queries)


def test_the_api_lists_days_and_the_later_total(
    api: Callable[[str], Client], org: Organization, branch: Branch
) -> None:
    make_program(org, valid_days=60)
    patient = make_patient(org, branch=branch)
    now = dt.datetime.now(dt.UTC)
    _earn(org, patient, [now - dt.timedelta(days=i) for i in range(EXPIRING_DAYS + 2)])
    got = api("frontdesk").get(f"/api/v1/patients/{patient.pk}/points")
    assert got.status_code == 200, got.content
    body = got.json()
    assert (body["held"], body["usable"], body["expiring_later"]) == (600, 600, 100)
    assert len(body["expiring"]) == EXPIRING_DAYS
    days = [dt.date.fromisoformat(e["on"]) for e in body["expiring"]]
    assert days == sorted(days) and len(set(days)) == EXPIRING_DAYS
    assert {e["amount"] for e in body["expiring"]} == {50}
    # the soonest day is the oldest lot's expiry, in the branch's zone
    oldest = now - dt.timedelta(days=EXPIRING_DAYS + 1) + dt.timedelta(days=60)
    assert days[0] == oldest.astimezone(MOSCOW).date()
