"""Campaign results: per variant and the holdout — recipients, sent, clicked, booked, arrived, revenue —
and the uplift of each variant over the holdout.

A recipient "booked" when the patient has an appointment (not cancelled) created within ``WINDOW`` after
the campaign was queued; "arrived" when one of those was arrived or done; revenue is the price of
those arrived or done. The holdout is measured the same way, so the uplift is what the campaign caused.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from clinicflow.booking.models import Appointment, AppointmentStatus
from clinicflow.core.models import Organization
from clinicflow.marketing.models import HOLDOUT, Campaign, Recipient, RecipientStatus
from clinicflow.marketing.stats import Uplift, uplift

WINDOW = dt.timedelta(days=14)
ARRIVED = (AppointmentStatus.ARRIVED, AppointmentStatus.DONE)


@dataclass
class Group:
    key: str
    recipients: int = 0
    sent: int = 0
    clicked: int = 0
    booked: int = 0
    arrived: int = 0
    revenue: Decimal = Decimal(0)
    uplift: Uplift | None = None
    patients: set[uuid.UUID] = field(default_factory=set)


def campaign_results(*, org: Organization, campaign: Campaign) -> list[Group]:
    """The variants (A, B, ...) then the holdout; each variant with its uplift over the holdout."""
    groups: dict[str, Group] = {}
    by_patient: dict[uuid.UUID, Group] = {}
    rows = (
        Recipient.objects.for_org(org)
        .filter(campaign=campaign)
        .values_list("patient_id", "variant", "status", "clicked_at")
    )
    for patient_id, variant, status, clicked in rows.iterator(chunk_size=5000):
        if status == RecipientStatus.SKIPPED:
            continue  # never messaged for a reason of its own: not comparable with the holdout
        g = groups.setdefault(variant, Group(variant))
        g.recipients += 1
        g.sent += status == RecipientStatus.QUEUED
        g.clicked += clicked is not None
        by_patient[patient_id] = g
    if campaign.queued_at is not None and by_patient:
        _bookings(org, campaign.queued_at, by_patient)
    holdout = groups.get(HOLDOUT)
    out = [groups[k] for k in sorted(groups) if k != HOLDOUT]
    for g in out:
        if holdout is not None:
            g.uplift = uplift(g.booked, g.recipients, holdout.booked, holdout.recipients)
    return out + ([holdout] if holdout is not None else [])


def _bookings(org: Organization, since: dt.datetime, by_patient: dict[uuid.UUID, Group]) -> None:
    booked: dict[uuid.UUID, bool] = defaultdict(bool)
    arrived: dict[uuid.UUID, bool] = defaultdict(bool)
    revenue: dict[uuid.UUID, Decimal] = defaultdict(Decimal)
    ids = list(by_patient)
    for i in range(0, len(ids), 5000):
        appts = (
            Appointment.objects.for_org(org)
            .filter(patient_id__in=ids[i : i + 5000], created_at__gte=since, created_at__lt=since + WINDOW)
            .exclude(status=AppointmentStatus.CANCELLED)
            .values_list("patient_id", "status", "price")
        )
        for pid, status, price in appts:
            booked[pid] = True
            if status in ARRIVED:
                arrived[pid] = True
                revenue[pid] += price
    for pid, g in by_patient.items():
        g.booked += booked[pid]
        g.arrived += arrived[pid]
        g.revenue += revenue[pid]
