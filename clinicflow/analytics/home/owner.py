"""The owner's and the clinic manager's home until the owner's own home (issue #17) lands: the
essentials (patients, branches with their local time), the open alerts (the newest ``HOME_ALERTS``,
one query), a compact front desk's today and the marketer's month."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from clinicflow.accounts.models import User
from clinicflow.analytics.home.frontdesk import FrontDeskHome, frontdesk_home
from clinicflow.analytics.home.marketer import MarketerHome, marketer_home
from clinicflow.analytics.owner.alerts_selectors import ALERTS_PERMISSION, OPEN, alert_list
from clinicflow.analytics.owner.alerts_services import describe
from clinicflow.core.models import Organization
from clinicflow.core.selectors import branch_list
from clinicflow.patients.selectors import patient_counts

NEW_PATIENT_DAYS = 30
HOME_ALERTS = 5


@dataclass(frozen=True)
class BranchClock:
    id: uuid.UUID
    name: str
    city: str
    timezone: str
    currency: str
    local_time: str


@dataclass
class OwnerHome:
    patients: int
    new_patients: int
    branches: list[BranchClock]
    frontdesk: FrontDeskHome
    marketer: MarketerHome | None  # None for a role that may not see the marketing reports
    # the newest open alerts, each with its words (``alerts_services.describe``); None for a role that
    # may not see them
    alerts: list[dict[str, Any]] | None = None

    def as_json(self) -> dict[str, Any]:
        fd = self.frontdesk
        return {
            "patients": self.patients,
            "new_patients_30_days": self.new_patients,
            "branches": [
                {
                    "id": str(b.id),
                    "name": b.name,
                    "timezone": b.timezone,
                    "currency": b.currency,
                    "local_time": b.local_time,
                }
                for b in self.branches
            ],
            "today": [
                {
                    "branch": {"id": str(d.id), "name": d.name},
                    "date": d.today.isoformat(),
                    "appointments": len(d.rows),
                    "came": d.came,
                    "expected": d.expected,
                    "no_show": d.no_show,
                }
                for d in fd.branches
            ],
            "callbacks_due": len(fd.callbacks),
            "callbacks_overdue": fd.overdue,
            "unconfirmed": len(fd.unconfirmed),
            "waitlist_offers": len(fd.offers),
            "month": self.marketer.as_json() if self.marketer else None,
            "alerts": None
            if self.alerts is None
            else [
                {
                    "id": str(a["alert"].pk),
                    "metric": a["alert"].metric,
                    "state": a["alert"].state,
                    "branch": str(a["alert"].branch_id) if a["alert"].branch_id else None,
                    "created_at": a["alert"].created_at.isoformat(),
                    **{k: a[k] for k in ("who", "value", "period", "reference")},
                    "metric_label": a["metric"],
                }
                for a in self.alerts
            ],
        }


def owner_home(*, org: Organization, user: User, now: dt.datetime) -> OwnerHome:
    counts = patient_counts(org=org, since=now - dt.timedelta(days=NEW_PATIENT_DAYS))
    clocks = [
        BranchClock(
            id=b.pk,
            name=b.display_name,
            city=b.city,
            timezone=b.timezone,
            currency=b.currency,
            local_time=timezone.localtime(now, b.tz).strftime("%H:%M"),
        )
        for b in branch_list(org=org)
    ]
    return OwnerHome(
        patients=counts.total,
        new_patients=counts.since,
        branches=clocks,
        frontdesk=frontdesk_home(org=org, user=user, now=now),
        marketer=marketer_home(org=org, user=user, now=now)
        if user.has_perm_cf("reports.marketing")
        else None,
        alerts=_alerts(org) if user.has_perm_cf(ALERTS_PERMISSION) else None,
    )


def _alerts(org: Organization) -> list[dict[str, Any]]:
    """The newest open (new or seen) alerts of every branch, each in words; one query."""
    return [{"alert": a, **describe(a)} for a in alert_list(org=org, states=OPEN, limit=HOME_ALERTS)]
