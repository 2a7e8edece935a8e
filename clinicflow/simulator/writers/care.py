"""The engine's follow-up tasks and recall contacts, written through the care app's models in bulk.

Once per organisation (the first chunk) the rows the tasks and contacts point at are made through the
ORM: a plan of no service, "Simulated aftercare", with one step per follow-up day of the scenario
(``[aftercare] followup_days``: day 1 a call by the doctor, later a check-up by the front desk), and
the standard recall lists (``care.services.recall``); the engine's recall campaigns call lapsed
patients, so their contacts go to the "lapsed" list.

Follow-ups: ``due`` is the engine's deadline (the visit's end plus the offset); a done task was done
before it (``done_at`` = an hour before: the engine does not say when) with outcome "reached"; a task
neither open nor done is missed. Recall contacts: every contact reached the patient; one who booked
(outcome ``week`` or ``two_months``) gets ``booked_at`` three days before the visit the call brought —
the engine books one to five days ahead — kept inside the outcome's window (0-7 or 8-60 days after the
call), since the engine emits the visit's day, not the moment of the booking."""

from __future__ import annotations

import uuid
import weakref

import numpy as np

from clinicflow.care.models import Action, FollowUpPlan, FollowUpStep, RecallKind, RecallList
from clinicflow.care.models import FollowUpTask as Task
from clinicflow.care.models import RecallContact as Contact
from clinicflow.care.services.recall import recall_lists_ensure
from clinicflow.simulator.engine.core import DAY_S
from clinicflow.simulator.engine.recall import RETURN_TWO_MONTHS, RETURN_WEEK
from clinicflow.simulator.writers.base import Columns, SinkBase

SIM_PLAN = "Simulated aftercare"
DONE_BEFORE_DUE_S = 3600
BOOKED_BEFORE_VISIT_S = 3 * DAY_S

_steps: weakref.WeakKeyDictionary[SinkBase, tuple[np.ndarray, list[str], list[str], np.ndarray]] = (
    weakref.WeakKeyDictionary()
)
_lapsed: weakref.WeakKeyDictionary[SinkBase, uuid.UUID] = weakref.WeakKeyDictionary()


def _sim_steps(out: SinkBase) -> tuple[np.ndarray, list[str], list[str], np.ndarray]:
    """(offsets sorted, action per offset, role per offset, step ids as (n, 16) uint8) — made once."""
    if out in _steps:
        return _steps[out]
    org = out.ctx.org
    days = sorted(int(d) for d in out.sim.scn.aftercare["followup_days"])
    plan = FollowUpPlan.objects.for_org(org).filter(service__isnull=True, name=SIM_PLAN).first()
    if plan is None:
        plan = FollowUpPlan.objects.create(organization=org, service=None, name=SIM_PLAN, is_active=False)
    have = {s.day_offset: s for s in FollowUpStep.objects.for_org(org).filter(plan=plan)}
    steps = []
    for i, d in enumerate(days):
        step = have.get(d)
        if step is None:
            action = Action.CALL if d <= 1 else Action.CHECKUP
            role = "doctor" if d <= 1 else "frontdesk"
            step = FollowUpStep.objects.create(
                organization=org, plan=plan, position=i, action=action, day_offset=d, assignee_role=role
            )
        steps.append(step)
    ids = np.array([np.frombuffer(s.pk.bytes, dtype=np.uint8) for s in steps], dtype=np.uint8)
    made = (
        np.array(days, dtype=np.int64),
        [s.action for s in steps],
        [s.assignee_role for s in steps],
        ids.reshape(-1, 16),
    )
    _steps[out] = made
    return made


def write_followups(out: SinkBase, c: Columns) -> None:
    ctx, cal = out.ctx, out.sim.cal
    offsets, actions, roles, step_ids = _sim_steps(out)
    k = np.clip(np.searchsorted(offsets, c["day_offset"]), 0, offsets.size - 1)
    due = np.asarray(c["due"], dtype=np.int64)
    branch = np.asarray(c["branch"], dtype=np.int64)
    day = np.clip(due // DAY_S - cal.day_epoch[0], 0, cal.utc_offset_min.shape[1] - 1)
    local_day = (due + cal.utc_offset_min[branch, day].astype(np.int64) * 60) // DAY_S
    done, open_ = np.asarray(c["done"], dtype=bool), np.asarray(c["open"], dtype=bool)
    status = np.where(open_, "open", np.where(done, "done", "missed"))
    out.put(
        Task,
        {
            "id": c["id"],
            "appointment": c["appointment"],
            "step": step_ids[k],
            "patient": out.pid(c["patient"]),
            "branch": ctx.branch[branch],
            "doctor": ctx.doctor[c["doctor"]],
            "action": np.array(actions, dtype=object)[k].tolist(),
            "assignee_role": np.array(roles, dtype=object)[k].tolist(),
            "day_offset": np.asarray(c["day_offset"], dtype=np.int64),
            "due_on": local_day,
            "due_at": due,
            "status": status.tolist(),
            "outcome": np.where(done, "reached", "").tolist(),
            "done_at": due - DONE_BEFORE_DUE_S,
            "done_at__null": ~done,
            "attempts": done.astype(np.int64),
            "created_at": due - np.asarray(c["day_offset"], dtype=np.int64) * DAY_S,
        },
    )


def _lapsed_list(out: SinkBase) -> uuid.UUID:
    if out not in _lapsed:
        org = out.ctx.org
        recall_lists_ensure(org=org)
        _lapsed[out] = RecallList.objects.for_org(org).get(kind=RecallKind.LAPSED).pk
    return _lapsed[out]


def write_recall_contacts(out: SinkBase, c: Columns) -> None:
    cal = out.sim.cal
    at = np.asarray(c["at"], dtype=np.int64)
    outcome = np.asarray(c["outcome"], dtype=np.int64)
    ret = np.asarray(c["returned_day"], dtype=np.int64)
    visit = cal.day_epoch[np.maximum(ret, 0)] * DAY_S
    guess = visit - BOOKED_BEFORE_VISIT_S
    week = outcome == RETURN_WEEK
    later = outcome == RETURN_TWO_MONTHS
    lo = np.where(week, at, at + 7 * DAY_S + 1)
    hi = np.where(week, at + 7 * DAY_S, at + 60 * DAY_S)
    booked = np.clip(guess, lo, hi)
    out.put(
        Contact,
        {
            "id": c["id"],
            "recall_list": _lapsed_list(out),
            "patient": out.pid(c["patient"]),
            "channel": "call",
            "outcome": np.where(week | later, "booked", "reached").tolist(),
            "contacted_at": at,
            "booked_at": booked,
            "booked_at__null": ~(week | later),
        },
    )
