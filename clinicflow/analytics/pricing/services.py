"""The planner's services: a prediction for a set of levers (the fitted model cached per organisation
and month, so moving a lever recomputes in milliseconds), saved scenarios and the hypothesis log.

Scenarios and hypotheses are the organisation's; anyone with ``reports.owner`` reads and logs them,
and a scenario or hypothesis is changed or deleted by its author or an owner."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from clinicflow.accounts.models import User
from clinicflow.accounts.roles import Role
from clinicflow.analytics.pricing.forecast import Forecast, forecast
from clinicflow.analytics.pricing.history import realised
from clinicflow.analytics.pricing.levers import LeverError, parse_levers
from clinicflow.analytics.pricing.models import Hypothesis, HypothesisStatus, PlanScenario
from clinicflow.analytics.pricing.whatif import NotEnoughHistory, PlanModel, build_plan
from clinicflow.core.errors import NotFound, PermissionDenied, ValidationFailed
from clinicflow.core.models import Organization

MAX_MONTHS = 24
CACHE_SECONDS = 3600
FIGURES = ("unique_calls", "first_visits", "revenue")


@dataclass
class Plan:
    model: PlanModel
    prediction: Forecast
    baseline: Forecast


def plan_model(*, org: Organization, as_of: dt.date | None = None) -> PlanModel:
    """The planner fitted on the whole months before ``as_of`` (default: today), cached."""
    as_of = (as_of or timezone.localdate()).replace(day=1)
    key = f"whatif:2:{org.pk}:{as_of:%Y-%m}"  # 2: the repeat lever's return links (#18)
    model = cache.get(key)
    if model is None:
        try:
            model = build_plan(org=org, as_of=as_of)
        except NotEnoughHistory as exc:
            raise ValidationFailed.field("history", f"cannot plan: {exc}") from None
        cache.set(key, model, CACHE_SECONDS)
    return model  # type: ignore[no-any-return]


def plan_predict(
    *, org: Organization, levers: Mapping[str, object], months: int = 6, as_of: dt.date | None = None
) -> Plan:
    if not 1 <= months <= MAX_MONTHS:
        raise ValidationFailed.field("months", f"must be between 1 and {MAX_MONTHS}")
    model = plan_model(org=org, as_of=as_of)
    try:
        parsed = parse_levers(model, {k: v for k, v in levers.items() if v not in (None, "")})
    except LeverError as exc:
        raise ValidationFailed.field(exc.field, exc.message) from None
    return Plan(model=model, prediction=forecast(model, parsed, months), baseline=forecast(model, [], months))


def _may_change(actor: User, row: PlanScenario | Hypothesis) -> None:
    if actor.role != Role.OWNER and row.created_by_id != actor.pk:
        raise PermissionDenied("only its author or an owner may change this")


@transaction.atomic
def scenario_save(
    *,
    org: Organization,
    actor: User,
    name: str,
    levers: Mapping[str, object],
    months: int = 6,
    note: str = "",
    scenario: PlanScenario | None = None,
) -> PlanScenario:
    """Create (or, given ``scenario``, update) a saved scenario with a fresh prediction."""
    name = name.strip()
    if not name:
        raise ValidationFailed.field("name", "is required")
    if scenario is not None:
        _may_change(actor, scenario)
    plan = plan_predict(org=org, levers=levers, months=months)
    row = scenario or PlanScenario(organization=org, created_by=actor)
    row.name, row.note, row.months = name[:200], note, months
    row.levers = plan.prediction.levers
    row.first_month = dt.date.fromisoformat(plan.prediction.months[0]["month"] + "-01")
    row.prediction, row.baseline = plan.prediction.as_json(), plan.baseline.as_json()
    row.updated_at = timezone.now()
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        raise ValidationFailed.field("name", "a scenario of this name exists") from None
    return row


@transaction.atomic
def scenario_delete(*, org: Organization, actor: User, scenario: PlanScenario) -> None:
    _may_change(actor, scenario)
    PlanScenario.objects.for_org(org).filter(pk=scenario.pk).delete()


def _expected(scenario: PlanScenario) -> dict[str, Any]:
    pred, base = scenario.prediction.get("totals", {}), scenario.baseline.get("totals", {})
    out: dict[str, Any] = {"levers": scenario.levers, "months": scenario.months}
    for k in FIGURES:
        if k in pred and k in base:
            out[k] = {
                "predicted": str(pred[k]),
                "low": str(pred["low"][k]),
                "high": str(pred["high"][k]),
                "baseline": str(base[k]),
                "change": str(Decimal(str(pred[k])) - Decimal(str(base[k]))),
            }
    return out


@transaction.atomic
def hypothesis_log(
    *,
    org: Organization,
    actor: User,
    idea: str,
    start: dt.date,
    end: dt.date,
    scenario: PlanScenario | None = None,
) -> Hypothesis:
    idea = idea.strip()
    if not idea:
        raise ValidationFailed.field("idea", "is required")
    if end < start:
        raise ValidationFailed.field("end", "must not be before the start")
    return Hypothesis.objects.create(
        organization=org,
        idea=idea[:300],
        scenario=scenario,
        expected=_expected(scenario) if scenario is not None else {},
        start=start,
        end=end,
        created_by=actor,
    )


@transaction.atomic
def hypothesis_measure(*, org: Organization, actor: User, hypothesis: Hypothesis) -> Hypothesis:
    """The realised figures of the hypothesis's whole months, beside the prediction and its interval."""
    today = timezone.localdate()
    if hypothesis.end >= today:
        raise ValidationFailed.field("end", "the period is not over yet")
    first = hypothesis.start.replace(day=1)
    rows = realised(org=org, date_from=first, date_to=hypothesis.end)
    measured: dict[str, Any] = {"months": rows}
    for k in FIGURES:
        total = sum(float(str(r[k])) for r in rows)
        item: dict[str, Any] = {"realised": round(total, 2)}
        exp = hypothesis.expected.get(k)
        if exp:
            pred = float(exp["predicted"])
            item["predicted"] = pred
            item["error"] = round((pred - total) / total, 4) if total else None
            item["inside_interval"] = float(exp["low"]) <= total <= float(exp["high"])
        measured[k] = item
    hypothesis.measured, hypothesis.measured_at = measured, timezone.now()
    if hypothesis.status == HypothesisStatus.PLANNED:
        hypothesis.status = HypothesisStatus.MEASURED
    hypothesis.updated_at = timezone.now()
    hypothesis.save()
    return hypothesis


@transaction.atomic
def hypothesis_decide(*, org: Organization, actor: User, hypothesis: Hypothesis, decision: str) -> Hypothesis:
    _may_change(actor, hypothesis)
    decision = decision.strip()
    if not decision:
        raise ValidationFailed.field("decision", "is required")
    hypothesis.decision, hypothesis.status, hypothesis.updated_at = (
        decision,
        HypothesisStatus.DECIDED,
        timezone.now(),
    )
    hypothesis.save(update_fields=["decision", "status", "updated_at"])
    return hypothesis


@transaction.atomic
def hypothesis_delete(*, org: Organization, actor: User, hypothesis: Hypothesis) -> None:
    _may_change(actor, hypothesis)
    Hypothesis.objects.for_org(org).filter(pk=hypothesis.pk).delete()


def scenario_get(*, org: Organization, scenario_id: object) -> PlanScenario:
    row = PlanScenario.objects.for_org(org).filter(pk=_uuid(scenario_id)).first()
    if row is None:
        raise NotFound("no such scenario")
    return row


def scenario_list(*, org: Organization) -> list[PlanScenario]:
    return list(PlanScenario.objects.for_org(org).select_related("created_by").order_by("-created_at")[:200])


def hypothesis_get(*, org: Organization, hypothesis_id: object) -> Hypothesis:
    row = Hypothesis.objects.for_org(org).filter(pk=_uuid(hypothesis_id)).select_related("scenario").first()
    if row is None:
        raise NotFound("no such hypothesis")
    return row


def hypothesis_list(*, org: Organization) -> list[Hypothesis]:
    return list(
        Hypothesis.objects.for_org(org)
        .select_related("scenario", "created_by")
        .order_by("-start", "-created_at")[:200]
    )


def _uuid(value: object) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NotFound("no such row") from None
