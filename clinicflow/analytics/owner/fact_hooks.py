"""The per-channel and cohort facts (``channel_facts``, ``cohort_facts``) built beside the day facts:
one call from the full rebuild (``facts.rebuild``) and one from the incremental update
(``changes.apply_changes``) with the local days it builds again."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Callable, Collection

from django.db import connection, connections

from clinicflow.analytics.owner.admin_facts import build_admin_facts
from clinicflow.analytics.owner.capload_facts import build_capacity_facts
from clinicflow.analytics.owner.channel_facts import build_channel_events, build_channel_facts
from clinicflow.analytics.owner.cohort_events import build_cohort_events
from clinicflow.analytics.owner.cohort_facts import build_cohort_facts
from clinicflow.analytics.owner.fact_events import CellEvents
from clinicflow.analytics.owner.factsql import Cells
from clinicflow.analytics.owner.score_facts import build_score_facts
from clinicflow.analytics.owner.split_facts import build_revenue_split
from clinicflow.analytics.owner.traffic_facts import build_traffic_facts
from clinicflow.analytics.owner.value_facts import build_value_facts, refresh_value_facts
from clinicflow.analytics.pricing.return_facts import build_return_facts
from clinicflow.core.models import Organization


def build_owner_facts(
    org: Organization,
    days: Collection[dt.date] | None = None,
    cells: Collection[tuple[uuid.UUID, dt.date]] | None = None,
    patients: Collection[uuid.UUID] = (),
    events: CellEvents | None = None,
    *,
    raw: bool = True,
) -> int:
    """The channel, cohort and revenue-split facts of every day (``days`` None) or of these local days
    (their revenue facts built before); rows written. ``cells`` (PostgreSQL, the incremental update:
    the (branch, local day) cells where the changed patients' first visits were and are, with their
    ``FirstVisitFact`` rows current): the channel and cohort facts of those cells only. ``patients``
    (the incremental update's changed ones): the return facts of their later visits too (``return_facts``:
    a deleted visit's patient has no appointment left on its day). ``events`` (with ``cells``): the
    days and months of other cells whose first patients' later visits or payments changed
    (``fact_events``). ``raw`` False (the incremental update, ``changes.apply_changes``): not the facts
    that read only the raw tables (``build_raw_facts``), which the caller builds beside."""
    if cells is None:
        # the planner's return visits (#18, ``return_facts``): read nothing the others write
        returns = Beside(
            lambda: build_return_facts(org, days, patients) if raw else 0,
            beside=raw and days is None and may_run_beside(),  # no thread for no work
        )
        try:
            written = build_channel_facts(org, days) + build_cohort_facts(org, days)
            written += build_revenue_split(org, days)
            if raw:  # the capacity report's load (``capload_facts``), the scorecards' (``score_facts``)
                written += build_capacity_facts(org, days) + build_score_facts(org, days)
        finally:
            beside = returns.join()
        return written + beside
    scope = Cells(pairs=tuple(sorted(set(cells), key=str)))
    events = events or CellEvents(days=())
    written = (
        build_channel_facts(org, cells=scope)
        + build_channel_events(org, events)
        + build_cohort_facts(org, cells=scope)
        + build_cohort_events(org, events)
        + build_revenue_split(org, days)
    )
    if raw:
        written += build_capacity_facts(org, days) + build_score_facts(org, days)
        written += build_return_facts(org, days, patients)
    return written


def build_raw_facts(
    org: Organization,
    owner_days: Collection[dt.date],
    days: Collection[dt.date],
    patients: Collection[uuid.UUID],
    refirsted: Collection[uuid.UUID],
    load: Collection[dt.date] = (),
) -> int:
    """The incremental update's facts that read only the raw tables, none of the facts the update writes
    itself (so they can be built beside it, on a second connection: ``changes.apply_changes``): the
    capacity, score and return facts of ``owner_days`` (``build_owner_facts``' days), the changed
    ``patients``' revenue to date (``value_facts``), the front desk's facts of the ``days`` and of the
    calls of the ``refirsted`` patients (``admin_facts``), the channels' traffic of the ``days`` and the
    capacity facts of the days whose only changes are of the load (``load``); rows written."""
    return (
        build_capacity_facts(org, owner_days)
        + build_score_facts(org, owner_days)
        + build_return_facts(org, owner_days, patients)
        + refresh_value_facts(org, patients)
        + build_admin_facts(org, days, refirsted)
        + build_traffic_facts(org, days)
        + (build_capacity_facts(org, load) if load else 0)
    )


def may_run_beside() -> bool:
    """Whether work may run on a second connection beside the caller's: on PostgreSQL outside a
    transaction (inside one — a test, a caller's ``atomic`` — the other connection would not see the
    caller's rows, nor could it be rolled back with them)."""
    return connection.vendor == "postgresql" and not connection.in_atomic_block


class Beside:
    """Work run beside the caller's on a second connection (a thread) while the caller goes on: the full
    rebuild's return facts (a quarter of its time at chain-1m) beside the channel, cohort and load facts,
    and the incremental update's facts of the raw tables (``build_raw_facts``) beside its others, on a
    machine's second core. ``beside`` False (see ``may_run_beside``): the work runs in the caller's
    thread at ``join``. ``join`` returns its result or raises its error; ``wait`` only waits (after the
    caller's own error, which wins)."""

    def __init__(self, work: Callable[[], int], *, beside: bool) -> None:
        self.work = work
        self.result = 0
        self.error: BaseException | None = None
        self.thread: threading.Thread | None = None
        if beside:
            self.thread = threading.Thread(target=self._run, name="facts-beside", daemon=True)
            self.thread.start()

    def _run(self) -> None:
        try:
            self.result = self.work()
        except BaseException as exc:  # re-raised in the caller's thread by ``join``
            self.error = exc
        finally:
            connections.close_all()  # this thread's connection

    def join(self) -> int:
        if self.thread is None:
            return self.work()
        self.thread.join()
        if self.error is not None:
            raise self.error
        return self.result

    def wait(self) -> None:
        if self.thread is not None:
            self.thread.join()


def rebuild_owner_facts(org: Organization, date_from: dt.date | None, last: dt.date) -> int:
    """After a full rebuild: every day's, or (``date_from``) the days from it to ``last``; and the
    lifetime-value facts (``value_facts``: not per day, always all of them)."""
    if date_from is None:
        return (
            build_owner_facts(org)
            + build_value_facts(org)
            + build_admin_facts(org)
            + build_traffic_facts(org)
        )
    days = [date_from + dt.timedelta(days=i) for i in range((last - date_from).days + 1)]
    return (
        build_owner_facts(org, days)
        + build_value_facts(org)
        + build_admin_facts(org, days)
        + build_traffic_facts(org, days)
    )


def predictions_stored(org: Organization) -> int:
    """After the stored predictions change (a lifetime-value run): the channel facts again, whose
    lifetime value and revenue before the predictions' cut-off depend on them, and the patients'
    value facts (``value_facts``: their ranks and classes)."""
    return build_channel_facts(org) + build_value_facts(org)
