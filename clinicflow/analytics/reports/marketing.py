"""Reports of the marketing app (registered at import):

- ``campaign_results``: per campaign queued in the period and per group (each variant, the holdout):
  recipients, sent, delivered (the outbox's message sent), clicked, booked, arrived, revenue, and each
  variant's uplift of the booking rate over the holdout with its 95 % interval; the campaign's cost and
  ROMI (incremental revenue over the holdout, less the cost, per unit of cost).
- ``ab_tests``: per variant against the holdout: booking rates, uplift, interval, the two-sided p-value
  and whether it is significant at 5 %, and the sample size per group still needed.
- ``coupon_redemptions``: per offer, codes issued and used, redemptions in the period and the discount
  given (in the report's currency; other currencies are never summed in).
- ``calendar_budget``: per month of the marketing calendar, events, budget against actual cost.

The booking arithmetic is ``marketing.selectors.results.campaign_results`` (the campaign page's too);
the planted-truth check runs ``campaign_rows`` on a simulated clinic.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, Sum
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from clinicflow.analytics.reports.base import (
    ChartSpec,
    Column,
    ReportContext,
    ReportResult,
    ReportSpec,
    period_bounds,
    ratio,
    register,
)
from clinicflow.core.models import Branch, Organization
from clinicflow.marketing.models import HOLDOUT, Campaign, Coupon, Offer, Recipient, Redemption
from clinicflow.marketing.models.calendar import CalendarEvent, EventStatus
from clinicflow.marketing.selectors.results import Group, campaign_results
from clinicflow.marketing.stats import p_value
from clinicflow.messaging.models import Message, Status

SIGNIFICANCE = 0.05


def _campaigns(
    org: Organization, date_from: dt.date, date_to: dt.date, branch: Branch | None
) -> list[Campaign]:
    start, end = period_bounds(date_from, date_to, branch)
    qs = Campaign.objects.for_org(org).filter(queued_at__gte=start, queued_at__lt=end)
    if branch is not None:
        qs = qs.filter(Q(branch=branch) | Q(branch__isnull=True))
    return list(qs.order_by("queued_at", "name"))


def _delivered(org: Organization, campaign: Campaign) -> dict[str, int]:
    """Messages the outbox sent, per variant."""
    refs = Recipient.objects.for_org(org).filter(campaign=campaign, message_ref__isnull=False)
    sent_ids = set(
        Message.objects.for_org(org)
        .filter(pk__in=refs.values("message_ref"), status=Status.SENT)
        .values_list("pk", flat=True)
    )
    out: dict[str, int] = defaultdict(int)
    for variant, ref in refs.values_list("variant", "message_ref"):
        out[variant] += ref in sent_ids
    return out


def _romi(groups: list[Group], cost: Decimal) -> float | None:
    holdout = next((g for g in groups if g.key == HOLDOUT), None)
    if holdout is None or not holdout.recipients or not cost:
        return None
    per_head = holdout.revenue / holdout.recipients
    incremental = sum((g.revenue - per_head * g.recipients for g in groups if g.key != HOLDOUT), Decimal(0))
    return float((incremental - cost) / cost)


def campaign_rows(
    *, org: Organization, date_from: dt.date, date_to: dt.date, branch: Branch | None = None
) -> list[dict[str, Any]]:
    rows = []
    for c in _campaigns(org, date_from, date_to, branch):
        groups = campaign_results(org=org, campaign=c)
        delivered = _delivered(org, c)
        romi = _romi(groups, c.cost)
        for g in groups:
            u = g.uplift
            rows.append(
                {
                    "campaign": c.name,
                    "campaign_id": str(c.pk),
                    "group": g.key,
                    "recipients": g.recipients,
                    "sent": g.sent,
                    "delivered": delivered.get(g.key, 0),
                    "clicked": g.clicked,
                    "booked": g.booked,
                    "booked_rate": ratio(g.booked, g.recipients),
                    "arrived": g.arrived,
                    "revenue": g.revenue,
                    "cost": c.cost if g.key != HOLDOUT else None,
                    "romi": romi if g.key != HOLDOUT else None,
                    "uplift": u.uplift if u else None,
                    "ci_low": u.low if u else None,
                    "ci_high": u.high if u else None,
                }
            )
    return rows


def ab_rows(
    *, org: Organization, date_from: dt.date, date_to: dt.date, branch: Branch | None = None
) -> list[dict[str, Any]]:
    rows = []
    for c in _campaigns(org, date_from, date_to, branch):
        groups = campaign_results(org=org, campaign=c)
        holdout = next((g for g in groups if g.key == HOLDOUT), None)
        for g in groups:
            if g.key == HOLDOUT or holdout is None or g.uplift is None:
                continue
            p = p_value(g.booked, g.recipients, holdout.booked, holdout.recipients)
            rows.append(
                {
                    "campaign": c.name,
                    "variant": g.key,
                    "recipients": g.recipients,
                    "holdout": holdout.recipients,
                    "rate": g.uplift.rate,
                    "base_rate": g.uplift.base_rate,
                    "uplift": g.uplift.uplift,
                    "ci_low": g.uplift.low,
                    "ci_high": g.uplift.high,
                    "p_value": p,
                    "significant": _("yes") if p is not None and p < SIGNIFICANCE else _("no"),
                    "needed_per_group": g.uplift.needed_per_group if g.uplift.needed_per_group >= 0 else None,
                    "revenue": g.revenue,
                    "holdout_revenue": holdout.revenue,
                }
            )
    return rows


def coupon_rows(
    *, org: Organization, date_from: dt.date, date_to: dt.date, branch: Branch | None, currency: str
) -> list[dict[str, Any]]:
    start, end = period_bounds(date_from, date_to, branch)
    used = Redemption.objects.for_org(org).filter(at__gte=start, at__lt=end, currency=currency)
    if branch is not None:
        used = used.filter(branch_id_ref=branch.pk)
    by_offer: dict[Any, dict[str, Any]] = {
        r["offer_id"]: dict(r)
        for r in used.values("offer_id").annotate(n=Count("id"), discount=Sum("discount"), price=Sum("price"))
    }
    codes: dict[Any, dict[str, Any]] = {
        r["offer_id"]: dict(r)
        for r in Coupon.objects.for_org(org)
        .values("offer_id")
        .annotate(issued=Count("id"), used=Count("id", filter=Q(used__gt=0)))
    }
    rows = []
    for o in Offer.objects.for_org(org).filter(pk__in=set(by_offer) | set(codes)).order_by("name"):
        r: dict[str, Any] = by_offer.get(o.pk, {})
        c: dict[str, Any] = codes.get(o.pk, {})
        rows.append(
            {
                "offer": o.name,
                "kind": o.get_kind_display(),
                "codes_issued": c.get("issued", 0),
                "codes_used": c.get("used", 0),
                "redemptions": r.get("n", 0),
                "list_price": r.get("price") or Decimal(0),
                "discount": r.get("discount") or Decimal(0),
                "discount_share": ratio(r.get("discount") or 0, r.get("price") or 0),
            }
        )
    return rows


def calendar_rows(
    *, org: Organization, date_from: dt.date, date_to: dt.date, branch: Branch | None, currency: str
) -> list[dict[str, Any]]:
    qs = (
        CalendarEvent.objects.for_org(org)
        .filter(starts_on__gte=date_from, starts_on__lte=date_to, currency=currency)
        .exclude(status=EventStatus.CANCELLED)
    )
    if branch is not None:
        qs = qs.filter(Q(branch=branch) | Q(branch__isnull=True))
    months: dict[dt.date, dict[str, Any]] = {}
    for starts, budget, actual, status in qs.values_list("starts_on", "budget", "actual_cost", "status"):
        key = starts.replace(day=1)
        m = months.setdefault(
            key, {"month": key, "events": 0, "done": 0, "budget": Decimal(0), "actual": Decimal(0)}
        )
        m["events"] += 1
        m["done"] += status == EventStatus.DONE
        m["budget"] += budget
        m["actual"] += actual
    rows = []
    for key in sorted(months):
        m = months[key]
        rows.append(
            {**m, "difference": m["actual"] - m["budget"], "spent_share": ratio(m["actual"], m["budget"])}
        )
    return rows


def _campaign_report(ctx: ReportContext) -> ReportResult:
    return ReportResult(
        rows=campaign_rows(org=ctx.org, date_from=ctx.date_from, date_to=ctx.date_to, branch=ctx.branch),
        currency=ctx.org.currency,
    )


def _ab_report(ctx: ReportContext) -> ReportResult:
    return ReportResult(
        rows=ab_rows(org=ctx.org, date_from=ctx.date_from, date_to=ctx.date_to, branch=ctx.branch),
        notes=[
            gettext(
                "Uplift: the booking rate of the variant less that of the holdout; "
                "significant when p is below 0.05."
            )
        ],
        currency=ctx.org.currency,
    )


def _coupon_report(ctx: ReportContext) -> ReportResult:
    rows = coupon_rows(
        org=ctx.org, date_from=ctx.date_from, date_to=ctx.date_to, branch=ctx.branch, currency=ctx.currency
    )
    return ReportResult(rows=rows, notes=[gettext("Redemptions in other currencies are not included.")])


def _calendar_report(ctx: ReportContext) -> ReportResult:
    rows = calendar_rows(
        org=ctx.org, date_from=ctx.date_from, date_to=ctx.date_to, branch=ctx.branch, currency=ctx.currency
    )
    return ReportResult(rows=rows)


register(
    ReportSpec(
        name="campaign_results",
        title=_("Campaign results"),
        description=_(
            "Per campaign and group: sent, delivered, clicked, booked, arrived, revenue, cost, ROMI, and "
            "the uplift of the booking rate over the holdout with its confidence interval."
        ),
        permission="reports.marketing",
        columns=(
            Column("campaign", _("Campaign")),
            Column("group", _("Group")),
            Column("recipients", _("Recipients"), "int"),
            Column("sent", _("Sent"), "int"),
            Column("delivered", _("Delivered"), "int"),
            Column("clicked", _("Clicked"), "int"),
            Column("booked", _("Booked"), "int"),
            Column("booked_rate", _("Booking rate"), "percent"),
            Column("arrived", _("Arrived"), "int"),
            Column("revenue", _("Revenue"), "money"),
            Column("cost", _("Cost"), "money"),
            Column("romi", _("ROMI"), "percent"),
            Column("uplift", _("Uplift over holdout"), "percent"),
            Column("ci_low", _("Interval from"), "percent"),
            Column("ci_high", _("Interval to"), "percent"),
        ),
        compute=_campaign_report,
        chart=ChartSpec(type="bar", x="group", series=("booked_rate",)),
    )
)

register(
    ReportSpec(
        name="ab_tests",
        title=_("A/B tests"),
        description=_(
            "Each variant against the holdout: booking rates, uplift with its confidence interval, "
            "the p-value, whether it is significant, and the sample size per group still needed."
        ),
        permission="reports.marketing",
        columns=(
            Column("campaign", _("Campaign")),
            Column("variant", _("Variant")),
            Column("recipients", _("Recipients"), "int"),
            Column("holdout", _("Holdout"), "int"),
            Column("rate", _("Booking rate"), "percent"),
            Column("base_rate", _("Holdout booking rate"), "percent"),
            Column("uplift", _("Uplift"), "percent"),
            Column("ci_low", _("Interval from"), "percent"),
            Column("ci_high", _("Interval to"), "percent"),
            Column("p_value", _("p-value"), "float"),
            Column("significant", _("Significant")),
            Column("needed_per_group", _("More needed per group"), "int"),
            Column("revenue", _("Revenue"), "money"),
            Column("holdout_revenue", _("Holdout revenue"), "money"),
        ),
        compute=_ab_report,
        chart=ChartSpec(type="bar", x="variant", series=("rate", "base_rate")),
    )
)

register(
    ReportSpec(
        name="coupon_redemptions",
        title=_("Coupon redemptions"),
        description=_("Per offer: codes issued and used, redemptions in the period and the discount given."),
        permission="reports.marketing",
        columns=(
            Column("offer", _("Offer")),
            Column("kind", _("Kind")),
            Column("codes_issued", _("Codes issued"), "int"),
            Column("codes_used", _("Codes used"), "int"),
            Column("redemptions", _("Redemptions"), "int"),
            Column("list_price", _("Price before discount"), "money"),
            Column("discount", _("Discount given"), "money"),
            Column("discount_share", _("Discount share"), "percent"),
        ),
        compute=_coupon_report,
        chart=ChartSpec(type="bar", x="offer", series=("redemptions",)),
    )
)

register(
    ReportSpec(
        name="calendar_budget",
        title=_("Marketing calendar: budget and actual"),
        description=_("Per month of the marketing calendar: events, the planned budget and the actual cost."),
        permission="reports.marketing",
        columns=(
            Column("month", _("Month"), "date"),
            Column("events", _("Events"), "int"),
            Column("done", _("Done"), "int"),
            Column("budget", _("Budget"), "money"),
            Column("actual", _("Actual cost"), "money"),
            Column("difference", _("Actual less budget"), "money"),
            Column("spent_share", _("Share of budget spent"), "percent"),
        ),
        compute=_calendar_report,
        chart=ChartSpec(type="bar", x="month", series=("budget", "actual")),
        default_days=365,
    )
)
