"""Reads of loyalty for one patient: points with their expiry, the referral code and link, the
friends referred. (The clinic-wide figures are the loyalty reports, ``analytics/reports/loyalty.py``.)"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from clinicflow.booking.services.notify import public_base_url
from clinicflow.core.models import Organization
from clinicflow.ledger.models import POINTS, Account, AccountKind, Posting, Referral, ReferralCode
from clinicflow.ledger.services.lots import open_lots
from clinicflow.patients.models import Patient


@dataclass
class Points:
    held: Decimal = Decimal(0)
    usable: Decimal = Decimal(0)
    expiring: list[tuple[dt.datetime, Decimal]] = field(default_factory=list)


def points_of(*, org: Organization, patient: Patient, now: dt.datetime | None = None) -> Points:
    """The patient's points: held, usable now, and the lots that expire (soonest first)."""
    now = now or timezone.now()
    account = (
        Account.objects.for_org(org).filter(patient=patient, kind=AccountKind.POINTS, unit=POINTS).first()
    )
    if account is None:
        return Points()
    lots = open_lots(org=org, account=account, now=now)
    rows = Posting.objects.for_org(org).filter(pk__in=[lot for lot, _ in lots], expires_at__isnull=False)
    when = {pk: at for pk, at in rows.values_list("pk", "expires_at") if at is not None}
    return Points(
        held=account.balance,
        usable=sum((left for _, left in lots), Decimal(0)),
        expiring=[(when[lot], left) for lot, left in lots if lot in when],
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
