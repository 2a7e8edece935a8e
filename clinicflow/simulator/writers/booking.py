"""Booking tables: appointments and their payments."""

from __future__ import annotations

import numpy as np

from clinicflow.booking.models import (
    Appointment,
    AppointmentSource,
    AppointmentStatus,
    Payment,
    PaymentKind,
    PaymentMethod,
)
from clinicflow.simulator.engine.setup import ST_ARRIVED, ST_CANCELLED, ST_DONE, STATUSES
from clinicflow.simulator.scenario import PAYMENT_METHODS
from clinicflow.simulator.writers.base import Columns, SinkBase

# the engine's status codes (indexes of STATUSES) as the product's appointment statuses
APPOINTMENT_STATUS = np.array([AppointmentStatus(s).value for s in STATUSES], dtype=object)
ARRIVED = (ST_ARRIVED, ST_DONE)  # done visits arrived too
# the scenario's payment methods (PAYMENT_METHODS) as the product's
PAY_METHOD = {
    "card": PaymentMethod.CARD.value,
    "cash": PaymentMethod.CASH.value,
    "transfer": PaymentMethod.TRANSFER.value,
    "online": PaymentMethod.ONLINE.value,
    "stored_value": PaymentMethod.MEMBERSHIP.value,
}


def write_appointments(out: SinkBase, c: Columns) -> None:
    ctx, sim = out.ctx, out.sim
    n = c["id"].shape[0]
    status = APPOINTMENT_STATUS[c["status"]].tolist()
    tokens = sim.id_rng.bytes(16 * n).hex()
    cancelled = c["status"] == ST_CANCELLED
    arrived = np.isin(c["status"], ARRIVED)
    out.put(
        Appointment,
        {
            "id": c["id"],
            "branch": ctx.branch[c["branch"]],
            "patient": out.pid(c["patient"]),
            "service": ctx.service[c["service"]],
            "doctor": ctx.doctor[c["doctor"]],
            "room": ctx.room[c["room"]],
            "start_at": c["start"],
            "end_at": c["end"],
            "busy_until": c["end"],
            "status": status,
            "cancel_reason": "",
            "cancelled_at": c["cancelled_at"],
            "cancelled_at__null": ~cancelled,
            "is_late_cancellation": c["late_cancel"],
            "arrived_at": c["start"] - 300,
            "arrived_at__null": ~arrived,
            "price": c["price"],
            "currency": ctx.currency,
            "is_first_visit": c["is_first"],
            "source": AppointmentSource.SIMULATOR.value,
            "booked_by": None,
            "notes": "",
            "manage_token": [tokens[32 * i : 32 * i + 32] for i in range(n)],
            "created_at": c["created"],
            "updated_at": c["created"],
        },
    )


def write_payments(out: SinkBase, c: Columns) -> None:
    ctx = out.ctx
    out.put(
        Payment,
        {
            "id": c["id"],
            "appointment": c["appointment"],
            "patient": out.pid(c["patient"]),
            "branch": ctx.branch[c["branch"]],
            "amount": c["amount"],
            "currency": ctx.currency,
            "method": [PAY_METHOD[PAYMENT_METHODS[int(m)]] for m in c["method"]],
            "kind": PaymentKind.PAYMENT.value,
            "paid_at": c["paid_at"],
            "recorded_by": None,
            "note": "",
            "created_at": c["paid_at"],
        },
    )
