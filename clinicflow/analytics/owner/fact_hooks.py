"""The per-channel and cohort facts (``channel_facts``, ``cohort_facts``) built beside the day facts:
one call from the full rebuild (``facts.rebuild``) and one from the incremental update
(``changes.apply_changes``) with the local days it builds again."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from clinicflow.analytics.owner.channel_facts import build_channel_facts
from clinicflow.analytics.owner.cohort_facts import build_cohort_facts
from clinicflow.core.models import Organization


def build_owner_facts(org: Organization, days: Collection[dt.date] | None = None) -> int:
    """The channel and cohort facts of every day (``days`` None) or of these local days; rows written."""
    return build_channel_facts(org, days) + build_cohort_facts(org, days)


def rebuild_owner_facts(org: Organization, date_from: dt.date | None, last: dt.date) -> int:
    """After a full rebuild: every day's, or (``date_from``) the days from it to ``last``."""
    if date_from is None:
        return build_owner_facts(org)
    days = [date_from + dt.timedelta(days=i) for i in range((last - date_from).days + 1)]
    return build_owner_facts(org, days)


def predictions_stored(org: Organization) -> int:
    """After the stored predictions change (a lifetime-value run): the channel facts again, whose
    lifetime value and revenue before the predictions' cut-off depend on them."""
    return build_channel_facts(org)
