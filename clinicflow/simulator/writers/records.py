"""The simulator's own records (no product table holds them yet): memberships (and their payments),
points, referrals."""

from __future__ import annotations

from clinicflow.booking.models import Payment, PaymentKind, PaymentMethod
from clinicflow.simulator import models as sm
from clinicflow.simulator.engine.ids import uuid7_array
from clinicflow.simulator.scenario import MEMBERSHIP_KINDS
from clinicflow.simulator.writers.base import Columns, SinkBase, pick


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
