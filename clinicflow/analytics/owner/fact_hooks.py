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
from clinicflow.analytics.owner.value_facts import build_value_facts
from clinicflow.analytics.pricing.return_facts import build_return_facts
from clinicflow.core.models import Organization


def build_owner_facts(
    org: Organization,
    days: Collection[dt.date] | None = None,
    cells: Collection[tuple[uuid.UUID, dt.date]] | None = None,
    patients: Collection[uuid.UUID] = (),
    events: CellEvents | None = None,
) -> int:
    """The channel, cohort and revenue-split facts of every day (``days`` None) or of these local days
    (their revenue facts built before); rows written. ``cells`` (PostgreSQL, the incremental update:
    the (branch, local day) cells where the changed patients' first visits were and are, with their
    ``FirstVisitFact`` rows current): the channel and cohort facts of those cells only. ``patients``
    (the incremental update's changed ones): the return facts of their later visits too (``return_facts``:
    a deleted visit's patient has no appointment left on its day). ``events`` (with ``cells``): the
    days and months of other cells whose first patients' later visits or payments changed
    (``fact_events``)."""
    if cells is None:
        # the planner's return visits (#18, ``return_facts``): read nothing the others write
        returns = Beside(lambda: build_return_facts(org, days, patients), alone=days is not None)
        try:
            written = (
                build_channel_facts(org, days)
                + build_cohort_facts(org, days)
                + build_revenue_split(org, days)
                + build_capacity_facts(org, days)  # the capacity report's load (#17, ``capload_facts``)
                + build_score_facts(org, days)  # the scorecards' and balanced doctor's (#17, ``score_facts``)
            )
        finally:
            beside = returns.join()
        return written + beside
    scope = Cells(pairs=tuple(sorted(set(cells), key=str)))
    events = events or CellEvents(days=())
    return (
        build_channel_facts(org, cells=scope)
        + build_channel_events(org, events)
        + build_cohort_facts(org, cells=scope)
        + build_cohort_events(org, events)
        + build_revenue_split(org, days)
        + build_capacity_facts(org, days)
        + build_score_facts(org, days)
        + build_return_facts(org, days, patients)
    )


class Beside:
    """Work run beside the caller's on a second connection (a thread) while the caller goes on: the full
    rebuild's return facts (a quarter of its time at chain-1m) beside the channel, cohort and load facts,
    on a machine's second core. Only on PostgreSQL outside a transaction (the rebuild command commits
    each phase): inside one — a test, a caller's ``atomic`` — the other connection would not see the
    caller's rows, so the work runs in the caller's thread at ``join`` (``alone``: always so). ``join``
    returns its result or raises its error."""

    def __init__(self, work: Callable[[], int], *, alone: bool = False) -> None:
        self.work = work
        self.result = 0
        self.error: BaseException | None = None
        self.thread: threading.Thread | None = None
        if not alone and connection.vendor == "postgresql" and not connection.in_atomic_block:
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
