"""The per-channel and cohort facts (``channel_facts``, ``cohort_facts``) built beside the day facts:
one call from the full rebuild (``facts.rebuild``) and one from the incremental update
(``changes.apply_changes``) with the local days it builds again."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection

from clinicflow.analytics.owner.admin_facts import build_admin_facts
from clinicflow.analytics.owner.capload_facts import build_capacity_facts
from clinicflow.analytics.owner.channel_facts import build_channel_facts
from clinicflow.analytics.owner.cohort_facts import build_cohort_facts
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
) -> int:
    """The channel, cohort and revenue-split facts of every day (``days`` None) or of these local days
    (their revenue facts built before); rows written. ``cells`` (PostgreSQL, the incremental update:
    the (branch, local day) cells where the changed patients' first visits were and are, with their
    ``FirstVisitFact`` rows current): the channel and cohort facts of those cells only. ``patients``
    (the incremental update's changed ones): the return facts of their later visits too (``return_facts``:
    a deleted visit's patient has no appointment left on its day)."""
    if cells is None:
        return (
            build_channel_facts(org, days)
            + build_cohort_facts(org, days)
            + build_revenue_split(org, days)
            + build_capacity_facts(org, days)  # the capacity report's load (#17, ``capload_facts``)
            + build_score_facts(org, days)  # the scorecards' and balanced doctor's (#17, ``score_facts``)
            + build_return_facts(org, days, patients)  # the planner's return visits (#18, ``return_facts``)
        )
    scope = Cells(pairs=tuple(sorted(set(cells), key=str)))
    return (
        build_channel_facts(org, cells=scope)
        + build_cohort_facts(org, cells=scope)
        + build_revenue_split(org, days)
        + build_capacity_facts(org, days)
        + build_score_facts(org, days)
        + build_return_facts(org, days, patients)
    )


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
