"""The simulator's own records (no product table holds them yet): surveys, follow-ups, memberships
(and their payments), points, referrals, recall campaigns."""

from __future__ import annotations

import numpy as np

from clinicflow.booking.models import Payment, PaymentKind, PaymentMethod
from clinicflow.simulator import models as sm
from clinicflow.simulator.engine.core import DAY_S
from clinicflow.simulator.engine.ids import uuid7_array
from clinicflow.simulator.engine.recall import OUTCOMES
from clinicflow.simulator.scenario import MEMBERSHIP_KINDS
from clinicflow.simulator.writers.base import Columns, SinkBase, pick


def write_surveys(out: SinkBase, c: Columns) -> None:
    ctx = out.ctx
    out.put(
        sm.SurveyAnswer,
        {
            "id": c["id"],
            "appointment": c["appointment"],
            "patient": out.pid(c["patient"]),
            "doctor": ctx.doctor[c["doctor"]],
            "branch": ctx.branch[c["branch"]],
            "nps": c["nps"],
            "csat": c["csat"],
            "answered_at": c["at"],
        },
    )


def write_followups(out: SinkBase, c: Columns) -> None:
    ctx = out.ctx
    out.put(
        sm.FollowUpTask,
        {
            "id": c["id"],
            "appointment": c["appointment"],
            "patient": out.pid(c["patient"]),
            "doctor": ctx.doctor[c["doctor"]],
            "branch": ctx.branch[c["branch"]],
            "day_offset": c["day_offset"],
            "due_at": c["due"],
            "status": np.where(c["open"], "open", np.where(c["done"], "done", "missed")).tolist(),
        },
    )


def write_memberships(out: SinkBase, c: Columns) -> None:
    ctx = out.ctx
    out.put(
        sm.Membership,
        {
            "id": c["id"],
            "patient": out.pid(c["patient"]),
            "branch": ctx.branch[c["branch"]],
            "kind": [sm.MembershipKind(MEMBERSHIP_KINDS[int(k)]).value for k in c["kind"]],
            "price": c["price"],
            "bonus": c["bonus"],
            "currency": ctx.currency,
            "sessions": c["sessions"],
            "service": pick(ctx.service, c["service"]),
            "service__null": c["service"] < 0,
            "started_at": c["started"],
            "ends_at": c["ends"],
        },
    )
    # the membership is paid for (no appointment)
    pay = c["price"] > 0
    out.put(
        Payment,
        {
            "id": uuid7_array(out.sim.id_rng, c["started"][pay] * 1000),
            "appointment": None,
            "patient": out.pid(c["patient"][pay]),
            "branch": ctx.branch[c["branch"][pay]],
            "amount": c["price"][pay],
            "currency": ctx.currency,
            "method": PaymentMethod.CARD.value,
            "kind": PaymentKind.PAYMENT.value,
            "paid_at": c["started"][pay],
            "recorded_by": None,
            "note": "membership",
            "created_at": c["started"][pay],
        },
    )


def write_points(out: SinkBase, c: Columns) -> None:
    out.put(
        sm.PointsEntry,
        {
            "id": c["id"],
            "patient": out.pid(c["patient"]),
            "appointment": c["appointment"],
            "points": c["points"],
            "at": c["at"],
        },
    )


def write_referrals(out: SinkBase, c: Columns) -> None:
    out.put(
        sm.Referral,
        {
            "id": c["id"],
            "referrer": out.pid(c["referrer"]),
            "referred": out.pid(c["referred"]),
            "referred__null": c["referred"] < 0,
            "at": c["at"],
            "booked": c["booked"],
        },
    )


def write_recall_contacts(out: SinkBase, c: Columns) -> None:
    sim = out.sim
    months = np.unique(c["campaign_month"])
    start_s = sim.cal.day_epoch[sim.cal.month_start[months]] * DAY_S + 9 * 3600
    camp_ids = uuid7_array(sim.id_rng, start_s * 1000)
    out.put(
        sm.RecallCampaign,
        {
            "id": camp_ids,
            "name": [
                f"Recall {np.datetime_as_string(np.datetime64(int(s), 's'), unit='D')}" for s in start_s
            ],
            "started_at": start_s,
            "lapsed_days": int(sim.scn.recall["lapsed_days"]),
        },
    )
    ci = np.searchsorted(months, c["campaign_month"])
    outcome = np.array(OUTCOMES, dtype=object)[c["outcome"]].tolist()
    ret = c["returned_day"]
    out.put(
        sm.RecallContact,
        {
            "id": c["id"],
            "campaign": camp_ids[ci],
            "patient": out.pid(c["patient"]),
            "contacted_at": c["at"],
            "outcome": outcome,
            "returned_on": sim.cal.day_epoch[np.maximum(ret, 0)],
            "returned_on__null": ret < 0,
        },
    )
