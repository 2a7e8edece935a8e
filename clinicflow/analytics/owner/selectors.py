"""Figures read from the daily facts: one function per figure family, with the branch filter applied the
same way everywhere (a branch: its facts; the chain: every branch's facts and those tied to none)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum

from clinicflow.analytics.models import DayFact, RevenueFact
from clinicflow.analytics.owner.facts import COUNTS
from clinicflow.analytics.owner.split_facts import RevenueSplitFact
from clinicflow.core.models import Branch, Organization


def _scoped(qs: QuerySet[Any, Any], d0: dt.date, d1: dt.date, branch: Branch | None) -> QuerySet[Any, Any]:
    qs = qs.filter(day__gte=d0, day__lte=d1)
    return qs.filter(branch=branch) if branch is not None else qs


def facts_built(*, org: Organization) -> bool:
    return DayFact.objects.for_org(org).exists() or RevenueFact.objects.for_org(org).exists()


def day_totals(*, org: Organization, d0: dt.date, d1: dt.date, branch: Branch | None) -> dict[str, int]:
    """Sums of the day facts' counts over the local days ``d0``..``d1``."""
    row = _scoped(DayFact.objects.for_org(org), d0, d1, branch).aggregate(**{k: Sum(k) for k in COUNTS})
    return {k: int(row[k] or 0) for k in COUNTS}


@dataclass
class RevenueSplit:
    """Net revenue of one currency: of first visits, of repeat visits (every other appointment) and of
    payments for no appointment (memberships, prepayments: ``other``)."""

    first: Decimal = Decimal(0)
    repeat: Decimal = Decimal(0)
    other: Decimal = Decimal(0)

    @property
    def total(self) -> Decimal:
        return self.first + self.repeat + self.other

    @property
    def visits(self) -> Decimal:
        return self.first + self.repeat

    @property
    def first_share(self) -> float | None:
        """First-visit revenue / revenue of visits (first + repeat)."""
        return float(self.first / self.visits) if self.visits else None


def revenue_split(
    *, org: Organization, d0: dt.date, d1: dt.date, branch: Branch | None
) -> dict[str, RevenueSplit]:
    """Per currency (never summed across currencies): first-visit and repeat net revenue."""
    out: dict[str, RevenueSplit] = defaultdict(RevenueSplit)
    qs = _scoped(RevenueSplitFact.objects.for_org(org), d0, d1, branch)  # ``RevenueFact`` summed a day
    for r in qs.order_by().values("currency", "first", "visit").annotate(s=Sum("amount")):
        split = out[r["currency"]]
        amount = Decimal(r["s"] or 0).quantize(Decimal("0.01"))
        if r["first"]:
            split.first += amount
        elif r["visit"]:
            split.repeat += amount
        else:
            split.other += amount
    return dict(out)


@dataclass
class RevenueLine:
    key: uuid.UUID | str | None
    currency: str
    amount: Decimal = Decimal(0)
    first: Decimal = Decimal(0)
    payments: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


DIMENSIONS = {"branch": "branch_id", "doctor": "doctor_id", "service": "service_id"}


def revenue_by(
    *, org: Organization, d0: dt.date, d1: dt.date, branch: Branch | None, by: str
) -> list[RevenueLine]:
    """Net revenue per ``by`` (branch, doctor or service) and currency."""
    key = DIMENSIONS[by]
    # by branch: the day's split (a few rows a branch-day), else one row per doctor and service
    facts: Any = RevenueSplitFact if by == "branch" else RevenueFact
    qs = _scoped(facts.objects.for_org(org), d0, d1, branch).order_by()
    rows = qs.values(key, "currency").annotate(
        s=Sum("amount"), f=Sum("amount", filter=Q(first=True)), n=Sum("payments"), c=Count("id")
    )
    return [
        RevenueLine(
            key=r[key],
            currency=r["currency"],
            amount=Decimal(r["s"] or 0).quantize(Decimal("0.01")),
            first=Decimal(r["f"] or 0).quantize(Decimal("0.01")),
            payments=int(r["n"] or 0),
        )
        for r in rows
    ]
