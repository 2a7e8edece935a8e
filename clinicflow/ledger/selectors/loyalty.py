"""Reads of loyalty for one patient: points with what expires per day, the referral code and link, the
friends referred. (The clinic-wide figures are the loyalty reports, ``analytics/reports/loyalty.py``.)"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from clinicflow.booking.services.notify import public_base_url
from clinicflow.core.models import Organization
from clinicflow.ledger.models import POINTS, Account, AccountKind, Referral, ReferralCode
from clinicflow.ledger.selectors.wallet import EXPIRING_DAYS, lot_days, wallet_zone
from clinicflow.ledger.services.journal import round_unit
from clinicflow.patients.models import Patient


@dataclass
class Points:
    held: Decimal = Decimal(0)
    usable: Decimal = Decimal(0)
    # (day in the branch's zone, points expiring that day): the first ``EXPIRING_DAYS`` such days
    expiring: list[tuple[dt.date, Decimal]] = field(default_factory=list)
    # what expires after those days
    expiring_later: Decimal = Decimal(0)


def points_of(
    *, org: Organization, patient: Patient, now: dt.datetime | None = None, zone: str | None = None
) -> Points:
    """The patient's points: held, usable now (lots expired by ``now`` excluded), and what expires
    per day in ``zone`` (by default the patient's branch's) — the first ``EXPIRING_DAYS`` days with
    something expiring, then one total — summed per day in one statement, as the wallet's bonus."""
    now = now or timezone.now()
    account = (
        Account.objects.for_org(org).filter(patient=patient, kind=AccountKind.POINTS, unit=POINTS).first()
    )
    if account is None:
        return Points()
    if account.balance <= 0:
        return Points(held=account.balance)
    lots = lot_days(org, [account], now, zone or wallet_zone(patient)).get(account.pk, [])
    dated = sorted((day, amount) for day, amount in lots if day is not None)
    return Points(
        held=account.balance,
        usable=round_unit(sum((a for _, a in lots), Decimal(0)), POINTS),
        expiring=dated[:EXPIRING_DAYS],
        expiring_later=round_unit(sum((a for _, a in dated[EXPIRING_DAYS:]), Decimal(0)), POINTS),
    )


def referral_url(patient: Patient, code: str) -> str:
    """The patient's referral link: the online booking of their branch with the code."""
    return f"{public_base_url()}/book/{patient.branch_id}/?ref={code}"


@dataclass
class Referrals:
    code: str
    url: str
    referred: list[Referral]


def referrals_of(*, org: Organization, patient: Patient) -> Referrals | None:
    """The patient's code, link and the friends they referred (None before a code was given)."""
    found = ReferralCode.objects.for_org(org).filter(patient=patient).first()
    if found is None:
        return None
    rows = list(
        Referral.objects.for_org(org)
        .filter(referrer=patient)
        .select_related("referred")
        .order_by("-created_at")
    )
    return Referrals(code=found.code, url=referral_url(patient, found.code), referred=rows)
