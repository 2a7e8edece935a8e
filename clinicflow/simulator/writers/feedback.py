"""The engine's answered surveys, written through the feedback app's models: the survey (its link
long expired: the token hash is derived from the row's id and no token maps to it), the answer with
the consultant and the expectation of the patient's consultation (the engine's own values, as the
clinical writer rounds them), and a complaint for each detractor's answer (the product's routing
rule: ``feedback.services.answers``), resolved unless it is younger than its deadline."""

from __future__ import annotations

import hashlib

import numpy as np

from clinicflow.feedback.models import (
    CSAT_MAX,
    DETRACTOR_MAX,
    Complaint,
    ComplaintEvent,
    ComplaintStatus,
    Survey,
    SurveyAnswer,
    SurveyKind,
)
from clinicflow.feedback.services.answers import CSAT_UNHAPPY_MAX, FAR_BELOW_EXPECTATION
from clinicflow.simulator.engine.core import DAY_S
from clinicflow.simulator.engine.ids import uuid7_array
from clinicflow.simulator.writers.base import Columns, SinkBase, pick

SENT_BEFORE_ANSWER_S = 3600  # the engine answers at least 2 h after the visit: sent an hour before
VALID_S = 14 * DAY_S
DEADLINE_S = 48 * 3600
RESOLUTION = "Called the patient; resolved."
assert CSAT_MAX == 5


def _token_hashes(ids: np.ndarray) -> list[str]:
    raw = np.ascontiguousarray(ids, dtype=np.uint8).reshape(-1, 16)
    return [hashlib.sha256(b"sim-survey:" + row.tobytes()).hexdigest() for row in raw]


def write_surveys(out: SinkBase, c: Columns) -> None:
    sim, ctx = out.sim, out.ctx
    n = len(c["nps"])
    at = np.asarray(c["at"], dtype=np.int64)
    pidx = np.asarray(c["patient"], dtype=np.int64)
    nps = np.asarray(c["nps"], dtype=np.int64)
    csat = np.asarray(c["csat"], dtype=np.int64)
    has_result = "result" in c
    result = np.asarray(c["result"], dtype=np.int64) if has_result else np.zeros(n, dtype=np.int64)
    consultant = np.asarray(sim.pat["first_doctor"][pidx], dtype=np.int64)
    no_consult = consultant < 0
    expectation = np.clip(np.round(sim.pat["expectation"][pidx]), 0, 10).astype(np.int64)
    service = np.asarray(c["service"], dtype=np.int64) if "service" in c else np.full(n, -1, dtype=np.int64)
    language = sim.scn.language if sim.scn.language in ("en", "ru", "zh-hans") else "en"
    sent = at - SENT_BEFORE_ANSWER_S
    patients = out.pid(pidx)
    doctors = ctx.doctor[c["doctor"]]
    branches = ctx.branch[c["branch"]]
    survey_ids = np.asarray(c["id"])
    out.put(
        Survey,
        {
            "id": survey_ids,
            "appointment": c["appointment"],
            "patient": patients,
            "doctor": doctors,
            "branch": branches,
            "service": pick(ctx.service, service),
            "service__null": service < 0,
            "kind": SurveyKind.AFTER_VISIT.value,
            "token_hash": _token_hashes(survey_ids),
            "language": language,
            "created_at": sent,
            "sent_at": sent,
            "expires_at": sent + VALID_S,
            "answered_at": at,
        },
    )
    answer_ids = uuid7_array(sim.id_rng, at * 1000 + 1)
    out.put(
        SurveyAnswer,
        {
            "id": answer_ids,
            "survey": survey_ids,
            "patient": patients,
            "doctor": doctors,
            "branch": branches,
            "service": pick(ctx.service, service),
            "service__null": service < 0,
            "consultant": pick(ctx.doctor, consultant),
            "consultant__null": no_consult,
            "nps": nps,
            "csat": csat,
            "result": result,
            "result__null": np.full(n, not has_result),
            "expectation": expectation,
            "expectation__null": no_consult,
            "tags": [[] for _ in range(n)],
            "comment": "",
            "answered_at": at,
        },
    )
    far = (~no_consult) & has_result & (expectation - result >= FAR_BELOW_EXPECTATION)
    bad = (nps <= DETRACTOR_MAX) | (csat <= CSAT_UNHAPPY_MAX) | far
    if bad.any():
        _complaints(out, c, bad, answer_ids, nps, csat, result, expectation, far)


def _complaints(
    out: SinkBase,
    c: Columns,
    bad: np.ndarray,
    answer_ids: np.ndarray,
    nps: np.ndarray,
    csat: np.ndarray,
    result: np.ndarray,
    expectation: np.ndarray,
    far: np.ndarray,
) -> None:
    sim, ctx = out.sim, out.ctx
    at = np.asarray(c["at"], dtype=np.int64)[bad]
    k = int(bad.sum())
    reasons = []
    for p, s, r, e, f in zip(
        nps[bad].tolist(),
        csat[bad].tolist(),
        result[bad].tolist(),
        expectation[bad].tolist(),
        far[bad].tolist(),
        strict=True,
    ):
        parts = []
        if p <= DETRACTOR_MAX:
            parts.append(f"NPS {p}")
        if s <= CSAT_UNHAPPY_MAX:
            parts.append(f"CSAT {s}")
        if f:
            parts.append(f"result {r} / expected {e}")
        reasons.append(", ".join(parts))
    deadline = at + DEADLINE_S
    took = (sim.id_rng.random(k) * (DEADLINE_S * 1.5) + 3600).astype(np.int64)  # some miss the deadline
    closed_at = at + took
    done = closed_at <= ctx.now
    ids = uuid7_array(sim.id_rng, at * 1000 + 2)
    out.put(
        Complaint,
        {
            "id": ids,
            "answer": answer_ids[bad],
            "patient": out.pid(np.asarray(c["patient"])[bad]),
            "branch": ctx.branch[np.asarray(c["branch"])[bad]],
            "doctor": ctx.doctor[np.asarray(c["doctor"])[bad]],
            "owner": None,
            "reason": reasons,
            "status": np.where(done, ComplaintStatus.RESOLVED.value, ComplaintStatus.NEW.value).tolist(),
            "deadline": deadline,
            "resolution": np.where(done, RESOLUTION, "").tolist(),
            "created_at": at,
            "closed_at": closed_at,
            "closed_at__null": ~done,
        },
    )
    out.put(
        ComplaintEvent,
        {
            "id": uuid7_array(sim.id_rng, at * 1000 + 3),
            "complaint": ids,
            "status_from": "",
            "status_to": ComplaintStatus.NEW.value,
            "note": reasons,
            "actor": None,
            "at": at,
        },
    )
    if done.any():
        out.put(
            ComplaintEvent,
            {
                "id": uuid7_array(sim.id_rng, closed_at[done] * 1000),
                "complaint": ids[done],
                "status_from": ComplaintStatus.NEW.value,
                "status_to": ComplaintStatus.RESOLVED.value,
                "note": RESOLUTION,
                "actor": None,
                "at": closed_at[done],
            },
        )
