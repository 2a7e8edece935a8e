from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.http import QueryDict
from django.utils import timezone

from clinicflow.accounts.models import User
from clinicflow.core.errors import NotFound, ValidationFailed
from clinicflow.core.models import Branch, Organization
from clinicflow.core.money import MoneyError, quantize
from clinicflow.core.selectors import branch_find
from clinicflow.core.web import parse_date

# Modules that register reports; each domain adds its module here.
REPORT_MODULES: list[str] = [
    "clinicflow.analytics.reports.patients",
    "clinicflow.analytics.reports.acquisition",
    "clinicflow.analytics.reports.capacity",
    "clinicflow.analytics.reports.clinical",
    "clinicflow.analytics.reports.pricing",
    "clinicflow.analytics.reports.owner",
    "clinicflow.analytics.reports.feedback",
    "clinicflow.analytics.reports.care",
    "clinicflow.analytics.reports.loyalty",
    "clinicflow.analytics.reports.profile",
    "clinicflow.analytics.reports.marketing",
]

KINDS = ("text", "int", "money", "percent", "float", "date")


@dataclass(frozen=True)
class Column:
    key: str
    label: Any
    kind: str = "text"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown column kind {self.kind!r}")


@dataclass(frozen=True)
class ChartSpec:
    type: str  # "bar" | "line" | "heatmap"
    x: str
    series: tuple[str, ...]
    stacked: bool = False


@dataclass(frozen=True)
class Param:
    """An extra query parameter with an allowlist of values."""

    name: str
    label: Any
    choices: tuple[tuple[str, Any], ...]
    default: str


@dataclass
class ReportContext:
    org: Organization
    user: User | None
    date_from: dt.date
    date_to: dt.date
    branch: Branch | None
    params: dict[str, str] = field(default_factory=dict)

    @property
    def currency(self) -> str:
        return report_currency(self.org, self.branch)

    def start_utc(self) -> dt.datetime:
        return period_bounds(self.date_from, self.date_to, self.branch)[0]

    def end_utc(self) -> dt.datetime:
        """Exclusive end: the start of the day after ``date_to``."""
        return period_bounds(self.date_from, self.date_to, self.branch)[1]


def report_currency(org: Organization, branch: Branch | None) -> str:
    """A report's currency: the branch's, or the organisation's for the whole chain."""
    return branch.currency if branch is not None else org.currency


def period_bounds(
    date_from: dt.date, date_to: dt.date, branch: Branch | None
) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of the days ``date_from``..``date_to`` on the branch's clock (UTC for the chain)."""
    tz = branch.tz if branch is not None else dt.UTC
    return (
        dt.datetime.combine(date_from, dt.time.min, tzinfo=tz),
        dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz),
    )


@dataclass
class ReportResult:
    rows: list[dict[str, Any]]
    totals: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)
    currency: str = ""


@dataclass(frozen=True)
class ReportSpec:
    name: str
    title: Any
    description: Any
    permission: str
    columns: tuple[Column, ...]
    compute: Callable[[ReportContext], ReportResult]
    chart: ChartSpec | None = None
    params: tuple[Param, ...] = ()
    default_days: int = 90


REGISTRY: dict[str, ReportSpec] = {}


def register(spec: ReportSpec) -> ReportSpec:
    REGISTRY[spec.name] = spec
    return spec


def load_reports() -> dict[str, ReportSpec]:
    for module in REPORT_MODULES:
        importlib.import_module(module)
    return REGISTRY


def get_report(name: str) -> ReportSpec:
    load_reports()
    spec = REGISTRY.get(name)
    if spec is None:
        raise NotFound(f"unknown report {name!r}")
    return spec


def build_context(
    spec: ReportSpec, *, org: Organization, user: User | None, query: QueryDict | dict[str, str]
) -> ReportContext:
    today = timezone.localdate()
    raw_to = (query.get("to") or "").strip()
    raw_from = (query.get("from") or "").strip()
    date_to = parse_date(raw_to, today, "to")
    date_from = parse_date(raw_from, date_to - dt.timedelta(days=spec.default_days - 1), "from")
    if date_from > date_to:
        raise ValidationFailed.field("from", "must not be after 'to'")
    if (date_to - date_from).days > 366 * 10:
        raise ValidationFailed.field("from", "the period may be at most ten years")
    branch = None
    raw_branch = (query.get("branch") or "").strip()
    if raw_branch:
        branch = branch_find(org=org, key=raw_branch)
        if branch is None:
            raise ValidationFailed.field("branch", "unknown branch")
    params: dict[str, str] = {}
    for p in spec.params:
        value = (query.get(p.name) or p.default).strip()
        allowed = [c for c, _ in p.choices]
        if value not in allowed:
            raise ValidationFailed.field(p.name, f"must be one of {', '.join(allowed)}")
        params[p.name] = value
    return ReportContext(
        org=org, user=user, date_from=date_from, date_to=date_to, branch=branch, params=params
    )


def run_report(spec: ReportSpec, ctx: ReportContext) -> ReportResult:
    result = spec.compute(ctx)
    if not result.currency:
        result.currency = ctx.currency
    exact_money(spec, result)
    return result


def exact_money(spec: ReportSpec, result: ReportResult) -> None:
    """Every money cell leaves the report as a ``Decimal`` in the currency's minor units: a float (a
    database's REAL sum, a float ratio) is refused, never shown with its binary residue."""
    keys = [c.key for c in spec.columns if c.kind == "money"]
    for row in [*result.rows, *([result.totals] if result.totals else [])]:
        for key in keys:
            value = row.get(key)
            if value is None or value == "":
                continue
            if not isinstance(value, Decimal):
                raise MoneyError(f"report {spec.name!r}: money column {key!r} is {type(value).__name__}")
            row[key] = quantize(value, result.currency)


def json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def result_to_json(spec: ReportSpec, ctx: ReportContext, result: ReportResult) -> dict[str, Any]:
    return {
        "name": spec.name,
        "title": str(spec.title),
        "from": ctx.date_from.isoformat(),
        "to": ctx.date_to.isoformat(),
        "branch": str(ctx.branch.pk) if ctx.branch else None,
        "params": ctx.params,
        "currency": result.currency,
        "columns": [{"key": c.key, "label": str(c.label), "kind": c.kind} for c in spec.columns],
        "rows": [{k: json_value(v) for k, v in row.items()} for row in result.rows],
        "totals": {k: json_value(v) for k, v in result.totals.items()} if result.totals else None,
        "notes": [str(n) for n in result.notes],
    }


def ratio(numerator: float | Decimal | int, denominator: float | Decimal | int) -> float | None:
    """A share in 0..1, or None when the denominator is zero."""
    if not denominator:
        return None
    return float(numerator) / float(denominator)


def money_ratio(numerator: Decimal, denominator: int | Decimal) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(Decimal("0.01"))
