"""The per-channel daily facts built by the database in set-based statements (``INSERT ... SELECT ...
GROUP BY``), for every day (the full rebuild), some local days or (PostgreSQL) some (branch, day)
cells (the incremental update: those rows deleted and written again): the channel and campaign
reports' first patients (``ChanFirstFact``, ``chan_facts``), which the owner's channel figures and the
patient profile read too (``channel_reads``).

The first visits and their credit are the channel report's own statement (``first_patients.
credited_sql``), staged once per build (``chan_facts.stage``). A branch counts a first visit on its
local day as the channel report with that branch does: a booked first visit when an appointment of the
patient at that moment is in the branch, a first patient (arrived) when a visit that happened at that
moment is. Ad spend is not copied: ``AdSpend`` is itself one row per day and campaign, and the owner's
figures read it as the channel report does."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any

from django.db import transaction

from clinicflow.analytics.clv.stored import cutoff, predictions_until
from clinicflow.analytics.owner.chan_facts import (
    before_cutoff_of_cells,
    drop_stage,
    events_delete,
    insert_facts,
    insert_paid_events,
    stage,
)
from clinicflow.analytics.owner.chan_models import ChanFirstFact
from clinicflow.analytics.owner.fact_clear import clear
from clinicflow.analytics.owner.fact_events import CellEvents, by_index, event_members, serial
from clinicflow.analytics.owner.factsql import (
    Cells,
    Scope,
    cell_patients,
    cells_delete,
    day_chunks,
    near,
    tune,
)
from clinicflow.analytics.owner.first_models import FirstVisitFact
from clinicflow.analytics.reports.sqlplan import IdArray
from clinicflow.booking.models import Appointment
from clinicflow.core.models import Organization

# ``ChanFirstFact`` holds the figures of the former ``ChannelFact``, ``ChannelValueFact`` and
# ``FirstRevenueFact`` per channel and campaign (read by ``channel_reads``; those tables dropped in 0015)
TABLES = (ChanFirstFact,)
PART = 100_000  # patients per statement of the incremental update (its memory)


def _cutoff(org: Organization) -> dt.datetime | None:
    """The stored predictions' cut-off (``clv.stored.cutoff``): the end of their day."""
    until = predictions_until(org=org)
    return None if until is None else cutoff(until)


def _build(org: Organization, days: Scope, patients: Any) -> int:
    """Every channel fact of the scope's days (their rows deleted before), from one staged statement."""
    stage(org, days, patients)
    written = insert_facts(org, patients, _cutoff(org))
    drop_stage()
    return written


def build_channel_events(org: Organization, events: CellEvents) -> int:
    """(PostgreSQL) The payments' rows of the events' (branch, cell day, day paid) triples again, from the
    cells' members who paid on those days only (``fact_events``), and the cells' revenue before the
    predictions' cut-off summed again from their rows; returns the rows written."""
    if not events:
        return 0
    until = predictions_until(org=org)
    with serial(), transaction.atomic():
        tune()
        with by_index():
            events_delete(org, events, until)
        members = event_members(org, events, months=False)
        written = 0
        if members:
            ids = IdArray(tuple(members))
            stage(org, events.cells(), ids)
            written = insert_paid_events(org, ids, events)
            drop_stage()
        if until is not None:
            with by_index():
                written += before_cutoff_of_cells(org, events, until)
        return written


def build_channel_facts(
    org: Organization, days: Collection[dt.date] | None = None, cells: Cells | None = None
) -> int:
    """Write the channel facts of every day (``days`` None: the full rebuild), of these local days or
    (PostgreSQL, ``cells``) of these branches' days again; returns the rows written."""
    if (days is not None and not days) or (cells is not None and not cells.pairs):
        return 0
    written = 0
    with transaction.atomic():
        tune()
        if cells is not None:  # the cells' first patients only (their first visits are current)
            cells_delete(TABLES, org, cells)
            firsts = cell_patients(org, cells, FirstVisitFact._meta.db_table)
            if not firsts:
                return 0
            # in parts, each bound as one array and read through the patient indexes (``sqlplan.IdArray``);
            # a cell's rows then come in parts, which the reads sum like any rows
            parts = (IdArray(tuple(firsts[i : i + PART])) for i in range(0, len(firsts), PART))
            return sum(_build(org, cells, part) for part in parts)
        for chunk in day_chunks(list(days) if days is not None else None):
            if chunk is None:  # every day: the organisation's rows (``fact_clear.clear``)
                clear(org, *TABLES)
            else:
                for model in TABLES:
                    model.objects.for_org(org).filter(day__in=chunk).delete()
            patients = None
            if chunk is not None:
                patients = (
                    Appointment.objects.for_org(org).filter(near("start_at", chunk)).values("patient_id")
                )
            written += _build(org, chunk, patients)
    return written
