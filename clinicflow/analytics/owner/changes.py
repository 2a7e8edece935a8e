"""The incremental update of the daily facts: the recorded changes (``FactsChange``) of an organisation
turned into the local days whose facts depend on them, those days built again from the raw tables
(``facts.build``, the same code as the full rebuild, so incremental equals rebuilt), the changes
deleted — all in one transaction, claimed with ``SELECT ... FOR UPDATE SKIP LOCKED`` so several workers
can run.

The days of a change: its own (former and new) local day; for a patient, the local day and branch of
their first visit that happened and of their first booked visit, before the changes and now (the
first-visit counts and the funnel's later steps are counted there: only those counts are built again
on such a day, for all of them in one pass, ``facts.build_first_visits``); when the first visit moved, the
days of the patient's payments (their first-visit revenue flag); after a merge, every day of the kept
card's history (the duplicate's rows moved onto it in bulk); for a marker (``signals.SPAN``: a doctor's
link to a branch, a room's activation; ``signals.CLOCK``: a branch's time zone or activation) every day
of the facts' span, and for ``CLOCK`` the patients whose first visits are counted at the branch (their
first visits move to new local days)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Max, Min

from clinicflow.acquisition.attribution import HAPPENED
from clinicflow.analytics.models import DayFact, FactsChange
from clinicflow.analytics.owner import facts_firsts
from clinicflow.analytics.owner.fact_events import CellEvents
from clinicflow.analytics.owner.facts import Clock, build_first_visits, patient_days
from clinicflow.analytics.owner.facts_span import data_span
from clinicflow.analytics.owner.first_models import FirstVisitFact
from clinicflow.analytics.owner.first_moments import current_rows, first_moments, then_and_now
from clinicflow.analytics.owner.rebuild_days import build_days, build_load_days
from clinicflow.analytics.owner.signals import CARD, CLOCK, LOAD, MARKERS, MERGED, PAYMENT
from clinicflow.booking.models import Payment
from clinicflow.core.models import Organization

# changes applied together: a chain's busy day (chain-1m: 3,050 appointments, each saved twice) in one
# batch, its patients and days staged once (each batch stages its own; a list of ids is bound per
# statement well under SQLite's and PostgreSQL's parameter limits)
BATCH = 10000


@dataclass(frozen=True)
class Applied:
    changes: int
    days: int


def affected_days(org: Organization, changes: list[FactsChange]) -> tuple[set[dt.date], set[dt.date]]:
    """(days to build again in full, days where only the changed patients' first visits are counted:
    their first-visit counts and funnel are built again, ``facts.build_first_visits``)."""
    found = _affected(org, changes)
    return found.days, found.firsts


@dataclass(frozen=True)
class Affected:
    days: set[dt.date]
    firsts: set[dt.date]
    # patients whose first booked or first happened visit (moment, branch) is not what it was, or
    # whose card took a duplicate's rows (a merge): the front desk's facts of their calls' days follow
    refirsted: set[uuid.UUID]
    # patients whose history the facts of their first visit read changed: an appointment created,
    # deleted, moved or now (not) happened, or a change not of an appointment (a payment, the card);
    # a status changed within its kind (arrived -> done) or back to what it was changes none of them
    touched: set[uuid.UUID]
    # the days (of ``days``) whose only changes are of the load (``signals.LOAD``)
    load: set[dt.date] = field(default_factory=set)
    # patients whose first visits' own facts (credit, card, cell) may have changed: a change of their
    # card, of their first visits, or (not a payment) at or before their first visit; the others'
    # changes are events of their history after it (``fact_events``), at these moments
    membership: set[uuid.UUID] = field(default_factory=set)
    moments: dict[uuid.UUID, set[dt.datetime]] = field(default_factory=dict)


def _touched(
    changes: list[FactsChange],
    original: dict[uuid.UUID, FactsChange],
    now: dict[uuid.UUID, tuple[dt.datetime, str, uuid.UUID]],
) -> set[uuid.UUID]:
    out = {c.patient_id for c in changes if c.patient_id is not None and c.appointment_id is None}
    for pk, c in original.items():
        row = now.get(pk)
        if c.patient_id is None or c.patient_id in out:
            continue
        if (
            c.was_start is None
            or row is None
            or (c.was_start, c.was_status in HAPPENED, c.was_branch_id)
            != (row[0], row[1] in HAPPENED, row[2])
        ):
            out.add(c.patient_id)
    return out


def _marked(org: Organization, changes: list[FactsChange]) -> tuple[set[dt.date], set[uuid.UUID]]:
    """The days and patients of the markers: every day of the span; the patients whose first visits
    are counted at a branch whose clock changed."""
    marks = [c for c in changes if c.was_status in MARKERS]
    if not marks:
        return set(), set()
    span = data_span(org)
    days = {span[0] + dt.timedelta(days=i) for i in range((span[1] - span[0]).days + 1)} if span else set()
    clocks = {c.branch_id for c in marks if c.was_status == CLOCK and c.branch_id is not None}
    patients = set(
        FirstVisitFact.objects.for_org(org)
        .filter(branch_id__in=clocks)
        .order_by()
        .values_list("patient_id", flat=True)
        .distinct()
    )
    return days, patients


def _affected(org: Organization, changes: list[FactsChange]) -> Affected:
    """``affected_days`` and the patients whose facts of other days follow them."""
    clock = Clock(org)
    load = {clock.day(c.branch_id, c.at) for c in changes if c.was_status == LOAD}
    found = _affected_others(org, clock, [c for c in changes if c.was_status != LOAD])
    return Affected(
        found.days | load,
        found.firsts - load,
        found.refirsted,
        found.touched,
        load - found.days,
        found.membership,
        found.moments,
    )


def _affected_others(org: Organization, clock: Clock, changes: list[FactsChange]) -> Affected:
    """``_affected`` of the changes not of the load only."""
    days, moved_clock = _marked(org, changes)
    changes = [c for c in changes if c.was_status not in MARKERS]
    days |= {clock.day(c.branch_id, c.at) for c in changes}
    firsts: set[dt.date] = set()
    refirsted: set[uuid.UUID] = set()
    patients = {c.patient_id for c in changes if c.patient_id is not None}
    if not patients:
        return Affected(days, firsts, set(), moved_clock, set(), set(moved_clock))
    # the first record of each changed appointment holds what it was before this batch
    original: dict[uuid.UUID, FactsChange] = {}
    for c in sorted(changes, key=lambda c: (c.created_at, str(c.pk))):
        if c.appointment_id is not None and c.appointment_id not in original:
            original[c.appointment_id] = c
    found = first_moments(org, sorted(patients, key=str), set(original))
    theirs: dict[uuid.UUID | None, list[FactsChange]] = defaultdict(list)  # the originals per patient
    for c in original.values():
        theirs[c.patient_id].append(c)
    moved: set[uuid.UUID] = set()
    first_at: dict[uuid.UUID, dt.datetime] = {}  # the latest of the patient's first moments, then and now
    for p in patients:
        now, before = then_and_now(found.get(p), theirs.get(p, []))
        for moment in (*now, *before):
            if moment is not None:
                firsts.add(clock.day(moment[1], moment[0]))
                first_at[p] = max(first_at.get(p, moment[0]), moment[0])
        if now[1] != before[1]:
            moved.add(p)
        if now != before:
            refirsted.add(p)
    merged = {c.patient_id for c in changes if c.was_status == MERGED and c.patient_id is not None}
    refirsted |= merged
    if merged:
        days |= patient_days(org, merged)
    if moved:
        days |= {
            clock.day(b, at)
            for b, at in Payment.objects.for_org(org)
            .filter(patient_id__in=list(moved))
            .values_list("branch_id", "paid_at")
        }
    touched = _touched(changes, original, current_rows(org, list(original), patients)) | moved_clock
    moments = _moments(changes)
    membership = refirsted | moved_clock | _members_changed(changes, first_at)
    return Affected(days, firsts - days, refirsted, touched, set(), membership, moments)


def _moments(changes: list[FactsChange]) -> dict[uuid.UUID, set[dt.datetime]]:
    out: dict[uuid.UUID, set[dt.datetime]] = defaultdict(set)
    for c in changes:
        if c.patient_id is not None:
            out[c.patient_id].update(m for m in (c.at, c.was_start) if m is not None)
    return dict(out)


def _members_changed(changes: list[FactsChange], first_at: dict[uuid.UUID, dt.datetime]) -> set[uuid.UUID]:
    """The patients with a change of their card, or one (not a payment: its day and month are events of
    the cohort and channel facts) at or before their latest first moment: their credit (the touches
    up to the first visit) or the first visit itself may have changed."""
    out: set[uuid.UUID] = set()
    for c in changes:
        p = c.patient_id
        if p is None or c.was_status == PAYMENT:
            continue
        first = first_at.get(p)
        if c.was_status == CARD or (
            first is not None and any(m is not None and m <= first for m in (c.at, c.was_start))
        ):
            out.add(p)
    return out


def _span_growth(org: Organization) -> set[dt.date]:
    """Days a rebuild would now cover that the facts do not: the data's span grew at either end (the
    load of a day counts even when nothing was booked, so the rebuild's span matters)."""
    span = data_span(org)
    built = DayFact.objects.for_org(org).aggregate(first=Min("day"), last=Max("day"))
    if span is None or built["first"] is None:
        return set()
    first, last = span
    days = {first + dt.timedelta(days=i) for i in range(max(0, (built["first"] - first).days))}
    days |= {last - dt.timedelta(days=i) for i in range(max(0, (last - built["last"]).days))}
    return days


def apply_changes(org: Organization, *, batch: int = BATCH) -> Applied:
    """Apply (and delete) up to ``batch`` of the organisation's recorded changes: the facts that read
    only the raw tables (``fact_hooks.build_raw_facts``) on a second connection beside the others when
    the caller is outside a transaction on PostgreSQL (the worker), committed on their own; an error
    there rolls this transaction back (the changes stay for the next run, which builds both again)."""
    from clinicflow.analytics.owner.fact_hooks import (  # here: an import cycle
        Beside,
        build_owner_facts,
        build_raw_facts,
        may_run_beside,
    )

    beside = may_run_beside()
    aside: Beside | None = None
    try:
        with transaction.atomic():
            changes = list(
                FactsChange.objects.for_org(org)
                .select_for_update(skip_locked=True)
                .order_by("created_at")[:batch]
            )
            if not changes:
                return Applied(changes=0, days=0)
            found = _affected(org, changes)
            growth = _span_growth(org)
            load = found.load - growth  # the load's days only (working hours ...): their load again
            days, firsts = (found.days | growth) - load, found.firsts
            firsts -= days
            sql = facts_firsts.supported()
            # the channel and cohort facts of the same days (#17); on PostgreSQL those two read the
            # ``cells`` (and ``events``: some days and months of others), and the others (revenue split,
            # capacity) need only the ``days``: nothing a ``firsts`` day counts for them changed (its
            # revenue facts and appointments are as they were)
            owner_days = days if sql else days | firsts
            changed = {c.patient_id for c in changes if c.patient_id is not None}
            # the capacity, score, return, value (revenue to date), front desk's (the days and the calls'
            # days of the patients whose first visits moved) and traffic facts: the raw tables' only
            aside = Beside(
                lambda: build_raw_facts(org, owner_days, days, changed, found.refirsted, load), beside=beside
            )
            cells: set[tuple[uuid.UUID, dt.date]] | None = None
            events = CellEvents(days=())
            if sql:
                written, cells, events = _apply_sql(org, found, days)
            else:
                build_days(org, days)
                build_first_visits(org, firsts)
                written = len(days) + len(firsts)
            build_owner_facts(org, owner_days, cells, changed, events, raw=False)
            if load:  # the day facts (their load) of the load's days only
                written += build_load_days(org, load)
            aside.join()
            FactsChange.objects.for_org(org).filter(pk__in=[c.pk for c in changes]).delete()
    finally:
        if aside is not None:
            aside.wait()  # after an error here: the second connection done before it goes up
    return Applied(changes=len(changes), days=written)


def _apply_sql(
    org: Organization, found: Affected, days: set[dt.date]
) -> tuple[int, set[tuple[uuid.UUID, dt.date]], CellEvents]:
    """On PostgreSQL: the ``days`` built again in full (``build_days``), the touched patients staged
    with the days' own (one staging: their ``FirstVisitFact`` rows rewritten from the raw tables before
    the days' counts read them; a patient whose only appointment of a day was deleted leaves no row
    behind there), then the first-visit counts of the other (branch, day) pairs those patients were on
    before and are on now counted again from the rows (every other patient's rows are current); returns
    the number of days and pairs written, the (branch, day) cells whose channel and cohort facts to
    build again whole — those of the patients whose first visits' own facts may have changed (their
    ``FirstVisitFact`` rows, or ``Affected.membership``) — and the events of the other touched
    patients in their cells (``fact_events``: the days and months of their changes there). Those facts
    count each first patient on the cell of their first visit, from their own rows only: a day's other
    changes, of no patient or of untouched ones, and the days of a marker change none of them."""
    patients = sorted(found.touched, key=str)
    before = facts_firsts.first_visit_rows(org, patients) if patients else {}
    build_days(org, days, patients)
    now = facts_firsts.first_visit_rows(org, patients) if patients else {}
    pairs = {(b, d) for rows in (before, now) for p_rows in rows.values() for b, d, _bk, _ar in p_rows}
    written = len(days) + facts_firsts.recount_first_visits(org, [(b, d) for b, d in pairs if d not in days])
    members = found.membership | {p for p in patients if before.get(p, set()) != now.get(p, set())}
    cells = {(b, d) for rows in (before, now) for p in members for b, d, _bk, _ar in rows.get(p, ())}
    clock = Clock(org)
    theirs = {
        (p, b, d)
        for p in patients
        if p not in members
        for b, d, _bk, arrived in now.get(p, ())
        if arrived and (b, d) not in cells
    }
    events = {(b, d, clock.day(b, at)) for p, b, d in theirs for at in found.moments.get(p, ())}
    return (
        written,
        cells,
        CellEvents(days=tuple(sorted(events, key=str)), members=tuple(sorted(theirs, key=str))),
    )
