"""The marketer's home: this month's spend, unique calls, first visits and cost per first patient per
channel — the channel report itself ("channels", ``reports/acquisition/channels.py``) run for the month,
so every figure is the report's (one definition per business rule), with a link to the full report."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext as _

from clinicflow.accounts.models import User
from clinicflow.analytics.reports.base import ReportContext, get_report, json_value, run_report
from clinicflow.core.models import Organization

REPORT = "channels"
MODEL = "last_non_direct"  # the report's default attribution model
KEYS = ("name", "spend", "calls", "unique_calls", "arrived_first", "cost_per_first_patient")


@dataclass(frozen=True)
class ChannelRow:
    name: str
    spend: Decimal
    calls: int
    unique_calls: int
    first_visits: float  # credited by the attribution model: a patient may be shared between channels
    cost_per_first_patient: Decimal | None

    @property
    def places(self) -> int:
        """Decimal places to show first visits with: none when they are whole (one model credits shares)."""
        return 0 if self.first_visits == int(self.first_visits) else 2

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "spend": json_value(self.spend),
            "calls": self.calls,
            "unique_calls": self.unique_calls,
            "first_visits": self.first_visits,
            "cost_per_first_patient": json_value(self.cost_per_first_patient),
        }


def _row(r: dict[str, Any]) -> ChannelRow:
    return ChannelRow(
        name=str(r.get("name", "")),
        spend=r.get("spend") or Decimal(0),
        calls=int(r.get("calls") or 0),
        unique_calls=int(r.get("unique_calls") or 0),
        first_visits=float(r.get("arrived_first") or 0),
        cost_per_first_patient=r.get("cost_per_first_patient"),
    )


@dataclass
class MarketerHome:
    date_from: dt.date
    date_to: dt.date
    currency: str
    rows: list[ChannelRow]
    total: ChannelRow | None
    notes: list[str]

    @property
    def report_url(self) -> str:
        query = {"from": self.date_from.isoformat(), "to": self.date_to.isoformat(), "model": MODEL}
        return reverse("analytics:report", args=[REPORT]) + "?" + urlencode(query)

    def chart(self) -> dict[str, Any]:
        """A bar chart of the table's counts (unique calls and first visits per channel)."""
        return {
            "type": "bar",
            "stacked": False,
            "labels": [r.name for r in self.rows],
            "series": [
                {"label": _("Unique calls"), "data": [r.unique_calls for r in self.rows]},
                {"label": _("First visits"), "data": [r.first_visits for r in self.rows]},
            ],
        }

    def as_json(self) -> dict[str, Any]:
        return {
            "from": self.date_from.isoformat(),
            "to": self.date_to.isoformat(),
            "currency": self.currency,
            "channels": [r.as_json() for r in self.rows],
            "total": self.total.as_json() if self.total else None,
            "notes": self.notes,
            "report": self.report_url,
        }


def month_of(today: dt.date) -> tuple[dt.date, dt.date]:
    """This month so far: its first day to today (the chain report's days are UTC days)."""
    return today.replace(day=1), today


def marketer_home(*, org: Organization, user: User, now: dt.datetime) -> MarketerHome:
    date_from, date_to = month_of(now.astimezone(dt.UTC).date())
    spec = get_report(REPORT)
    ctx = ReportContext(
        org=org, user=user, date_from=date_from, date_to=date_to, branch=None, params={"model": MODEL}
    )
    result = run_report(spec, ctx)
    return MarketerHome(
        date_from=date_from,
        date_to=date_to,
        currency=result.currency,
        rows=[_row(r) for r in result.rows],
        total=_row(result.totals) if result.totals else None,
        notes=[str(n) for n in result.notes[1:]],  # the first note is ROMI's, not shown here
    )
