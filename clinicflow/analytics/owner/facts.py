"""Daily facts from the raw tables: a full rebuild of an organisation and the update of one day.

A day is the branch's local calendar day (calls, leads and patients tied to no branch: the UTC day).
Each build deletes the facts of its days and writes them again in one transaction, so an update is
idempotent and equals a rebuild of the same days. The first-visit counts use the definition of the
channel report (``first_visit_times``: a patient's booked first visit is the start of their first
appointment of any status, their first visit that happened the first one that did; a branch counts
it when an appointment of that kind at that moment is in the branch)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Min, Q

from clinicflow.acquisition.attribution import HAPPENED, REFUND
from clinicflow.acquisition.models import Call, CallStatus, Lead
from clinicflow.analytics.models import DayFact, RevenueFact
from clinicflow.analytics.owner import facts_firsts, facts_sql
from clinicflow.analytics.owner.facts_load import windows_staged
from clinicflow.analytics.owner.facts_more import (
    COUNTS as COUNTS,  # the day facts' counts, defined beside their build (re-exported)
)
from clinicflow.analytics.owner.facts_more import (
    FIRST_COUNTS,
    Arrival,
    answer_counts,
    funnel_flags,
    load_seconds,
)
from clinicflow.analytics.owner.facts_span import data_span as data_span  # re-exported
from clinicflow.analytics.owner.facts_span import runs
from clinicflow.analytics.owner.rebuild_phases import timed_phases
from clinicflow.booking.models import Appointment, AppointmentStatus, Payment
from clinicflow.core.models import Organization
from clinicflow.core.selectors import branch_list
from clinicflow.feedback.models import SurveyAnswer
from clinicflow.patients.models import Patient

# days built and committed together by a full rebuild: every statement of a chunk reads its tables once
# (hash joins), so one chunk of the whole history costs least (each table read once, not once per
# chunk: chain-1m's 60 months in one); its groupings spill to disk past ``factsql.WORK_MEM``
CHUNK_DAYS = 3660
DayKey = tuple[uuid.UUID | None, dt.date]
RevKey = tuple[uuid.UUID, dt.date, str, uuid.UUID | None, uuid.UUID | None, bool]


@dataclass(frozen=True)
class BuildStats:
    days: int
    day_rows: int
    revenue_rows: int

    def summary(self) -> str:
        return f"{self.days} days, {self.day_rows} day facts, {self.revenue_rows} revenue facts"


class Clock:
    """A row's local day: its branch's zone, UTC without a branch."""

    def __init__(self, org: Organization) -> None:
        self.zones = {b.pk: b.tz for b in branch_list(org=org)}

    def day(self, branch_id: uuid.UUID | None, at: dt.datetime) -> dt.date:
        tz = self.zones.get(branch_id) if branch_id is not None else None
        return at.astimezone(tz or dt.UTC).date()


def utc_window(date_from: dt.date, date_to: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """UTC bounds wide enough for every zone's local days ``date_from``..``date_to`` (±14 h)."""
    start = dt.datetime.combine(date_from, dt.time.min, tzinfo=dt.UTC) - dt.timedelta(days=1)
    end = dt.datetime.combine(date_to, dt.time.min, tzinfo=dt.UTC) + dt.timedelta(days=2)
    return start, end


def _in_range(rows: Iterable[tuple[Any, ...]], clock: Clock, d0: dt.date, d1: dt.date) -> Iterable[Any]:
    """``(branch, at, *rest)`` rows as ``(branch, local day, *rest)`` for the days in [d0, d1]."""
    for branch, at, *rest in rows:
        day = clock.day(branch, at)
        if d0 <= day <= d1:
            yield (branch, day, *rest)


def _first_visits(
    org: Organization,
    clock: Clock,
    windows: list[tuple[dt.datetime, dt.datetime]],
    wanted: Callable[[dt.date], bool],
    bump: Callable[..., None],
) -> list[Arrival]:
    """Bumps the booked and arrived first visits of the ``wanted`` local days (inside the UTC
    ``windows``); returns the arrivals (for the funnel's later steps)."""
    inside = Q()
    for start, end in windows:
        inside |= Q(start_at__gte=start, start_at__lt=end)
    near = Appointment.objects.for_org(org).filter(inside)
    booked_in, arrived_in = Q(), Q()
    for start, end in windows:
        booked_in |= Q(booked_at__gte=start, booked_at__lt=end)
        arrived_in |= Q(arrived_at__gte=start, arrived_at__lt=end)
    firsts = (
        Appointment.objects.for_org(org)
        .filter(patient_id__in=near.values("patient_id"))
        .order_by()
        .values("patient_id")
        .annotate(booked_at=Min("start_at"), arrived_at=Min("start_at", filter=Q(status__in=HAPPENED)))
        .filter(booked_in | arrived_in)
    )
    moments: dict[uuid.UUID, tuple[dt.datetime, dt.datetime | None]] = {
        r["patient_id"]: (r["booked_at"], r["arrived_at"]) for r in firsts
    }
    arrivals: list[Arrival] = []
    if not moments:
        return arrivals
    rows = near.values_list("patient_id", "start_at", "branch_id", "status")
    booked: set[tuple[uuid.UUID, uuid.UUID]] = set()
    arrived: set[tuple[uuid.UUID, uuid.UUID]] = set()
    for patient, at, branch, status in rows:
        if patient not in moments:
            continue
        booked_at, arrived_at = moments[patient]
        day = clock.day(branch, at)
        if not wanted(day):
            continue
        if at == booked_at and (patient, branch) not in booked:
            booked.add((patient, branch))
            bump(branch, day, "first_booked")
        if at == arrived_at and status in HAPPENED and (patient, branch) not in arrived:
            arrived.add((patient, branch))
            bump(branch, day, "first_arrived")
            arrivals.append((patient, branch, day, at))
    return arrivals


def compute(
    org: Organization, d0: dt.date, d1: dt.date
) -> tuple[dict[DayKey, dict[str, int]], dict[RevKey, list[Any]]]:
    """The facts of the local days ``d0``..``d1`` from the raw tables (nothing written)."""
    clock = Clock(org)
    start, end = utc_window(d0, d1)
    days: dict[DayKey, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTS, 0))

    def bump(branch: uuid.UUID | None, day: dt.date, name: str, n: int = 1) -> None:
        days[(branch, day)][name] += n

    appts = Appointment.objects.for_org(org).filter(start_at__gte=start, start_at__lt=end)
    for branch, day, status in _in_range(appts.values_list("branch_id", "start_at", "status"), clock, d0, d1):
        bump(branch, day, "appointments")
        if status == AppointmentStatus.NO_SHOW:
            bump(branch, day, "no_shows")
        if status in HAPPENED:
            bump(branch, day, "happened")
    arrivals = _first_visits(org, clock, [(start, end)], lambda day: d0 <= day <= d1, bump)
    funnel_flags(org, arrivals, bump)
    answer_counts(org, lambda rows: _in_range(rows, clock, d0, d1), start, end, bump)
    load_seconds(org, d0, d1, bump)
    calls = Call.objects.for_org(org).filter(started_at__gte=start, started_at__lt=end)
    for branch, day, unique, status in _in_range(
        calls.values_list("branch_id", "started_at", "is_unique", "status"), clock, d0, d1
    ):
        bump(branch, day, "calls")
        if unique:
            bump(branch, day, "unique_calls")
        if status == CallStatus.MISSED:
            bump(branch, day, "missed_calls")
    leads = Lead.objects.for_org(org).filter(created_at__gte=start, created_at__lt=end)
    for branch, day in _in_range(leads.values_list("branch_id", "created_at"), clock, d0, d1):
        bump(branch, day, "leads")
    patients = Patient.objects.for_org(org).filter(
        created_at__gte=start, created_at__lt=end, merged_into=None
    )
    for branch, day in _in_range(patients.values_list("branch_id", "created_at"), clock, d0, d1):
        bump(branch, day, "new_patients")
    revenue: dict[RevKey, list[Any]] = {}
    pays = Payment.objects.for_org(org).filter(paid_at__gte=start, paid_at__lt=end)
    first_at = dict(
        Appointment.objects.for_org(org)
        .filter(patient_id__in=pays.values("patient_id"), status__in=HAPPENED)
        .order_by()
        .values("patient_id")
        .annotate(at=Min("start_at"))
        .values_list("patient_id", "at")
    )
    fields = (
        "branch_id",
        "paid_at",
        "currency",
        "kind",
        "amount",
        "appointment__doctor_id",
        "appointment__service_id",
        "appointment__start_at",
        "patient_id",
    )
    for branch, day, cur, kind, amount, doctor, service, visit_at, patient in _in_range(
        pays.values_list(*fields), clock, d0, d1
    ):
        first_visit = first_at.get(patient)
        # first-visit revenue: paid for an appointment on the patient's first visit's (local) day
        first = (
            visit_at is not None
            and first_visit is not None
            and clock.day(branch, visit_at) == clock.day(branch, first_visit)
        )
        cell = revenue.setdefault((branch, day, cur, doctor, service, first), [Decimal(0), 0])
        cell[0] += -Decimal(amount) if kind == REFUND else Decimal(amount)
        cell[1] += 1
    return dict(days), revenue


def build(
    org: Organization, d0: dt.date, d1: dt.date, *, reference: bool = False, staged: bool = False
) -> BuildStats:
    """Replace the facts of the days ``d0``..``d1`` with those computed from the raw tables: on
    PostgreSQL by grouped statements (``facts_sql``; ``staged``: the rebuild staged every patient's
    first visits), elsewhere or with ``reference`` by ``compute`` (the reference of the same rows)."""
    if facts_firsts.supported() and not reference:
        start, end = utc_window(d0, d1)
        zones = Clock(org).zones
        with transaction.atomic():
            if not staged:
                facts_firsts.stage_firsts(org, zones, *facts_firsts.window_scope([(start, end)]))
            n_days, n_rev = facts_sql.insert_days(org, zones, d0, d1, start, end)
            if not staged:
                facts_firsts.drop_staging()
        return BuildStats(days=(d1 - d0).days + 1, day_rows=n_days, revenue_rows=n_rev)
    days, revenue = compute(org, d0, d1)
    day_rows = [
        DayFact(organization=org, branch_id=branch, day=day, **counts)
        for (branch, day), counts in days.items()
    ]
    rev_rows = [
        RevenueFact(
            organization=org,
            branch_id=branch,
            day=day,
            currency=cur,
            doctor_id=doctor,
            service_id=service,
            first=first,
            amount=amount,
            payments=n,
        )
        for (branch, day, cur, doctor, service, first), (amount, n) in revenue.items()
    ]
    with transaction.atomic():
        DayFact.objects.for_org(org).filter(day__gte=d0, day__lte=d1).delete()
        RevenueFact.objects.for_org(org).filter(day__gte=d0, day__lte=d1).delete()
        DayFact.objects.bulk_create(day_rows, batch_size=2000)
        RevenueFact.objects.bulk_create(rev_rows, batch_size=2000)
    return BuildStats(days=(d1 - d0).days + 1, day_rows=len(day_rows), revenue_rows=len(rev_rows))


def build_first_visits(org: Organization, days: Iterable[dt.date]) -> int:
    """The incremental update of days whose only dependence on a change is a patient's first visit
    there: their first-visit counts and the funnel of their first patients (``FIRST_COUNTS``) again
    from the raw tables, for all the days at once; their other counts are left as they are (nothing
    that happened on another day changes them). Returns the number of day facts written."""
    wanted = set(days)
    if not wanted:
        return 0
    clock = Clock(org)
    counts: dict[DayKey, dict[str, int]] = defaultdict(lambda: dict.fromkeys(FIRST_COUNTS, 0))

    def bump(branch: uuid.UUID | None, day: dt.date, name: str, n: int = 1) -> None:
        counts[(branch, day)][name] += n

    windows = [utc_window(a, b) for a, b in runs(wanted)]
    if facts_firsts.supported():
        with facts_firsts.staged(org, clock.zones, *facts_firsts.window_scope(windows)):
            for (a, b), (start, end) in zip(runs(wanted), windows, strict=True):
                for branch, day, *values in facts_sql.first_count_rows(org, clock.zones, a, b, start, end):
                    counts[(branch, day)] = dict(zip(FIRST_COUNTS, values, strict=True))
    else:
        funnel_flags(org, _first_visits(org, clock, windows, wanted.__contains__, bump), bump)
    with transaction.atomic():
        rows = list(DayFact.objects.for_org(org).filter(day__in=wanted).select_for_update())
        for row in rows:
            for name, n in counts.pop((row.branch_id, row.day), dict.fromkeys(FIRST_COUNTS, 0)).items():
                setattr(row, name, n)
        # written again rather than updated in place: one DELETE and one INSERT, however many rows
        DayFact.objects.for_org(org).filter(pk__in=[r.pk for r in rows]).delete()
        DayFact.objects.bulk_create(
            rows + [DayFact(organization=org, branch_id=b, day=d, **c) for (b, d), c in counts.items()],
            batch_size=2000,
        )
    return len(rows) + len(counts)


def rebuild(
    org: Organization,
    date_from: dt.date | None = None,
    *,
    chunk_days: int = CHUNK_DAYS,
    progress: Callable[[str], None] | None = None,
    reference: bool = False,
    phases: Callable[[str], None] | None = None,
) -> BuildStats:
    """Every day's facts from the raw tables (from ``date_from``, or the first day with data), a chunk of
        days at a time, each chunk committed; ``progress`` gets a line per chunk. On PostgreSQL every
        patient's first visit is read once (``facts_firsts.stage_firsts``) and each chunk is a few grouped
        statements; ``reference``: the Python build everywhere (the reference of the same rows); ``phases``
    gets each long phase's time and a summary (``rebuild_phases``)."""
    sql = facts_firsts.supported() and not reference
    with timed_phases(phases):
        if sql:
            facts_firsts.stage_firsts(org, Clock(org).zones)
        try:  # the working windows staged once for the day facts and the capacity facts (rbc)
            with windows_staged(org) if sql else nullcontext():
                return _rebuild(org, date_from, chunk_days, progress, sql)
        finally:
            if sql:
                facts_firsts.drop_staging()


def _rebuild(
    org: Organization,
    date_from: dt.date | None,
    chunk_days: int,
    progress: Callable[[str], None] | None,
    sql: bool,
) -> BuildStats:
    span = data_span(org)
    if span is None:
        return BuildStats(days=0, day_rows=0, revenue_rows=0)
    d0, last = span
    if date_from is not None:
        d0 = date_from
    else:  # the SQL build replaces the span's rows (writing only those that changed): the others go
        stale = ~Q(day__gte=d0, day__lte=last) if sql else Q()
        with transaction.atomic():
            DayFact.objects.for_org(org).filter(stale).delete()
            RevenueFact.objects.for_org(org).filter(stale).delete()
    total = BuildStats(days=0, day_rows=0, revenue_rows=0)
    while d0 <= last:
        d1 = min(last, d0 + dt.timedelta(days=chunk_days - 1))
        s = build(org, d0, d1, reference=not sql, staged=sql)
        total = BuildStats(
            days=total.days + s.days,
            day_rows=total.day_rows + s.day_rows,
            revenue_rows=total.revenue_rows + s.revenue_rows,
        )
        if progress is not None:
            progress(f"{org.slug}: {d0.isoformat()}..{d1.isoformat()} {s.summary()}")
        d0 = d1 + dt.timedelta(days=1)
    from clinicflow.analytics.owner.fact_hooks import rebuild_owner_facts  # here: an import cycle

    rebuild_owner_facts(org, date_from, last)  # the channel and cohort facts (issue #17)
    return total


def update_day(org: Organization, day: dt.date) -> BuildStats:
    """The incremental update: one local day's facts again from the raw tables."""
    return build(org, day, day)


def patient_days(org: Organization, patient_ids: Iterable[uuid.UUID]) -> set[dt.date]:
    """The local days whose facts depend on these patients' history (their appointments and payments):
    a change to a patient's appointment can move their first visit, and with it the first-visit counts
    and the first-visit revenue of other days, so an event updates all of them."""
    ids = list(patient_ids)
    clock = Clock(org)
    days = {
        clock.day(b, at)
        for b, at in Appointment.objects.for_org(org)
        .filter(patient_id__in=ids)
        .values_list("branch_id", "start_at")
    }
    days |= {
        clock.day(b, at)
        for b, at in Payment.objects.for_org(org)
        .filter(patient_id__in=ids)
        .values_list("branch_id", "paid_at")
    }
    days |= {
        clock.day(b, at)
        for b, at in SurveyAnswer.objects.for_org(org)
        .filter(patient_id__in=ids)
        .values_list("branch_id", "answered_at")
    }
    return days


def update_patients(
    org: Organization, patient_ids: Iterable[uuid.UUID], extra_days: Iterable[dt.date] = ()
) -> int:
    """The incremental update after events of these patients: every day their history touches (and
    ``extra_days``, e.g. a moved appointment's former day) again from the raw tables."""
    days = patient_days(org, patient_ids) | set(extra_days)
    for day in sorted(days):
        update_day(org, day)
    return len(days)
