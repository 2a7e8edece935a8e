"""The what-if planner's API, mounted at /api/v1/whatif: the levers now, a prediction, the seed-004
comparison, saved scenarios and the hypothesis log (``reports.owner``)."""

import datetime as dt
from typing import Any

from ninja import Field, Router, Schema
from ninja.responses import Status

from clinicflow.accounts.api_auth import ApiRequest, api_perm
from clinicflow.analytics.pricing import services as svc
from clinicflow.analytics.pricing.compare import compare_first_patients
from clinicflow.analytics.pricing.models import Hypothesis, PlanScenario
from clinicflow.core.api import ERRORS

router = Router(tags=["whatif"])
PERM = "reports.owner"


class PredictIn(Schema):
    levers: dict[str, Any] = Field(
        default_factory=dict,
        description="lever name → value, e.g. {'first_visit_price': 2250, "
        "'channels.search_ads.monthly_spend': 390000}",
    )
    months: int = Field(6, description="months to predict after the last whole month (1-24)")


class PlanOut(Schema):
    currency: str
    history_from: str
    history_to: str
    current: dict[str, str]
    prediction: dict[str, Any]
    baseline: dict[str, Any]


class ScenarioIn(PredictIn):
    name: str
    note: str = ""


class ScenarioOut(Schema):
    id: str
    name: str
    note: str
    levers: dict[str, Any]
    months: int
    first_month: dt.date
    prediction: dict[str, Any]
    baseline: dict[str, Any]
    created_by: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


class HypothesisIn(Schema):
    idea: str
    start: dt.date
    end: dt.date
    scenario: str | None = Field(
        None, description="the saved scenario whose prediction is the expected effect"
    )


class DecisionIn(Schema):
    decision: str


class HypothesisOut(Schema):
    id: str
    idea: str
    scenario: str | None
    expected: dict[str, Any]
    start: dt.date
    end: dt.date
    measured: dict[str, Any]
    measured_at: dt.datetime | None
    decision: str
    status: str


def _plan_out(plan: svc.Plan) -> dict[str, Any]:
    m = plan.model
    return {
        "currency": m.currency,
        "history_from": m.months[0].strftime("%Y-%m"),
        "history_to": m.last_month.strftime("%Y-%m"),
        "current": {k: str(v) for k, v in m.current().items()},
        "prediction": plan.prediction.as_json(),
        "baseline": plan.baseline.as_json(),
    }


def _scenario_out(s: PlanScenario) -> dict[str, Any]:
    return {
        "id": str(s.pk),
        "name": s.name,
        "note": s.note,
        "levers": s.levers,
        "months": s.months,
        "first_month": s.first_month,
        "prediction": s.prediction,
        "baseline": s.baseline,
        "created_by": s.created_by.full_name if s.created_by else None,
        "created_at": s.created_at,
        "updated_at": s.updated_at,
    }


def _hypothesis_out(h: Hypothesis) -> dict[str, Any]:
    return {
        "id": str(h.pk),
        "idea": h.idea,
        "scenario": str(h.scenario_id) if h.scenario_id else None,
        "expected": h.expected,
        "start": h.start,
        "end": h.end,
        "measured": h.measured,
        "measured_at": h.measured_at,
        "decision": h.decision,
        "status": h.status,
    }


@router.post("/predict", response={200: PlanOut, **ERRORS})
@api_perm(PERM, audit_object="whatif")
def predict(request: ApiRequest, payload: PredictIn) -> dict[str, Any]:
    """Month-by-month calls, first visits, revenue (first and repeat), gross margin, load and the
    binding limit under the levers, with 95% intervals (``low``/``high``), beside the baseline."""
    return _plan_out(svc.plan_predict(org=request.org, levers=payload.levers, months=payload.months))


@router.get("/comparison", response={200: dict[str, Any], **ERRORS})
@api_perm(PERM, audit_object="whatif")
def comparison(request: ApiRequest, extra: int = 10) -> dict[str, Any]:
    """Seed 004's comparison: the monthly cost of ``extra`` more first patients by a first-visit price
    cut against buying them through each paid channel at its marginal cost."""
    return compare_first_patients(svc.plan_model(org=request.org), extra).as_json()


@router.get("/scenarios", response={200: list[ScenarioOut], **ERRORS})
@api_perm(PERM, audit_object="whatif")
def scenario_list(request: ApiRequest) -> list[dict[str, Any]]:
    return [_scenario_out(s) for s in svc.scenario_list(org=request.org)]


@router.post("/scenarios", response={201: ScenarioOut, **ERRORS})
@api_perm(PERM, audit_object="whatif")
def scenario_create(request: ApiRequest, payload: ScenarioIn) -> Status[dict[str, Any]]:
    s = svc.scenario_save(
        org=request.org,
        actor=request.auth,
        name=payload.name,
        levers=payload.levers,
        months=payload.months,
        note=payload.note,
    )
    return Status(201, _scenario_out(s))


@router.get("/scenarios/{scenario_id}", response={200: ScenarioOut, **ERRORS})
@api_perm(PERM, audit_object="whatif")
def scenario_detail(request: ApiRequest, scenario_id: str) -> dict[str, Any]:
    return _scenario_out(svc.scenario_get(org=request.org, scenario_id=scenario_id))


@router.put("/scenarios/{scenario_id}", response={200: ScenarioOut, **ERRORS})
@api_perm(PERM, audit_object="whatif")
def scenario_update(request: ApiRequest, scenario_id: str, payload: ScenarioIn) -> dict[str, Any]:
    row = svc.scenario_get(org=request.org, scenario_id=scenario_id)
    s = svc.scenario_save(
        org=request.org,
        actor=request.auth,
        name=payload.name,
        levers=payload.levers,
        months=payload.months,
        note=payload.note,
        scenario=row,
    )
    return _scenario_out(s)


@router.delete("/scenarios/{scenario_id}", response={204: None, **ERRORS})
@api_perm(PERM, audit_object="whatif")
def scenario_delete(request: ApiRequest, scenario_id: str) -> Status[None]:
    row = svc.scenario_get(org=request.org, scenario_id=scenario_id)
    svc.scenario_delete(org=request.org, actor=request.auth, scenario=row)
    return Status(204, None)


@router.get("/hypotheses", response={200: list[HypothesisOut], **ERRORS})
@api_perm(PERM, audit_object="whatif")
def hypothesis_list(request: ApiRequest) -> list[dict[str, Any]]:
    return [_hypothesis_out(h) for h in svc.hypothesis_list(org=request.org)]


@router.post("/hypotheses", response={201: HypothesisOut, **ERRORS})
@api_perm(PERM, audit_object="whatif")
def hypothesis_create(request: ApiRequest, payload: HypothesisIn) -> Status[dict[str, Any]]:
    scenario = svc.scenario_get(org=request.org, scenario_id=payload.scenario) if payload.scenario else None
    h = svc.hypothesis_log(
        org=request.org,
        actor=request.auth,
        idea=payload.idea,
        start=payload.start,
        end=payload.end,
        scenario=scenario,
    )
    return Status(201, _hypothesis_out(h))


@router.post("/hypotheses/{hypothesis_id}/measure", response={200: HypothesisOut, **ERRORS})
@api_perm(PERM, audit_object="whatif")
def hypothesis_measure(request: ApiRequest, hypothesis_id: str) -> dict[str, Any]:
    h = svc.hypothesis_get(org=request.org, hypothesis_id=hypothesis_id)
    return _hypothesis_out(svc.hypothesis_measure(org=request.org, actor=request.auth, hypothesis=h))


@router.post("/hypotheses/{hypothesis_id}/decide", response={200: HypothesisOut, **ERRORS})
@api_perm(PERM, audit_object="whatif")
def hypothesis_decide(request: ApiRequest, hypothesis_id: str, payload: DecisionIn) -> dict[str, Any]:
    h = svc.hypothesis_get(org=request.org, hypothesis_id=hypothesis_id)
    return _hypothesis_out(
        svc.hypothesis_decide(org=request.org, actor=request.auth, hypothesis=h, decision=payload.decision)
    )


@router.delete("/hypotheses/{hypothesis_id}", response={204: None, **ERRORS})
@api_perm(PERM, audit_object="whatif")
def hypothesis_delete(request: ApiRequest, hypothesis_id: str) -> Status[None]:
    h = svc.hypothesis_get(org=request.org, hypothesis_id=hypothesis_id)
    svc.hypothesis_delete(org=request.org, actor=request.auth, hypothesis=h)
    return Status(204, None)
