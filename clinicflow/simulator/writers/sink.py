"""Routes the engine's chunks to the product's tables (and the simulator's own) through the bulk
writers: one writer function per engine table, grouped by domain (:mod:`.acquisition`,
:mod:`.patients`, :mod:`.booking`, :mod:`.ledger`)."""

from __future__ import annotations

import time
from collections.abc import Callable

from clinicflow.simulator.writers import (
    acquisition,
    booking,
    care,
    checkout,
    clinical,
    feedback,
    ledger,
    marketing,
    memberships,
    patients,
)
from clinicflow.simulator.writers.base import Columns, SinkBase
from clinicflow.simulator.writers.schedules import write_schedule_exceptions
from clinicflow.simulator.writers.structure import write_price_history


def write_first_visit_prices(out: SinkBase, c: Columns) -> None:
    started = time.perf_counter()
    rows = write_price_history(out.sim, out.ctx, c, out.pipe)
    out.count("catalogue.ServicePrice", rows, started)


WRITERS: dict[str, Callable[[SinkBase, Columns], None]] = {
    "first_visit_prices": write_first_visit_prices,
    "sessions": acquisition.write_sessions,
    "calls": acquisition.write_calls,
    "callbacks": acquisition.write_callbacks,
    "leads": acquisition.write_leads,
    "spend": acquisition.write_spend,
    "patients": patients.write_patients,
    "consents": patients.write_consents,
    "appointments": booking.write_appointments,
    "payments": checkout.hold_payments,  # written with their tenders (issue #16)
    "tenders": checkout.write_paid_visits,
    "consultations": clinical.write_consultations,
    "surveys": feedback.write_surveys,
    "followups": care.write_followups,
    "treatments": clinical.write_treatments,
    "complications": clinical.write_complications,
    "memberships": memberships.write_memberships,
    "points": ledger.write_points,
    "referrals": ledger.write_referrals,
    "recall_contacts": care.write_recall_contacts,
    "mkt_campaigns": marketing.write_campaigns,
    "mkt_recipients": marketing.write_recipients,
    "schedule_exceptions": write_schedule_exceptions,
}


class DbSink(SinkBase):
    """The engine's sink: ``sink(table, columns)`` writes one chunk."""

    def __call__(self, table: str, cols: Columns) -> None:
        WRITERS[table](self, cols)
