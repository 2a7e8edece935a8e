"""The owner home's figures for a period, a branch or the whole chain (``owner_home``): each a
``Figure`` with what it counts (the tooltip), the report it links to, and — where it has one — the same
period last year. Money is in the report's currency; other currencies are listed, never added."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Sum
from django.utils.translation import gettext as _

from clinicflow.acquisition.defaults import tracking_settings
from clinicflow.analytics.owner.alert_models import AlertState
from clinicflow.analytics.owner.alerts_selectors import alert_list
from clinicflow.analytics.owner.alerts_services import describe
from clinicflow.analytics.owner.channel_reads import channel_totals
from clinicflow.analytics.owner.funnel import Step, funnel
from clinicflow.analytics.owner.selectors import day_totals, facts_built, revenue_split
from clinicflow.analytics.reports.base import ratio, report_currency
from clinicflow.analytics.reports.feedback.stats import nps_interval
from clinicflow.core.models import Branch, Organization
from clinicflow.ledger.models import Account, AccountKind
from clinicflow.ledger.models.accounts import AMOUNT_PLACES


@dataclass
class Figure:
    key: str
    label: str
    kind: str  # money | percent | int | float
    value: Any
    help: str
    report: str = ""  # the report it links to
    last_year: Any = None
    no_data: str = ""  # what would fill it, when it has no data yet


@dataclass
class OwnerView:
    date_from: dt.date
    date_to: dt.date
    branch: Branch | None
    currency: str
    figures: list[Figure]
    steps: list[Step]
    notes: list[str] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)  # the newest new alerts, described

    def figure(self, key: str) -> Figure:
        return next(f for f in self.figures if f.key == key)


def _last_year(d: dt.date) -> dt.date:
    try:
        return d.replace(year=d.year - 1)
    except ValueError:  # 29 February
        return d.replace(year=d.year - 1, day=28)


def _nps(facts: dict[str, int]) -> float | None:
    """NPS of the answers counted in the day facts (the feedback reports' formula, ``nps_interval``)."""
    return nps_interval(facts["promoters"], facts["detractors"], facts["answers"])[0]


def _liability(org: Organization, currency: str) -> Decimal | None:
    """What the clinic owes its members in ``currency`` now (the ledger's ``liability``: the sum of
    their money and bonus postings) read from the accounts' cached balances, which the ledger keeps
    equal to that sum in the postings' own transaction — one row per member account instead of every
    posting of the unit (the clinic's cash and revenue postings: one per payment). None while the
    ledger has no patient balance in it."""
    members = Account.objects.for_org(org).filter(
        unit=currency, kind__in=[AccountKind.MONEY, AccountKind.BONUS], patient__isnull=False
    )
    row = members.aggregate(n=Count("id"), s=Sum("balance"))
    if not row["n"]:
        return None
    return Decimal(row["s"] or 0).quantize(Decimal(1).scaleb(-AMOUNT_PLACES))  # SQLite sums floats


HOME_ALERTS = 5


def _alerts(org: Organization, branch: Branch | None) -> list[dict[str, Any]]:
    """The newest alerts not yet seen (of the branch, or all), each in words (``alerts_services``)."""
    return [
        {"alert": a, **describe(a)}
        for a in alert_list(org=org, states=[AlertState.NEW], branch=branch, limit=HOME_ALERTS)
    ]


def owner_view(
    *, org: Organization, date_from: dt.date, date_to: dt.date, branch: Branch | None
) -> OwnerView:
    currency = report_currency(org, branch)
    notes: list[str] = []
    if not facts_built(org=org):
        notes.append(
            _("Daily facts are not built yet: run the facts rebuild; figures read from them show zero.")
        )
    ly_from, ly_to = _last_year(date_from), _last_year(date_to)
    rev = revenue_split(org=org, d0=date_from, d1=date_to, branch=branch)
    rev_ly = revenue_split(org=org, d0=ly_from, d1=ly_to, branch=branch)
    for cur, split in rev.items():
        if cur != currency:
            notes.append(
                _("Revenue in %(cur)s not included: %(amount)s.") % {"cur": cur, "amount": split.total}
            )
    mine = rev.get(currency)
    facts = day_totals(org=org, d0=date_from, d1=date_to, branch=branch)
    facts_ly = day_totals(org=org, d0=ly_from, d1=ly_to, branch=branch)
    # the channel report's totals (default attribution model) on the branches' local days, from facts
    channels = channel_totals(org=org, d0=date_from, d1=date_to, branch=branch, currency=currency)
    margin = tracking_settings(org=org).gross_margin
    liability_now = _liability(org, currency)
    figures = [
        Figure(
            "revenue",
            _("Revenue"),
            "money",
            mine.total if mine else Decimal(0),
            _("Payments less refunds received in the period (by the day paid)."),
            "revenue",
            last_year=rev_ly[currency].total if currency in rev_ly else Decimal(0),
        ),
        Figure(
            "first_share",
            _("First-visit revenue share"),
            "percent",
            mine.first_share if mine else None,
            _(
                "Revenue of the first visit's day (consultation, same-day procedures) "
                "/ revenue of all visits; "
                "the rest is repeat revenue."
            ),
            "revenue",
            last_year=rev_ly[currency].first_share if currency in rev_ly else None,
        ),
        Figure(
            "load",
            _("Load"),
            "percent",
            ratio(facts["booked_seconds"], facts["available_seconds"]),
            _("Booked minutes / available minutes of the doctors' working hours."),
            "capacity_load",
            last_year=ratio(facts_ly["booked_seconds"], facts_ly["available_seconds"]),
        ),
        Figure(
            "new_patients",
            _("New patients"),
            "int",
            facts["first_arrived"],
            _("First patients: patients whose first visit that happened is in the period."),
            "channels",
            last_year=facts_ly["first_arrived"],
        ),
        Figure(
            "cost_per_first_patient",
            _("Cost per first patient"),
            "money",
            channels.cost_per_first_patient,
            _("Ad spend / first patients credited to channels (the channel report)."),
            "channels",
        ),
        Figure(
            "romi",
            _("ROMI on lifetime margin"),
            "percent",
            channels.romi_lifetime(margin),  # the channel report's definition (``lifetime``)
            _(
                "(Predicted lifetime value of the period's first patients x gross margin - spend) / spend, "
                "as in the channel report."
            ),
            "channels",
            no_data=""
            if channels.until is not None
            else _("No data yet: filled when the lifetime-value engine stores its predictions."),
        ),
        Figure(
            "romi_to_date",
            _("ROMI to date"),
            "percent",
            channels.romi_to_date(margin),
            _("(Revenue to date of the period's first patients x gross margin - spend) / spend."),
            "channels",
        ),
        Figure(
            "no_show_rate",
            _("No-show rate"),
            "percent",
            ratio(facts["no_shows"], facts["appointments"]),
            _("No-shows / appointments starting in the period (any status)."),
            "capacity_attendance",
            last_year=ratio(facts_ly["no_shows"], facts_ly["appointments"]),
        ),
        Figure(
            "nps",
            _("NPS"),
            "float",
            _nps(facts),
            _("(Promoters 9-10 - detractors 0-6) / all answers x 100."),
            "nps",
            last_year=_nps(facts_ly),
            no_data="" if facts["answers"] else _("No data yet: filled when feedback surveys are answered."),
        ),
        Figure(
            "membership_liability",
            _("Membership liability"),
            "money",
            liability_now,
            _("Balances and bonuses the clinic still owes its members, now (the ledger)."),
            "",
            no_data=""
            if liability_now is not None
            else _("No data yet: filled when memberships are sold in the ledger."),
        ),
    ]
    steps = funnel(org=org, date_from=date_from, date_to=date_to, branch=branch)
    return OwnerView(date_from, date_to, branch, currency, figures, steps, notes, _alerts(org, branch))
