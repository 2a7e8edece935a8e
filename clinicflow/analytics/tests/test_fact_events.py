"""A first patient's later visits and payments reach the cohort and channel facts as events of their day
and month (``owner.fact_events``, PostgreSQL): only those months and days of their first visit's cell
are built again, from the members active then, and the facts equal a full rebuild — on SQLite too,
where the days are built again whole."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from clinicflow.analytics.models import CohortFact, FactsChange
from clinicflow.analytics.owner import fact_hooks
from clinicflow.analytics.owner.chan_models import PAID, ChanFirstFact
from clinicflow.analytics.owner.fact_events import CellEvents
from clinicflow.analytics.owner.first_models import FirstVisitFact
from clinicflow.analytics.owner.signals import PAYMENT
from clinicflow.analytics.tests.conftest import first_happened
from clinicflow.analytics.tests.test_owner_incremental import _applied_equals_rebuilt, _everything
from clinicflow.booking.models import Appointment, AppointmentStatus, Payment
from clinicflow.booking.services.payments import payment_record
from clinicflow.core.models import Organization
from clinicflow.core.money import Money


def _spy(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Record the cells built whole and the events built alone by the incremental update."""
    seen: dict[str, Any] = {"cells": set(), "events": set()}
    build = fact_hooks.build_owner_facts

    def spy(
        org: Organization,
        days: Any = None,
        cells: Any = None,
        patients: Any = (),
        events: Any = None,
        **kw: Any,
    ) -> int:
        seen["cells"] |= set(cells or ())
        seen["events"] |= set(events.days if events else ())
        return build(org, days, cells, patients, events, **kw)

    monkeypatch.setattr(fact_hooks, "build_owner_facts", spy)
    return seen


@pytest.mark.django_db
def test_a_first_patients_later_visit_and_payments_are_events_of_their_month(
    built: Organization, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = built
    seen = _spy(monkeypatch)
    firsts = first_happened(org)
    early = sorted((at, str(p)) for p, at in firsts.items())[:40]
    visit = (
        Appointment.objects.for_org(org)
        .filter(patient_id=early[0][1], start_at=early[0][0])
        .select_related("patient", "branch")
        .first()
    )
    assert visit is not None
    patient = visit.patient
    before = _everything(org)
    # two months after the first visit the patient comes back (done) and pays
    back = dt.timedelta(days=61)
    again = Appointment.objects.create(
        organization=org,
        branch=visit.branch,
        patient=patient,
        service=visit.service,
        doctor=visit.doctor,
        start_at=visit.start_at + back,
        end_at=visit.end_at + back,
        busy_until=visit.busy_until + back,
        price=visit.price,
        currency=visit.currency,
        status=AppointmentStatus.DONE,
    )
    payment_record(
        org=org,
        actor=None,
        patient=patient,
        branch=visit.branch,
        amount=Money(Decimal("2400.00"), visit.currency),
        method="card",
        appointment=again,
        paid_at=again.start_at + dt.timedelta(hours=1),
    )
    # another early first patient's later payment moves a month on; a third's is put on the first card
    later = (
        Payment.objects.for_org(org)
        .filter(patient_id__in=[p for _at, p in early[1:]])
        .exclude(patient_id=patient.pk)
        .order_by("paid_at")
    )
    moved = [p for p in later if p.paid_at > firsts[p.patient_id] + dt.timedelta(days=1)][:2]
    assert len(moved) == 2
    moved[0].paid_at += dt.timedelta(days=31)
    moved[0].save()
    moved[1].patient = patient
    moved[1].save()
    kinds = set(
        FactsChange.objects.for_org(org)
        .exclude(appointment_id__isnull=False)
        .values_list("was_status", flat=True)
    )
    assert kinds == {PAYMENT}
    _applied_equals_rebuilt(org, before)
    if connection.vendor != "postgresql":
        return  # SQLite builds the days again whole
    # the cell of the first visit was not built again whole: its month of the return was
    cell = FirstVisitFact.objects.for_org(org).get(patient_id=patient.pk, arrived=True)
    assert (cell.branch_id, cell.day) not in seen["cells"]
    back_day = (again.start_at).astimezone(visit.branch.tz).date()
    assert (cell.branch_id, cell.day, back_day) in seen["events"]
    month = CohortFact.objects.for_org(org).filter(branch_id=cell.branch_id, day=cell.day)
    assert month.filter(k__gte=1, active__gt=0).exists()
    paid = ChanFirstFact.objects.for_org(org).filter(branch_id=cell.branch_id, day=cell.day, kind=PAID)
    assert paid.filter(paid_day=back_day).exists()


@pytest.mark.django_db
def test_a_first_visit_found_not_to_have_happened_rebuilds_its_cell_whole(
    built: Organization, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A change at or before a patient's first visit is not an event: their cell is built whole."""
    org = built
    seen = _spy(monkeypatch)
    at, patient = max((at, str(p)) for p, at in first_happened(org).items())  # the latest first patient
    visit = Appointment.objects.for_org(org).filter(patient_id=patient, start_at=at).first()
    assert visit is not None and visit.status in (AppointmentStatus.ARRIVED, AppointmentStatus.DONE)
    cells = FirstVisitFact.objects.for_org(org).filter(patient_id=visit.patient_id, arrived=True)
    was = set(cells.values_list("branch_id", "day"))
    before = _everything(org)
    visit.status = AppointmentStatus.NO_SHOW  # the first visit did not happen after all
    visit.save()
    _applied_equals_rebuilt(org, before)
    if connection.vendor == "postgresql":
        assert was and was <= seen["cells"]
        assert not {e for e in seen["events"] if e[:2] in was}


def test_cell_events_months_cover_every_day_of_their_months() -> None:
    import uuid

    b = uuid.uuid4()
    events = CellEvents(days=((b, dt.date(2026, 1, 5), dt.date(2026, 2, 27)),))
    days = events.month_days()
    assert min(days) == dt.date(2026, 2, 1) and max(days) == dt.date(2026, 2, 28) and len(days) == 28
    assert events.month_arrays() == ([b], [dt.date(2026, 1, 5)], [2026 * 12 + 1])
