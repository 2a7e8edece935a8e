"""The channel and campaign reports: spend, traffic, calls and first patients per channel / campaign,
with cost per result and ROMI.

ROMI = (revenue to date of the attracted (first) patients × gross margin − spend) / spend. Money is
kept per currency (``MoneyTotals``) until the rows are laid out in the report's currency (the
branch's, or the organisation's for the whole chain); amounts in any other currency are never added
to them: a note lists them instead.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any, TypeVar

from django.db.models import Count, Q, QuerySet, Sum
from django.utils.translation import gettext_lazy as _

from clinicflow.acquisition.attribution import DIRECT, MODELS, Tally
from clinicflow.acquisition.defaults import tracking_settings
from clinicflow.acquisition.models import (
    AdSpend,
    Call,
    CallStatus,
    Campaign,
    Channel,
    ChannelKind,
    Lead,
    WebSession,
)
from clinicflow.analytics.reports.acquisition.first_patients import first_patient_tallies
from clinicflow.analytics.reports.base import (
    ChartSpec,
    Column,
    Param,
    ReportContext,
    ReportResult,
    ReportSpec,
    money_ratio,
    period_bounds,
    ratio,
    register,
    report_currency,
)
from clinicflow.core.models import Branch, Organization
from clinicflow.core.money import Money, MoneyTotals, money_sum

CENT = Decimal("0.01")
Key = uuid.UUID | None
MODEL_PARAM = Param(
    name="model",
    label=_("Attribution model"),
    choices=(
        ("last_non_direct", _("Last non-direct touch")),
        ("first_touch", _("First touch")),
        ("linear", _("Linear")),
    ),
    default="last_non_direct",
)


@dataclass
class Traffic:
    """Spend (per currency), impressions, clicks, sessions, leads and calls of one channel / campaign."""

    spend: MoneyTotals = field(default_factory=MoneyTotals)
    impressions: int = 0
    clicks: int = 0
    sessions: int = 0
    leads: int = 0
    calls: int = 0
    unique_calls: int = 0
    missed: int = 0


def traffic(
    *, org: Organization, date_from: dt.date, date_to: dt.date, branch: Branch | None, group: str
) -> dict[Key, Traffic]:
    key = "channel_id" if group == "channel" else "campaign_id"
    start, end = period_bounds(date_from, date_to, branch)
    out: dict[Key, Traffic] = defaultdict(Traffic)
    spend = AdSpend.objects.for_org(org).filter(date__gte=date_from, date__lte=date_to)
    spend = spend.exclude(channel__kind=ChannelKind.FREE)  # a free channel has no spend
    if branch is not None:
        spend = spend.filter(Q(branch=branch) | Q(branch__isnull=True, campaign__branch=branch))
    for r in spend.values(key, "currency").annotate(s=Sum("spend"), i=Sum("impressions"), c=Sum("clicks")):
        row = out[r[key]]
        row.spend.add(Money.of(r["s"] or Decimal(0), r["currency"]))  # exact: SQLite sums REAL
        row.impressions += r["i"] or 0
        row.clicks += r["c"] or 0

    def scoped(qs: QuerySet[Any, Any], at_field: str) -> QuerySet[Any, Any]:
        qs = qs.filter(**{f"{at_field}__gte": start, f"{at_field}__lt": end})
        return qs.filter(branch=branch) if branch is not None else qs

    for r in scoped(WebSession.objects.for_org(org), "started_at").values(key).annotate(n=Count("id")):
        out[r[key]].sessions += r["n"]
    for r in scoped(Lead.objects.for_org(org), "created_at").values(key).annotate(n=Count("id")):
        out[r[key]].leads += r["n"]
    calls = scoped(Call.objects.for_org(org), "started_at").values(key)
    for r in calls.annotate(
        n=Count("id"),
        u=Count("id", filter=Q(is_unique=True)),
        m=Count("id", filter=Q(status=CallStatus.MISSED)),
    ):
        row = out[r[key]]
        row.calls += r["n"]
        row.unique_calls += r["u"]
        row.missed += r["m"]
    return dict(out)


def _in(totals: MoneyTotals, currency: str) -> Money:
    """The total in one currency (zero when there is none): never a sum over currencies."""
    return totals[currency] if currency in totals else Money.zero(currency)


def _cents(money: Money) -> Money:
    return Money(money.amount.quantize(CENT), money.currency)


@dataclass(frozen=True)
class ChannelLine:
    """One row of the report, its money in the report's currency."""

    key: Key
    code: str
    name: str
    traffic: Traffic
    first: Tally
    currency: str

    @property
    def spend(self) -> Money:
        return _in(self.traffic.spend, self.currency)

    @property
    def revenue_period(self) -> Money:
        """In cents, as the report shows it."""
        return _cents(_in(self.first.revenue_period, self.currency))

    @property
    def revenue_to_date(self) -> Money:
        return _cents(_in(self.first.revenue_to_date, self.currency))

    def as_row(self, margin: Decimal) -> dict[str, Any]:
        t, spend, arrived = self.traffic, self.spend.amount, self.first.arrived
        revenue_to_date = _in(self.first.revenue_to_date, self.currency).amount
        return {
            "key": str(self.key) if self.key else "",
            "code": self.code,
            "name": self.name,
            "spend": spend,
            "impressions": t.impressions,
            "clicks": t.clicks,
            "sessions": t.sessions,
            "leads": t.leads,
            "calls": t.calls,
            "unique_calls": t.unique_calls,
            "missed_share": ratio(t.missed, t.calls),
            "booked_first": round(float(self.first.booked), 2),
            "arrived_first": round(float(arrived), 2),
            "cost_per_call": money_ratio(spend, t.calls),
            "cost_per_unique_call": money_ratio(spend, t.unique_calls),
            "cost_per_first_patient": (spend * arrived.denominator / arrived.numerator).quantize(CENT)
            if arrived
            else None,
            "revenue_period": self.revenue_period.amount,
            "revenue_to_date": self.revenue_to_date.amount,
            "romi": float((revenue_to_date * margin - spend) / spend) if spend else None,
        }


@dataclass(frozen=True)
class ChannelReport:
    currency: str
    margin: Decimal
    lines: list[ChannelLine]

    def rows(self) -> list[dict[str, Any]]:
        return [line.as_row(self.margin) for line in self.lines]

    def elsewhere(self) -> dict[str, MoneyTotals]:
        """Spend and revenue to date in currencies other than the report's (never added to it)."""
        out = {"spend": MoneyTotals(), "revenue": MoneyTotals()}
        for line in self.lines:
            for name, totals in (("spend", line.traffic.spend), ("revenue", line.first.revenue_to_date)):
                for cur, money in totals.items():
                    if cur != self.currency:
                        out[name].add(money)
        return out

    def notes(self) -> list[str]:
        notes = [str(_("ROMI uses the organisation's gross-margin share (tracking settings; default 1.0)."))]
        other = self.elsewhere()
        if other["spend"] or other["revenue"]:
            amounts = ", ".join(
                f"{label} {Money.of(m.amount, m.currency)}"
                for label, totals in ((_("spend"), other["spend"]), (_("revenue to date"), other["revenue"]))
                for m in totals.values()
            )
            notes.append(
                str(_("Not included (another currency than the report's): %(amounts)s."))
                % {"amounts": amounts}
            )
        return notes

    def totals(self) -> dict[str, Any] | None:
        if not self.lines:
            return None
        rows = self.rows()
        t: dict[str, Any] = {"name": str(_("Total"))}
        t["spend"] = money_sum((line.spend for line in self.lines), self.currency).amount
        t["revenue_period"] = money_sum((line.revenue_period for line in self.lines), self.currency).amount
        t["revenue_to_date"] = money_sum((line.revenue_to_date for line in self.lines), self.currency).amount
        for k in ("impressions", "clicks", "sessions", "leads", "calls", "unique_calls"):
            t[k] = sum(r[k] for r in rows)
        for k in ("booked_first", "arrived_first"):
            t[k] = round(sum(r[k] for r in rows), 2)
        t["missed_share"] = ratio(sum(line.traffic.missed for line in self.lines), t["calls"])
        t["cost_per_call"] = money_ratio(t["spend"], t["calls"])
        t["cost_per_unique_call"] = money_ratio(t["spend"], t["unique_calls"])
        t["cost_per_first_patient"] = (
            (t["spend"] / Decimal(str(t["arrived_first"]))).quantize(CENT) if t["arrived_first"] else None
        )
        return t


Row = TypeVar("Row", Traffic, Tally)


def _fold_unknown(rows: dict[Key, Row], into: Key, make: type[Row]) -> dict[Key, Row]:
    """``rows`` with the direct / unknown line (key None) added into the direct channel's: "Direct"
    and "Direct / unknown" are one channel."""
    unknown = rows.get(None)
    if unknown is None or into is None:
        return rows
    out: dict[Key, Row] = {k: v for k, v in rows.items() if k is not None}
    target = out.setdefault(into, make())
    for f in fields(unknown):
        mine, theirs = getattr(target, f.name), getattr(unknown, f.name)
        if isinstance(mine, MoneyTotals):
            for money in theirs.values():
                mine.add(money)
        else:
            setattr(target, f.name, mine + theirs)
    return out


def _names(*, org: Organization, group: str) -> dict[Key, tuple[str, str]]:
    if group == "channel":
        return {c.pk: (c.code, c.display_name) for c in Channel.objects.for_org(org)}
    return {
        c.pk: (c.utm_campaign or c.name, f"{c.name} ({c.channel.display_name})")
        for c in Campaign.objects.for_org(org).select_related("channel")
    }


def channel_report(
    *,
    org: Organization,
    date_from: dt.date,
    date_to: dt.date,
    branch: Branch | None = None,
    model: str = "last_non_direct",
    group: str = "channel",
) -> ChannelReport:
    """One line per channel (``group="channel"``) or campaign (``group="campaign"``)."""
    if model not in MODELS:
        raise ValueError(f"unknown attribution model {model!r}")
    start, end = period_bounds(date_from, date_to, branch)
    seen = traffic(org=org, date_from=date_from, date_to=date_to, branch=branch, group=group)
    firsts = first_patient_tallies(org=org, start=start, end=end, branch=branch, model=model, group=group)
    names = _names(org=org, group=group)
    unknown = str(_("Direct / unknown")) if group == "channel" else str(_("No campaign"))
    if group == "channel":
        direct = next((k for k, (code, _name) in names.items() if code == DIRECT), None)
        seen, firsts = _fold_unknown(seen, direct, Traffic), _fold_unknown(firsts, direct, Tally)
    currency = report_currency(org, branch)
    lines = []
    for k in seen.keys() | firsts.keys():
        code, name = names.get(k, ("unknown", unknown))
        lines.append(
            ChannelLine(
                key=k,
                code=code,
                name=name,
                traffic=seen.get(k, Traffic()),
                first=firsts.get(k, Tally()),
                currency=currency,
            )
        )
    lines.sort(key=lambda line: (-line.spend.amount, -line.traffic.calls, line.name))
    return ChannelReport(currency=currency, margin=tracking_settings(org=org).gross_margin, lines=lines)


def acquisition_rows(
    *, org: Organization, date_from: dt.date, date_to: dt.date, **options: Any
) -> list[dict[str, Any]]:
    """The report's rows (the planted-truth checks' entry point); ``options`` as ``channel_report``'s:
    ``branch``, ``model``, ``group``."""
    return channel_report(org=org, date_from=date_from, date_to=date_to, **options).rows()


def _compute(group: str) -> Any:
    def compute(ctx: ReportContext) -> ReportResult:
        report = channel_report(
            org=ctx.org,
            date_from=ctx.date_from,
            date_to=ctx.date_to,
            branch=ctx.branch,
            model=ctx.params.get("model", "last_non_direct"),
            group=group,
        )
        return ReportResult(
            rows=report.rows(), totals=report.totals(), notes=report.notes(), currency=report.currency
        )

    return compute


COLUMNS = (
    Column("name", _("Name")),
    Column("spend", _("Spend"), "money"),
    Column("sessions", _("Sessions"), "int"),
    Column("leads", _("Leads"), "int"),
    Column("calls", _("Calls"), "int"),
    Column("unique_calls", _("Unique calls"), "int"),
    Column("missed_share", _("Missed share"), "percent"),
    Column("booked_first", _("Booked first visits"), "float"),
    Column("arrived_first", _("Arrived first visits"), "float"),
    Column("cost_per_call", _("Cost per call"), "money"),
    Column("cost_per_unique_call", _("Cost per unique call"), "money"),
    Column("cost_per_first_patient", _("Cost per first patient"), "money"),
    Column("revenue_period", _("Revenue in period"), "money"),
    Column("revenue_to_date", _("Revenue to date"), "money"),
    Column("romi", _("ROMI"), "percent"),
)
CHART = ChartSpec(type="bar", x="name", series=("calls", "unique_calls", "arrived_first"))

register(
    ReportSpec(
        name="channels",
        title=_("Acquisition by channel"),
        description=_(
            "Spend, sessions, leads, calls and first patients per channel, with cost per result and ROMI."
        ),
        permission="reports.marketing",
        columns=COLUMNS,
        compute=_compute("channel"),
        chart=CHART,
        params=(MODEL_PARAM,),
    )
)
register(
    ReportSpec(
        name="campaigns",
        title=_("Acquisition by campaign"),
        description=_("The channel report per campaign."),
        permission="reports.marketing",
        columns=COLUMNS,
        compute=_compute("campaign"),
        chart=CHART,
        params=(MODEL_PARAM,),
    )
)
