"""Price elasticity and channel response curves as reports (chart, table, CSV/XLSX and
``GET /api/v1/reports/<name>``); the fits are :mod:`clinicflow.analytics.pricing.fit`."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _

from clinicflow.analytics.pricing.fit import Elasticity, best_split, estimate
from clinicflow.analytics.pricing.panel import build_panel
from clinicflow.analytics.reports.base import (
    ChartSpec,
    Column,
    ReportContext,
    ReportResult,
    ReportSpec,
    register,
)
from clinicflow.core.formatting import fmt_percent


def _fit(ctx: ReportContext) -> Elasticity:
    panel = build_panel(org=ctx.org, date_from=ctx.date_from, date_to=ctx.date_to)
    return estimate(panel)


def _notes(e: Elasticity) -> list[str]:
    if not e.estimated:
        return [_g("Cannot estimate: %(why)s.") % {"why": e.warning}]
    assert e.calls_ci is not None
    out = [
        _g(
            "A first-visit price cut of %(step)s %(cur)s brings %(change)s more unique calls "
            "(95%% interval %(lo)s to %(hi)s)."
        )
        % {
            "step": e.step,
            "cur": e.currency,
            "change": fmt_percent(e.calls_change),
            "lo": fmt_percent(e.calls_ci[0]),
            "hi": fmt_percent(e.calls_ci[1]),
        }
    ]
    if e.first_visits_ci is not None:
        out.append(
            _g("First visits: %(change)s more (95%% interval %(lo)s to %(hi)s).")
            % {
                "change": fmt_percent(e.first_visits_change),
                "lo": fmt_percent(e.first_visits_ci[0]),
                "hi": fmt_percent(e.first_visits_ci[1]),
            }
        )
    out.append(
        _g("Fitted on %(n)s months with prices %(levels)s, controlling for season, trend and ad spend.")
        % {"n": e.months, "levels": ", ".join(str(p) for p in e.price_levels)}
    )
    return out


def _elasticity(ctx: ReportContext) -> ReportResult:
    e = _fit(ctx)
    rows = [
        {"month": m.strftime("%Y-%m"), "calls": calls, "fitted": round(fitted, 1)}
        for m, calls, fitted in e.fitted
    ]
    return ReportResult(rows=rows, notes=_notes(e), currency=e.currency)


def _response(ctx: ReportContext) -> ReportResult:
    e = _fit(ctx)
    split = best_split(e.curves, sum((c.monthly_spend for c in e.curves), Decimal(0)))
    rows = []
    for c in e.curves:
        marginal = (
            (c.monthly_spend / Decimal(str(c.beta * c.monthly_calls))).quantize(Decimal("0.01"))
            if c.beta > 0 and c.monthly_calls > 0
            else None
        )
        rows.append(
            {
                "channel": c.name,
                "returns": round(c.beta, 3),
                "returns_low": round(c.beta_ci[0], 3),
                "returns_high": round(c.beta_ci[1], 3),
                "spend": c.monthly_spend,
                "calls": round(c.monthly_calls, 1),
                "marginal_cost": marginal,
                "best_spend": split.get(c.channel_id),
            }
        )
    notes = [] if e.curves else [_g("No paid channel with spend in this period.")]
    if e.curves:
        notes.append(
            _g(
                "Calls at spend s: calls now × (s / spend now)^returns. The best split spends the same "
                "monthly total so that the next unit of money buys the same number of calls everywhere."
            )
        )
    return ReportResult(rows=rows, notes=notes, currency=e.currency)


register(
    ReportSpec(
        name="price_elasticity",
        title=_("First-visit price elasticity"),
        description=_(
            # xgettext:no-python-format
            "How unique calls and first visits answer a change of the first-visit price, with a 95% interval."
        ),
        permission="reports.view",
        columns=(
            Column("month", _("Month")),
            Column("calls", _("Unique calls"), "int"),
            Column("fitted", _("Fitted"), "float"),
        ),
        compute=_elasticity,
        chart=ChartSpec(type="line", x="month", series=("calls", "fitted")),
        default_days=730,
    )
)

register(
    ReportSpec(
        name="channel_response",
        title=_("Channel response curves"),
        description=_(
            "Each paid channel's diminishing returns to spend, the cost of the next call and the best "
            "split of the budget."
        ),
        permission="reports.view",
        columns=(
            Column("channel", _("Channel")),
            Column("returns", _("Returns to spend"), "float"),
            Column("returns_low", _("Low (95%)"), "float"),
            Column("returns_high", _("High (95%)"), "float"),
            Column("spend", _("Monthly spend"), "money"),
            Column("calls", _("Unique calls a month"), "float"),
            Column("marginal_cost", _("Cost of the next call"), "money"),
            Column("best_spend", _("Best monthly spend"), "money"),
        ),
        compute=_response,
        chart=ChartSpec(type="bar", x="channel", series=("spend", "best_spend")),
        default_days=730,
    )
)
