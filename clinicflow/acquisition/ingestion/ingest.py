"""``call_ingest``: one provider call event becomes one stored call (idempotent by the provider's call
id). PostgreSQL takes the one-statement path (``pgsql``), other databases the portable path
(``portable``); both are built from ``rules``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import connection
from django.utils import timezone

from clinicflow.acquisition.ingestion import pgsql, portable, rules
from clinicflow.acquisition.ingestion.event import Incoming, IngestResult, incoming
from clinicflow.acquisition.ingestion.terms import as_q
from clinicflow.acquisition.models import Call, CallbackTask, Integration
from clinicflow.acquisition.providers import CallEvent
from clinicflow.core.models import Organization
from clinicflow.core.signals import bulk_written

TOUCH_EVERY = dt.timedelta(minutes=1)


def call_ingest(
    *,
    org: Organization,
    integration: Integration | None,
    provider: str,
    event: CallEvent,
    payload: Mapping[str, Any],
) -> IngestResult:
    """Upsert one call event on (organisation, provider, provider call id).

    Duplicates and out-of-order events end as one row: the status never goes backwards (a lower-rank
    event only fills empty fields), so any order of the same events gives the same row."""
    item = incoming(org=org, integration=integration, provider=provider, event=event, payload=payload)
    result = pgsql.ingest(item) if connection.vendor == "postgresql" else None
    if result is None:
        result = portable.ingest(item)
        if result.created or result.changed:  # (the one statement's own CTEs announce them: pgsql)
            _written(item, result.call)
    _touch_integration(integration)
    return result


def _written(item: Incoming, call: Call) -> None:
    """The call the portable path stored announced to the daily facts (``core.signals.bulk_written``):
    its day's calls and front desk, its patient's first touches; the path's other writes too — the
    missed call's callback task (its due day) and the caller's later calls in the window (whose unique
    flag it may have taken)."""
    org = item.org
    moments = [(call.patient_id, call.branch_id, call.started_at)]
    tasks = CallbackTask.objects.filter(organization=org)  # the one opened, those closed (``portable``)
    opened = tasks.filter(call=call) | tasks.filter(done_at=call.started_at, outcome=rules.GOT_THROUGH)
    moments += [(None, branch, due) for branch, due in opened.values_list("branch_id", "due_at")]
    same = rules.same_caller(item.caller_e164, item.caller_raw)
    if same:
        # every later call of the caller in the window (the flag is taken from those that had it)
        window = tuple(t for t in rules.LATER_IN_WINDOW if t[0] == "started_at")
        later = Call.objects.for_org(org).filter(as_q(same + window, item.window_values()))
        moments += list(later.exclude(pk=call.pk).values_list("patient_id", "branch_id", "started_at"))
    bulk_written.send(sender=Call, organization_id=org.pk, moments=moments)


def _touch_integration(integration: Integration | None) -> None:
    """Record the integration's last event, at most once a minute per process."""
    if integration is not None:
        now = timezone.now()
        if integration.last_event_at is None or now - integration.last_event_at > TOUCH_EVERY:
            integration.last_event_at = now
            Integration.objects.filter(pk=integration.pk).update(last_event_at=now)
