"""Loyalty reports (issue #16), read from the ledger: ``loyalty_liability`` (what the clinic owes its
patients on a date, per branch: prepaid membership fees not yet earned, balances, bonus, points),
``membership_economics`` (members against comparable non-members: visits and revenue beyond the fee
per patient; active, new and churned members, use of the included procedures), ``points_flow``
(earned, redeemed, expired and outstanding per month) and ``referrals`` (the funnel and the top
referrers).

Money is per currency: the report's currency (the branch's, else the organisation's); other currencies
are never added in. Liability on a date = the patients' cached balances less what was posted to their
accounts after that date (the cached balance is exact: ``clinicflow ledger verify``)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _

from clinicflow.analytics.reports.base import (
    ChartSpec,
    Column,
    ReportContext,
    ReportResult,
    ReportSpec,
    register,
)
from clinicflow.booking.models import Payment, PaymentKind
from clinicflow.core.models import Branch
from clinicflow.ledger.models import (
    POINTS,
    Account,
    AccountKind,
    BenefitKind,
    Membership,
    MembershipStatus,
    MembershipUse,
    PlanKind,
    Posting,
    Referral,
    ReferralCode,
    ReferralStatus,
    TxKind,
)

ZERO = Decimal(0)
HELD = (AccountKind.PREPAID, AccountKind.MONEY, AccountKind.BONUS)


def _held_by_branch(ctx: ReportContext, units: list[str]) -> dict[tuple[Any, str, str], Decimal]:
    """{(branch id, kind, unit): balance on ``date_to``} of the patients' accounts."""
    accounts = Account.objects.for_org(ctx.org).filter(patient__isnull=False, unit__in=units)
    if ctx.branch is not None:
        accounts = accounts.filter(patient__branch=ctx.branch)
    out: dict[tuple[Any, str, str], Decimal] = defaultdict(Decimal)
    for branch, kind, unit, total in (
        accounts.values_list("patient__branch_id", "kind", "unit").annotate(s=Sum("balance")).order_by()
    ):
        out[(branch, kind, unit)] += total or ZERO
    later = Posting.objects.for_org(ctx.org).filter(created_at__gte=ctx.end_utc(), unit__in=units)
    later = later.filter(account__patient__isnull=False)
    if ctx.branch is not None:
        later = later.filter(account__patient__branch=ctx.branch)
    for branch, kind, unit, total in (
        later.values_list("account__patient__branch_id", "account__kind", "unit")
        .annotate(s=Sum("amount"))
        .order_by()
    ):
        out[(branch, kind, unit)] -= total or ZERO
    return out


def _liability(ctx: ReportContext) -> ReportResult:
    cur = ctx.currency
    held = _held_by_branch(ctx, [cur, POINTS])
    names = dict(Branch.objects.for_org(ctx.org).values_list("pk", "name"))
    rows = []
    for branch in sorted({k[0] for k in held}, key=lambda b: str(names.get(b, ""))):
        row: dict[str, Any] = {"branch": names.get(branch, "")}
        for kind in HELD:
            row[str(kind)] = held.get((branch, kind, cur), ZERO)
        row["total"] = sum((row[str(k)] for k in HELD), ZERO)
        row["points"] = int(held.get((branch, AccountKind.POINTS, POINTS), ZERO))
        rows.append(row)
    totals = {"branch": _g("Total"), "points": sum(r["points"] for r in rows)}
    for key in [*map(str, HELD), "total"]:
        totals[key] = sum((r[key] for r in rows), ZERO)
    notes = [
        _g(
            "Owed to patients at the end of %(date)s in %(cur)s: prepaid membership fees not yet earned, "
            "balances paid in, bonus; points are counted apart."
        )
        % {"date": ctx.date_to.isoformat(), "cur": cur}
    ]
    return ReportResult(rows=rows, totals=totals, notes=notes, currency=cur)


def _members(ctx: ReportContext) -> Any:
    qs = Membership.objects.for_org(ctx.org).exclude(plan__kind=PlanKind.STORED_VALUE)
    qs = qs.filter(currency=ctx.currency, starts_at__lt=ctx.end_utc(), ends_at__gt=ctx.start_utc())
    qs = qs.exclude(status=MembershipStatus.CANCELLED, cancelled_at__lt=ctx.start_utc())
    return qs.filter(patient__branch=ctx.branch) if ctx.branch is not None else qs


def _economics(ctx: ReportContext) -> ReportResult:
    cur, start, end = ctx.currency, ctx.start_utc(), ctx.end_utc()
    members_qs = _members(ctx)
    member_ids = set(members_qs.values_list("patient_id", flat=True))
    pays = Payment.objects.for_org(ctx.org).filter(currency=cur, paid_at__gte=start, paid_at__lt=end)
    pays = pays.filter(appointment__isnull=False)
    if ctx.branch is not None:
        pays = pays.filter(branch=ctx.branch)
    revenue: dict[Any, Decimal] = defaultdict(Decimal)
    visits: dict[Any, set[Any]] = defaultdict(set)
    for patient, appt, kind, amount in pays.values_list("patient_id", "appointment_id", "kind", "amount"):
        revenue[patient] += -amount if kind == PaymentKind.REFUND else amount
        if kind != PaymentKind.REFUND:
            visits[patient].add(appt)
    fees = members_qs.filter(starts_at__gte=start).aggregate(s=Sum("price"))["s"] or ZERO
    rows = []
    for label, ids in (
        (_g("Members"), member_ids),
        (_g("Non-members with a paid visit"), set(visits) - member_ids),
    ):
        n = len(ids)
        rev = sum((revenue.get(p, ZERO) for p in ids), ZERO)
        rows.append({
            "group": label, "patients": n,
            "visits_per_patient": round(sum(len(visits.get(p, ())) for p in ids) / n, 2) if n else 0.0,
            "revenue_per_patient": (rev / n).quantize(Decimal("0.01")) if n else ZERO,
            "fee_per_patient": (fees / n).quantize(Decimal("0.01")) if n and ids is member_ids else ZERO,
        })  # fmt: skip
    new = members_qs.filter(starts_at__gte=start, renewed_from__isnull=True).count()
    churned = members_qs.filter(
        Q(status=MembershipStatus.CANCELLED, cancelled_at__lt=end) | Q(ends_at__lt=end)
    ).exclude(
        pk__in=Membership.objects.for_org(ctx.org).filter(renewed_from__isnull=False).values("renewed_from")
    )
    allowed = sum(
        sum(int(v or 0) for v in m.plan.included.values()) for m in members_qs.select_related("plan")
    )
    used = MembershipUse.objects.for_org(ctx.org).filter(
        membership__in=members_qs, kind=BenefitKind.INCLUDED, released_at__isnull=True,
        used_at__gte=start, used_at__lt=end,
    ).count()  # fmt: skip
    notes = [
        _g("Active members: %(n)s; new: %(new)s; churned (cancelled or ended without renewal): %(out)s.")
        % {"n": len(member_ids), "new": new, "out": churned.count()},
        _g("Included procedures used: %(used)s of %(allowed)s allowed per period.")
        % {"used": used, "allowed": allowed},
        _g("Revenue is paid visits less refunds in the period, without membership fees."),
    ]
    return ReportResult(rows=rows, notes=notes, currency=cur)


def _points(ctx: ReportContext) -> ReportResult:
    start, end = ctx.start_utc(), ctx.end_utc()
    kinds = {
        "earned": Q(account__kind=AccountKind.POINTS_ISSUED, amount__lt=0),
        "redeemed": Q(account__kind=AccountKind.POINTS_REDEEMED),
        "expired": Q(account__kind=AccountKind.EXPIRED),
        "given": Q(account__kind=AccountKind.POINTS, amount__gt=0, transaction__kind=TxKind.GIVE),
    }
    base = Posting.objects.for_org(ctx.org).filter(unit=POINTS, created_at__gte=start, created_at__lt=end)
    months: dict[dt.date, dict[str, Any]] = {}
    for key, where in kinds.items():
        rows = base.filter(where).annotate(m=TruncMonth("created_at", tzinfo=dt.UTC)).values("m")
        for row in rows.annotate(s=Sum("amount")).order_by():
            cell = months.setdefault(row["m"].date(), {"month": row["m"].strftime("%Y-%m")})
            cell[key] = abs(int(row["s"] or 0))
    out = []
    for month in sorted(months):
        cell = {"earned": 0, "redeemed": 0, "expired": 0, "given": 0, **months[month]}
        out.append(cell)
    held = (
        Account.objects.for_org(ctx.org)
        .filter(kind=AccountKind.POINTS, unit=POINTS)
        .aggregate(s=Sum("balance"))
    )
    after = Posting.objects.for_org(ctx.org).filter(
        unit=POINTS, account__kind=AccountKind.POINTS, created_at__gte=end
    )
    outstanding = (held["s"] or ZERO) - (after.aggregate(s=Sum("amount"))["s"] or ZERO)
    totals = {"month": _g("Total"), **{k: sum(r[k] for r in out) for k in kinds}}
    notes = [_g("Points outstanding at the end of the period: %(n)s.") % {"n": int(outstanding)}]
    return ReportResult(rows=out, totals=totals, notes=notes)


def _referrals(ctx: ReportContext) -> ReportResult:
    start, end = ctx.start_utc(), ctx.end_utc()
    refs = Referral.objects.for_org(ctx.org).filter(created_at__gte=start, created_at__lt=end)
    if ctx.branch is not None:
        refs = refs.filter(referrer__branch=ctx.branch)
    top = (
        refs.values("referrer_id", "referrer__first_name", "referrer__last_name", "code")
        .annotate(
            referred=Count("pk"),
            rewarded=Count("pk", filter=Q(status=ReferralStatus.REWARDED)),
            reversed=Count("pk", filter=Q(status=ReferralStatus.REVERSED)),
        )
        .order_by("-rewarded", "-referred", "code")[:20]
    )
    rows = [
        {"referrer": f"{r['referrer__first_name']} {r['referrer__last_name']}".strip(), "code": r["code"],
         "referred": r["referred"], "rewarded": r["rewarded"], "reversed": r["reversed"]}
        for r in top
    ]  # fmt: skip
    codes = ReferralCode.objects.for_org(ctx.org).filter(created_at__lt=end).count()
    funnel = refs.aggregate(n=Count("pk"), done=Count("pk", filter=Q(status=ReferralStatus.REWARDED)))
    notes = [
        _g("Funnel: %(codes)s codes given, %(n)s friends referred, %(done)s first paid visits rewarded.")
        % {"codes": codes, "n": funnel["n"], "done": funnel["done"]}
    ]
    return ReportResult(rows=rows, notes=notes)


register(
    ReportSpec(
        name="loyalty_liability",
        title=_("Loyalty liability"),
        description=_(
            "What the clinic owes its patients on a date: prepaid memberships, balances, bonus, points."
        ),
        permission="reports.owner",
        columns=(
            Column("branch", _("Branch")),
            Column("prepaid", _("Prepaid memberships"), "money"),
            Column("money", _("Balance"), "money"),
            Column("bonus", _("Bonus balance"), "money"),
            Column("total", _("Total"), "money"),
            Column("points", _("Points"), "int"),
        ),
        compute=_liability,
        chart=ChartSpec(type="bar", x="branch", series=("prepaid", "money", "bonus"), stacked=True),
        default_days=30,
    )
)
register(
    ReportSpec(
        name="membership_economics",
        title=_("Membership economics"),
        description=_("Members against non-members: visits and revenue beyond the fee per patient."),
        permission="reports.owner",
        columns=(
            Column("group", _("Group")),
            Column("patients", _("Patients"), "int"),
            Column("visits_per_patient", _("Visits per patient"), "float"),
            Column("revenue_per_patient", _("Revenue per patient beyond the fee"), "money"),
            Column("fee_per_patient", _("Fees per member"), "money"),
        ),
        compute=_economics,
        chart=ChartSpec(type="bar", x="group", series=("revenue_per_patient",)),
        default_days=365,
    )
)
register(
    ReportSpec(
        name="points_flow",
        title=_("Points earned, redeemed and expired"),
        description=_("Loyalty points per month, and the points outstanding at the end."),
        permission="reports.owner",
        columns=(
            Column("month", _("Month")),
            Column("earned", _("Earned"), "int"),
            Column("redeemed", _("Redeemed"), "int"),
            Column("expired", _("Expired"), "int"),
            Column("given", _("Given to another patient"), "int"),
        ),
        compute=_points,
        chart=ChartSpec(type="bar", x="month", series=("earned", "redeemed", "expired")),
        default_days=365,
    )
)
register(
    ReportSpec(
        name="referrals",
        title=_("Referrals"),
        description=_("The referral funnel and the top referrers."),
        permission="reports.owner",
        columns=(
            Column("referrer", _("Referrer")),
            Column("code", _("Code")),
            Column("referred", _("Friends referred"), "int"),
            Column("rewarded", _("First paid visits"), "int"),
            Column("reversed", _("Reversed"), "int"),
        ),
        compute=_referrals,
        chart=ChartSpec(type="bar", x="code", series=("referred", "rewarded")),
        default_days=365,
    )
)
