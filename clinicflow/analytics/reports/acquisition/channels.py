"""The channel and campaign reports: spend, traffic, calls and first patients per channel / campaign,
with cost per result and ROMI.

ROMI = (revenue to date of the attracted (first) patients × gross margin − spend) / spend. Beside it
(seed 004) the predicted lifetime value of the first patients — their net revenue up to the stored
lifetime-value predictions' day plus their stored predicted future value (``PatientPrediction.clv``,
``clinicflow analytics clv --org``) — and ROMI on that predicted lifetime margin. Money is
kept per currency (``MoneyTotals``) until the rows are laid out in the report's currency (the
branch's, or the organisation's for the whole chain); amounts in any other currency are never added
to them: a note lists them instead.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, fields
from decimal import Decimal
from fractions import Fraction
from typing import Any, TypeVar

from django.utils.translation import gettext_lazy as _

from clinicflow.acquisition.attribution import DIRECT, MODELS, Tally
from clinicflow.acquisition.defaults import tracking_settings
from clinicflow.acquisition.models import Campaign, Channel
from clinicflow.analytics.owner.chan_reads import first_patient_rows
from clinicflow.analytics.reports.acquisition.first_patients import first_patient_values
from clinicflow.analytics.reports.acquisition.lifetime import (
    Lifetime,
    fold_first_patients,
    lifetime_figures,
)
from clinicflow.analytics.reports.acquisition.traffic import Traffic, traffic
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
    value: Lifetime | None = None  # None: no stored predictions

    @property
    def future(self) -> Money | None:
        """The stored predicted future value of the first patients, in cents (None: no predictions)."""
        return None if self.value is None else _cents(_in(self.value.future, self.currency))

    @property
    def lifetime(self) -> Money | None:
        """Their predicted lifetime value: net revenue before the predictions' cut-off + future value."""
        if self.value is None:
            return None
        return _cents(_in(self.value.revenue_until, self.currency) + _in(self.value.future, self.currency))

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
            **lifetime_figures(self.lifetime, arrived, spend, margin),
        }


@dataclass(frozen=True)
class ChannelReport:
    currency: str
    margin: Decimal
    lines: list[ChannelLine]
    until: dt.date | None = None  # the stored predictions' day (None: there are none)

    def rows(self) -> list[dict[str, Any]]:
        return [line.as_row(self.margin) for line in self.lines]

    def elsewhere(self) -> dict[str, MoneyTotals]:
        """Spend, revenue to date and predicted future value in currencies other than the report's
        (never added to it)."""
        out = {"spend": MoneyTotals(), "revenue": MoneyTotals(), "future": MoneyTotals()}
        for line in self.lines:
            future = line.value.future if line.value is not None else MoneyTotals()
            pairs = (
                ("spend", line.traffic.spend),
                ("revenue", line.first.revenue_to_date),
                ("future", future),
            )
            for name, totals in pairs:
                for cur, money in totals.items():
                    if cur != self.currency:
                        out[name].add(money)
        return out

    def coverage(self) -> float | None:
        """The share of the first patients (as credited) that have a stored prediction."""
        arrived = sum((line.first.arrived for line in self.lines), Fraction(0))
        predicted = sum((line.value.predicted for line in self.lines if line.value), Fraction(0))
        return ratio(float(predicted), float(arrived))

    def lifetime_note(self) -> str:
        if self.until is None:
            return str(
                _(
                    "None of these first patients has a stored lifetime-value prediction: run the "
                    "lifetime-value engine (clinicflow analytics clv --org) to fill the predicted "
                    "lifetime columns."
                )
            )
        share = self.coverage()
        return str(
            _(
                "Predicted lifetime value: net revenue up to %(until)s plus the stored predicted "
                "future value; %(share)s of the first patients have a prediction."
            )
        ) % {"until": self.until.isoformat(), "share": f"{share:.0%}" if share is not None else "-"}

    def notes(self) -> list[str]:
        romi = str(_("ROMI uses the organisation's gross-margin share (tracking settings; default 1.0)."))
        notes = [f"{romi} {self.lifetime_note()}"]
        other = self.elsewhere()
        if other["spend"] or other["revenue"] or other["future"]:
            labelled = (
                (_("spend"), other["spend"]),
                (_("revenue to date"), other["revenue"]),
                (_("predicted future value"), other["future"]),
            )
            amounts = ", ".join(
                f"{label} {Money.of(m.amount, m.currency)}"
                for label, totals in labelled
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
        lifetimes = [line.lifetime for line in self.lines]
        total = money_sum((m for m in lifetimes if m is not None), self.currency) if self.until else None
        arrived = sum((line.first.arrived for line in self.lines), Fraction(0))
        t.update(lifetime_figures(total, arrived, t["spend"], self.margin))
        return t


Row = TypeVar("Row", Traffic, Tally, Lifetime)


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
    facts: bool = True,
) -> ChannelReport:
    """One line per channel (``group="channel"``) or campaign (``group="campaign"``). The first patients
    are read from their daily facts (``owner.chan_reads``) once built, else (or ``facts=False``) from
    the raw attribution statement — the same figures."""
    if model not in MODELS:
        raise ValueError(f"unknown attribution model {model!r}")
    start, end = period_bounds(date_from, date_to, branch)
    seen = traffic(org=org, date_from=date_from, date_to=date_to, branch=branch, group=group)
    rows = (
        first_patient_rows(
            org=org, date_from=date_from, date_to=date_to, branch=branch, model=model, group=group
        )
        if facts
        else None
    )
    if rows is not None:
        firsts, values, until = fold_first_patients(rows)
    else:
        firsts, values, until = first_patient_values(
            org=org, start=start, end=end, branch=branch, model=model, group=group, lifetime=True
        )
    names = _names(org=org, group=group)
    unknown = str(_("Direct / unknown")) if group == "channel" else str(_("No campaign"))
    if group == "channel":
        direct = next((k for k, (code, _name) in names.items() if code == DIRECT), None)
        seen, firsts = _fold_unknown(seen, direct, Traffic), _fold_unknown(firsts, direct, Tally)
        values = _fold_unknown(values, direct, Lifetime)
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
                value=values.get(k, Lifetime()) if until is not None else None,
            )
        )
    lines.sort(key=lambda line: (-line.spend.amount, -line.traffic.calls, line.name))
    margin = tracking_settings(org=org).gross_margin
    return ChannelReport(currency=currency, margin=margin, lines=lines, until=until)


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
    Column("lifetime_value", _("Predicted lifetime value"), "money"),
    Column("lifetime_per_patient", _("Predicted lifetime value per first patient"), "money"),
    Column("romi_lifetime", _("ROMI on predicted lifetime margin"), "percent"),
)
# ROMI to date beside ROMI on the predicted lifetime margin: what the first patients will be worth
CHART = ChartSpec(type="bar", x="name", series=("romi", "romi_lifetime"))

register(
    ReportSpec(
        name="channels",
        title=_("Acquisition by channel"),
        description=_(
            "Spend, sessions, leads, calls and first patients per channel, with cost per result, ROMI "
            "to date and the predicted lifetime value of the first patients with ROMI on it."
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
