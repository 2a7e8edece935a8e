"""Expiring as of a moment (issue #16): ``expire_due(at=...)`` expires only the lots due by ``at``
(dated ``at``), is idempotent, refuses a naive moment; the periodic job and ``clinicflow ledger
expire --at`` pass it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from freezegun import freeze_time

from clinicflow.core.models import Branch, Organization
from clinicflow.ledger.models import Posting, Transaction, TxKind
from clinicflow.ledger.services.lots import expire_due
from clinicflow.ledger.services.points import points_earn
from clinicflow.ledger.services.verify import ledger_verify
from clinicflow.ledger.tests.factories import make_patient, make_program, patient_balance
from clinicflow.patients.models import Patient

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)


def _two_lots(org: Organization) -> Patient:
    """50 points earned at T0 and 100 at T0 + 20 days, each valid 30 days (due T0+30, T0+50)."""
    make_program(org, valid_days=30)
    patient = make_patient(org)
    with freeze_time(T0):
        points_earn(org=org, actor=None, patient=patient, paid="1000", currency="RUB")
    with freeze_time(T0 + dt.timedelta(days=20)):
        points_earn(org=org, actor=None, patient=patient, paid="2000", currency="RUB")
    return patient


def _expired(org: Organization, patient: Patient) -> Decimal:
    rows = Posting.objects.for_org(org).filter(
        transaction__kind=TxKind.EXPIRE, account__patient=patient, account__kind="points"
    )
    return -sum((p.amount for p in rows), Decimal(0))


def test_expiring_as_of_a_past_date_expires_only_what_was_due_by_then(
    org: Organization, branch: Branch
) -> None:
    patient = _two_lots(org)
    # long after both lots expired, expired as of a day between the two expiries
    at = T0 + dt.timedelta(days=35)
    with freeze_time(T0 + dt.timedelta(days=400)):
        assert expire_due(org=org, at=T0 + dt.timedelta(days=29)) == []
        done = expire_due(org=org, at=at)
        assert len(done) == 1 and done[0].created_at == at
        assert _expired(org, patient) == Decimal(50)
        assert patient_balance(org, patient, "points", "PTS") == Decimal(100)
        # idempotent: nothing more is due by then
        assert expire_due(org=org, at=at) == []
        assert expire_due(org=org, at=T0 + dt.timedelta(days=49, hours=23)) == []
        # the second lot is due by a later moment; then nothing is left
        later = expire_due(org=org, at=T0 + dt.timedelta(days=50, seconds=1))
        assert len(later) == 1 and _expired(org, patient) == Decimal(150)
        assert expire_due(org=org) == []
    assert patient_balance(org, patient, "points", "PTS") == 0
    assert ledger_verify(org=org).ok


def test_a_future_moment_is_dated_now(org: Organization, branch: Branch) -> None:
    patient = _two_lots(org)
    now = T0 + dt.timedelta(days=21)
    with freeze_time(now):
        done = expire_due(org=org, at=T0 + dt.timedelta(days=31))
    assert [t.created_at for t in done] == [now]
    assert _expired(org, patient) == Decimal(50)


def test_a_naive_moment_is_refused_and_nothing_is_posted(org: Organization, branch: Branch) -> None:
    _two_lots(org)
    with pytest.raises(ValueError, match="timezone-aware"):
        expire_due(org=org, at=dt.datetime(2027, 1, 1))
    assert not Transaction.objects.for_org(org).filter(kind=TxKind.EXPIRE).exists()


def test_the_command_expires_as_of_a_date(org: Organization, branch: Branch) -> None:
    patient = _two_lots(org)
    out = StringIO()
    with freeze_time(T0 + dt.timedelta(days=400)):
        # a date is its end in the current zone (UTC in the tests): the first lot is due by then
        call_command("ledger", "expire", "--org", org.slug, "--at", "2026-03-31", stdout=out)
        assert f"{org.slug}: 1 expiry transaction(s) as of 2026-03-31T23:59:59.999999+00:00" in out.getvalue()
        assert _expired(org, patient) == Decimal(50)
        call_command("ledger", "expire", "--org", org.slug, "--at", "2026-03-31T12:00:00+03:00", stdout=out)
        assert out.getvalue().rstrip().endswith("1 organisation(s), 0 expiry transaction(s)")
        call_command("ledger", "expire", "--org", org.slug, stdout=out)
        assert _expired(org, patient) == Decimal(150)
    with pytest.raises(CommandError, match="--at"):
        call_command("ledger", "expire", "--at", "March", stdout=out)
    with pytest.raises(CommandError, match="no organisation"):
        call_command("ledger", "expire", "--org", "nope", stdout=out)
