"""Rows services write in bulk as users work reach the daily facts within the minute, through
``core.signals.bulk_written``: a provider's call event stored by the call ingestion (its one-statement
PostgreSQL path sends no ``post_save``), with its patient's first touches, and care's follow-up tasks of
a done visit (plain multi-row inserts). The recorded changes applied equal a full rebuild."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import Min

from clinicflow.acquisition import ingestion
from clinicflow.acquisition.integrations import services as integration_services
from clinicflow.acquisition.models import Call
from clinicflow.acquisition.providers import CallEvent
from clinicflow.analytics.models import FactsChange
from clinicflow.analytics.owner.changes import apply_changes
from clinicflow.analytics.tests.test_owner_incremental import _applied_equals_rebuilt, _everything
from clinicflow.analytics.tests.test_score_facts import _facts as score_facts
from clinicflow.booking.models import Appointment, AppointmentStatus
from clinicflow.care.models import FollowUpStep, FollowUpTask
from clinicflow.care.services.generation import followups_generate_for
from clinicflow.care.services.plans import plans_ensure_defaults
from clinicflow.core.models import Branch, Organization
from clinicflow.patients.selectors import patient_text_phone


@pytest.mark.django_db
def test_an_ingested_call_reaches_its_day_and_its_patients_first_touches(built: Organization) -> None:
    org = built
    firsts = (
        Appointment.objects.for_org(org)
        .filter(status__in=[AppointmentStatus.ARRIVED, AppointmentStatus.DONE])
        .values("patient_id")
        .annotate(at=Min("start_at"))
        .filter(at__gte=dt.datetime(2026, 11, 10, tzinfo=dt.UTC))
        .order_by("at", "patient_id")
    )
    first = firsts.first()
    assert first is not None
    patient = first["patient_id"]
    visit = Appointment.objects.for_org(org).get(patient_id=patient, start_at=first["at"])
    phone = patient_text_phone(org=org, patient_id=patient)
    assert phone
    branch = Branch.objects.get(pk=visit.branch_id)
    integration = integration_services.integration_create(
        org=org, actor=None, provider="generic", branch=branch
    )[0]
    FactsChange.objects.for_org(org).delete()
    before = _everything(org)
    started = visit.start_at - dt.timedelta(days=6)
    event = CallEvent(
        provider_call_id="bulk-1",
        status="completed",
        started_at=started,  # a week before their first visit: now their first touch
        caller=phone,
        called="+74950000000",
        duration=95,
        utm_source="yandex",
        utm_medium="cpc",
        utm_campaign="bulk-written",
    )
    result = ingestion.call_ingest(
        org=org, integration=integration, provider="generic", event=event, payload={"call_id": "bulk-1"}
    )
    assert result.created and result.call.patient_id == patient
    recorded = list(FactsChange.objects.for_org(org).values_list("patient_id", "branch_id", "at"))
    assert (patient, branch.pk, started) in recorded
    after = _applied_equals_rebuilt(org, before)
    assert after[0] != before[0]  # the day's calls
    again = ingestion.call_ingest(  # the same event again changes nothing: nothing recorded
        org=org, integration=integration, provider="generic", event=event, payload={"call_id": "bulk-1"}
    )
    assert not again.created and not FactsChange.objects.for_org(org).exists()
    assert Call.objects.for_org(org).filter(provider_call_id="bulk-1").count() == 1


@pytest.mark.django_db
def test_care_generated_tasks_reach_the_score_facts(built: Organization) -> None:
    org = built
    plans_ensure_defaults(org=org)  # the default plans (the simulated clinic's tasks have none)
    planned = FollowUpStep.objects.for_org(org).filter(is_active=True, plan__is_active=True)
    visit = (
        Appointment.objects.for_org(org)
        .filter(status=AppointmentStatus.DONE, service_id__in=planned.values("plan__service_id"))
        .order_by("-start_at")
        .first()
    )
    assert visit is not None
    FollowUpTask.objects.for_org(org).filter(appointment=visit).delete()
    while apply_changes(org).changes:  # the deletions' own changes
        pass
    before = score_facts(org)
    assert followups_generate_for(org=org, appointments=[visit]) > 0
    due = set(FollowUpTask.objects.for_org(org).filter(appointment=visit).values_list("due_at", flat=True))
    recorded = list(FactsChange.objects.for_org(org).values_list("patient_id", "branch_id", "at"))
    assert {at for _p, _b, at in recorded} == due
    assert all(p is None and b == visit.branch_id for p, b, _at in recorded)
    _applied_equals_rebuilt(org, before, score_facts)  # changed: the follow-ups due on those days
