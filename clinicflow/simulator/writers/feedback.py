"""The engine's surveys, written through the feedback app's models: every survey sent (after the visit,
and when the result has settled; the token hash is derived from the row's id, so no token maps to
it); for the answered ones the answer with its improvement tags (the organisation's default tags, made
with its branches' default review-site links on the first chunk), the consultant and the expectation
of the patient's consultation (the engine's own values, as the clinical writer rounds them), and a
complaint for each detractor's answer (the product's routing rule: ``feedback.services.answers``),
resolved unless it is younger than its deadline."""

from __future__ import annotations

import hashlib
import weakref

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
from clinicflow.feedback.services.settings import improvement_tags_ensure, review_links_ensure
from clinicflow.simulator.engine.core import DAY_S
from clinicflow.simulator.engine.ids import uuid7_array
from clinicflow.simulator.engine.visits import TAGS
from clinicflow.simulator.writers.base import Columns, SinkBase, pick

VALID_S = 14 * DAY_S
DEADLINE_S = 48 * 3600
RESOLUTION = "Called the patient; resolved."
assert CSAT_MAX == 5
_tags: weakref.WeakKeyDictionary[SinkBase, list[str]] = weakref.WeakKeyDictionary()


def _token_hashes(ids: np.ndarray) -> list[str]:
    raw = np.ascontiguousarray(ids, dtype=np.uint8).reshape(-1, 16)
    return [hashlib.sha256(b"sim-survey:" + row.tobytes()).hexdigest() for row in raw]


def _tag_ids(out: SinkBase) -> list[str]:
    """The organisation's default improvement tags (``TAGS`` order) and its branches' default
    review-site links, made once per sink; the ids of the tags as strings (as answers hold them)."""
    if out not in _tags:
        org = out.ctx.org
        tags = improvement_tags_ensure(org=org)
        review_links_ensure(org=org)
        _tags[out] = [str(tags[key].pk) for key in TAGS]
    return _tags[out]


def _tag_lists(out: SinkBase, bits: np.ndarray) -> list[list[str]]:
    ids = _tag_ids(out)
    return [[ids[i] for i in range(len(TAGS)) if b >> i & 1] for b in bits.tolist()]


def write_surveys(out: SinkBase, c: Columns) -> None:
    """Every sent survey; the answered ones with their answer (and complaint, for a detractor)."""
    sim, ctx = out.sim, out.ctx
    n = len(c["nps"])
    sent = np.asarray(c["sent"], dtype=np.int64)
    at = np.asarray(c["at"], dtype=np.int64)
    answered = np.asarray(c["answered"], dtype=bool)
    pidx = np.asarray(c["patient"], dtype=np.int64)
    service = np.asarray(c["service"], dtype=np.int64) if "service" in c else np.full(n, -1, dtype=np.int64)
    kinds = np.where(
        np.asarray(c["kind"]) == 1, SurveyKind.SETTLED.value, SurveyKind.AFTER_VISIT.value
    ).tolist()
    language = sim.scn.language if sim.scn.language in ("en", "ru", "zh-hans") else "en"
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
            "kind": kinds,
            "token_hash": _token_hashes(survey_ids),
            "language": language,
            "created_at": sent,
            "sent_at": sent,
            "expires_at": sent + VALID_S,
            "answered_at": at,
            "answered_at__null": ~answered,
        },
    )
    a = np.flatnonzero(answered)
    if not a.size:
        return
    at, pidx, service = at[a], pidx[a], service[a]
    nps = np.asarray(c["nps"], dtype=np.int64)[a]
    csat = np.asarray(c["csat"], dtype=np.int64)[a]
    result = np.asarray(c["result"], dtype=np.int64)[a]
    consultant = np.asarray(sim.pat["first_doctor"][pidx], dtype=np.int64)
    no_consult = consultant < 0
    expectation = np.clip(np.round(sim.pat["expectation"][pidx]), 0, 10).astype(np.int64)
    answer_ids = uuid7_array(sim.id_rng, at * 1000 + 1)
    out.put(
        SurveyAnswer,
        {
            "id": answer_ids,
            "survey": survey_ids[a],
            "patient": patients[a],
            "doctor": doctors[a],
            "branch": branches[a],
            "service": pick(ctx.service, service),
            "service__null": service < 0,
            "consultant": pick(ctx.doctor, consultant),
            "consultant__null": no_consult,
            "nps": nps,
            "csat": csat,
            "result": result,
            "expectation": expectation,
            "expectation__null": no_consult,
            "tags": _tag_lists(out, np.asarray(c["tags"], dtype=np.int64)[a]),
            "comment": "",
            "answered_at": at,
        },
    )
    far = (~no_consult) & (expectation - result >= FAR_BELOW_EXPECTATION)
    bad = (nps <= DETRACTOR_MAX) | (csat <= CSAT_UNHAPPY_MAX) | far
    if bad.any():
        sub = {k: np.asarray(c[k])[a] for k in ("at", "patient", "branch", "doctor")}
        _complaints(out, sub, bad, answer_ids, nps, csat, result, expectation, far)


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
