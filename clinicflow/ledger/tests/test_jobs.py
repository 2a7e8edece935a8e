"""The ledger's periodic jobs: idempotency keys purged after 24 h (not before); lots expired."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from freezegun import freeze_time

from clinicflow.core.models import Branch, Organization
from clinicflow.ledger import jobs
from clinicflow.ledger.apps import LedgerConfig
from clinicflow.ledger.models import IdempotencyKey
from clinicflow.ledger.services.idempotency import idempotent
from clinicflow.ledger.services.points import points_earn
from clinicflow.ledger.tests.factories import make_patient, make_program, patient_balance

pytestmark = pytest.mark.django_db


def test_the_jobs_are_declared_on_the_app() -> None:
    assert ("clinicflow.ledger.jobs.idempotency_purge", 3600) in LedgerConfig.periodic
    assert ("clinicflow.ledger.jobs.expire_lots", 3600) in LedgerConfig.periodic


def test_keys_are_kept_24_hours_then_purged(org: Organization) -> None:
    start = timezone.now()
    with freeze_time(start):
        assert idempotent(org=org, key="a", request_fingerprint="f", run=lambda: (201, {"x": 1})) == (
            201,
            {"x": 1},
        )
    with freeze_time(start + dt.timedelta(hours=23, minutes=59)):
        assert jobs.idempotency_purge() == "0 idempotency keys purged"
        assert idempotent(org=org, key="a", request_fingerprint="f", run=lambda: (201, {"x": 2})) == (
            201,
            {"x": 1},
        )
    with freeze_time(start + dt.timedelta(hours=24, minutes=1)):
        assert jobs.idempotency_purge() == "1 idempotency keys purged"
    assert IdempotencyKey.objects.for_org(org).count() == 0


def test_expired_points_are_moved_out_by_the_job(org: Organization, branch: Branch) -> None:
    make_program(org, valid_days=30)
    patient = make_patient(org)
    start = timezone.now()
    with freeze_time(start):
        points_earn(org=org, actor=None, patient=patient, paid="1000", currency="RUB")
    assert patient_balance(org, patient, "points", "PTS") == Decimal(50)
    with freeze_time(start + dt.timedelta(days=29)):
        assert jobs.expire_lots() == "0 expiry transactions"
    with freeze_time(start + dt.timedelta(days=31)):
        assert jobs.expire_lots() == "1 expiry transactions"
        assert jobs.expire_lots() == "0 expiry transactions"
    assert patient_balance(org, patient, "points", "PTS") == Decimal(0)
