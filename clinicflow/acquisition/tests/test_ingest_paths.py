"""The PostgreSQL statement and the portable ORM path store identical rows.

Both are built from ``ingestion.rules``; Hypothesis replays random event sequences — random callers
(E.164, unparseable, repeated), numbers (dynamic with a web-session lease, static with a campaign,
unknown), statuses, duplicates, out-of-order updates, optional fields and uniqueness windows — through
each path on the same data and compares every stored call, callback task and web session. A provider
call keeps its caller, number and start time across its events (as every provider sends them)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test import override_settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from clinicflow.acquisition import ingestion
from clinicflow.acquisition.defaults import channels_ensure, tracking_settings
from clinicflow.acquisition.ingestion import pgsql, portable
from clinicflow.acquisition.ingestion.event import Incoming, IngestResult, incoming
from clinicflow.acquisition.integrations.services import integration_create
from clinicflow.acquisition.models import (
    Call,
    CallbackTask,
    Campaign,
    NumberLease,
    NumberPool,
    TrackingNumber,
    WebSession,
)
from clinicflow.acquisition.providers import CallEvent
from clinicflow.patients.models import Patient, PatientPhone

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

T0 = dt.datetime(2025, 3, 1, 9, tzinfo=dt.UTC)
DAY_MINUTES = 24 * 60
CALLERS = ["+79160000001", "+79160000002", "+79160000003", "8 (916) 000-00-01", "anonymous", ""]
DYNAMIC, STATIC, UNKNOWN = "+74951000001", "+74951000002", "+74951000009"
CALLED = [DYNAMIC, STATIC, UNKNOWN, ""]
SOURCES = [("", "", ""), ("google", "cpc", "spring"), ("google", "cpc", ""), ("facebook", "social", "")]
STATUSES = ["ringing", "answered", "missed", "completed"]

calls = st.lists(
    st.tuples(
        st.sampled_from(CALLERS),
        st.sampled_from(CALLED),
        st.integers(-40 * DAY_MINUTES, 40 * DAY_MINUTES),
        st.sampled_from(SOURCES),
    ),
    min_size=1,
    max_size=6,
)
updates = st.tuples(
    st.integers(0, 5),  # which call (modulo the number of calls)
    st.sampled_from(STATUSES),
    st.one_of(st.none(), st.integers(0, 900)),  # duration
    st.booleans(),  # recording
    st.booleans(),  # ended
    st.booleans(),  # administrator
)


def world(org: Any, branch: Any) -> dict[str, Any]:
    """Numbers, a campaign, a web session leasing the dynamic number, patient cards (two live cards
    share a phone; one card is merged away)."""
    channels = channels_ensure(org=org)
    tracking_settings(org=org)
    campaign = Campaign.objects.create(
        organization=org,
        channel=channels["offline"],
        name="Metro",
        utm_source="metro",
        utm_medium="offline",
        utm_campaign="spring",
    )
    dynamic = TrackingNumber.objects.create(
        organization=org, e164=DYNAMIC, pool=NumberPool.DYNAMIC, branch=branch
    )
    TrackingNumber.objects.create(organization=org, e164=STATIC, pool=NumberPool.STATIC, campaign=campaign)
    for i, (start, end) in enumerate([(-3, 2), (1, 5), (20, 30)]):
        session = WebSession.objects.create(
            organization=org,
            client_id=f"c{i}",
            source=f"src{i}",
            medium="cpc",
            utm_campaign=f"u{i}",
            channel=channels["search_ads"],
        )
        NumberLease.objects.create(
            organization=org,
            number=dynamic,
            session=session,
            leased_at=T0 + dt.timedelta(days=start),
            held_until=T0 + dt.timedelta(days=end),
        )
    cards = []
    for i, phone in enumerate(["+79160000001", "+79160000001", "+79160000002"]):
        card = Patient.objects.create(organization=org, last_name=f"P{i}", first_name="A")
        PatientPhone.objects.create(organization=org, patient=card, e164=phone)
        cards.append(card)
    Patient.objects.filter(pk=cards[2].pk).update(merged_into=cards[0])
    integration, _ = integration_create(org=org, actor=None, provider="generic")
    return {"integration": integration}


def events(spec: list[Any], sequence: list[Any], admin_email: str) -> list[CallEvent]:
    out = []
    for index, status, duration, recording, ended, admin in sequence:
        caller, called, minutes, (source, medium, utm_campaign) = spec[index % len(spec)]
        started = T0 + dt.timedelta(minutes=minutes)
        out.append(
            CallEvent(
                provider_call_id=f"call-{index % len(spec)}",
                status=status,
                started_at=started,
                caller=caller,
                called=called,
                duration=duration,
                ended_at=started + dt.timedelta(seconds=duration or 30) if ended else None,
                recording_url=f"https://rec.example/{index}/{status}" if recording else "",
                administrator_email=admin_email if admin else "",
                utm_source=source,
                utm_medium=medium,
                utm_campaign=utm_campaign,
            )
        )
    return out


def snapshot(org: Any) -> dict[str, Any]:
    fields = [
        f.attname for f in Call._meta.concrete_fields if f.attname not in ("id", "created_at", "updated_at")
    ]
    rows = sorted(Call.objects.for_org(org).values_list("provider_call_id", *fields), key=lambda r: r[0])
    tasks = CallbackTask.objects.for_org(org).values_list(
        "call__provider_call_id", "branch_id", "phone", "due_at", "done_at", "outcome", "assigned_to_id"
    )
    sessions = WebSession.objects.for_org(org).values_list("client_id", "patient_id")
    return {"calls": rows, "callbacks": sorted(tasks), "sessions": sorted(sessions)}


def replay(
    path: Any, org: Any, integration: Any, stream: list[CallEvent]
) -> tuple[list[Any], dict[str, Any]]:
    """Every event through one path inside a savepoint that is rolled back afterwards."""
    ingestion.clear_caches()
    results: list[tuple[Any, ...]] = []
    with transaction.atomic():
        for number, event in enumerate(stream):
            item: Incoming = incoming(
                org=org, integration=integration, provider="generic", event=event, payload={"n": number}
            )
            result: IngestResult | None = path(item)
            assert result is not None
            call = result.call
            results.append((result.created, result.changed, call.status, call.status_rank, call.is_unique))
        state = snapshot(org)
        transaction.set_rollback(True)
    return results, state


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the one-statement path is PostgreSQL's")
@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(spec=calls, sequence=st.lists(updates, min_size=1, max_size=14), window=st.integers(1, 40))
def test_the_postgresql_statement_stores_what_the_portable_path_stores(
    org: Any, branch: Any, users: Any, spec: list[Any], sequence: list[Any], window: int
) -> None:
    stream = events(spec, sequence, users["frontdesk"].email)
    config = {**settings.CLINICFLOW, "UNIQUE_CALL_WINDOW_DAYS": window}
    with override_settings(CLINICFLOW=config), transaction.atomic():
        integration = world(org, branch)["integration"]
        fast = replay(pgsql.ingest, org, integration, stream)
        reference = replay(portable.ingest, org, integration, stream)
        transaction.set_rollback(True)
    assert fast[1] == reference[1]
    assert fast[0] == reference[0]
