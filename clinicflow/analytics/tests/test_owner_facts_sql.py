"""The set-based build of the daily facts (``owner.facts_sql``: grouped statements on PostgreSQL) gives
exactly the rows of the Python build (``facts.compute``, the reference and the SQLite path): the full
rebuild in chunks of any size, a run of days built alone (the incremental path) and the first-visit
counts of scattered days — on a simulated clinic with refunds, payments in a second currency and for
no appointment, a branch moved to a zone with daylight saving (New York, the November change inside the
data), calls, leads and patient cards tied to no branch, an inactive branch, survey answers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from clinicflow.acquisition.models import Call, CallStatus, Lead
from clinicflow.analytics.models import DayFact, RevenueFact
from clinicflow.analytics.owner import facts_firsts
from clinicflow.analytics.owner.facts import COUNTS, build, build_first_visits, rebuild
from clinicflow.analytics.owner.facts_more import FIRST_COUNTS
from clinicflow.booking.models import Payment, PaymentKind
from clinicflow.core.models import Branch, Organization
from clinicflow.feedback.models import SurveyAnswer
from clinicflow.patients.models import Patient
from clinicflow.simulator.runner import simulate_org
from clinicflow.simulator.scenario import load_scenario

END = dt.date(2026, 11, 30)


def _facts(org: Organization) -> tuple[list[Any], list[Any]]:
    days = sorted(DayFact.objects.for_org(org).values_list("branch_id", "day", *COUNTS), key=str)
    rev = sorted(
        RevenueFact.objects.for_org(org).values_list(
            "branch_id", "day", "currency", "doctor_id", "service_id", "first", "amount", "payments"
        ),
        key=str,
    )
    return days, rev


@pytest.fixture
def clinic(org: Organization) -> Organization:
    simulate_org(
        org=org,
        scenario=load_scenario(overrides={"clinic": {"months": 4, "end_date": END.isoformat()}}),
        seed=7,
    )
    branches = list(Branch.objects.for_org(org).order_by("name"))
    assert len(branches) >= 2
    Branch.objects.filter(pk=branches[1].pk).update(timezone="America/New_York")
    pays = list(Payment.objects.for_org(org).exclude(appointment=None).order_by("paid_at")[:60])
    for p in pays[::3]:  # refunds a month later, payments in another currency and for no appointment
        Payment.objects.create(
            organization=org,
            branch_id=p.branch_id,
            patient_id=p.patient_id,
            appointment_id=p.appointment_id,
            kind=PaymentKind.REFUND,
            amount=(p.amount / 3).quantize(Decimal("0.01")),
            currency=p.currency,
            method=p.method,
            paid_at=p.paid_at + dt.timedelta(days=33),
        )
    for p in pays[1::4]:
        Payment.objects.create(
            organization=org,
            branch_id=p.branch_id,
            patient_id=p.patient_id,
            appointment_id=p.appointment_id if p.pk.int % 2 else None,
            kind=p.kind,
            amount=Decimal("10.05"),
            currency="EUR",
            method=p.method,
            paid_at=p.paid_at + dt.timedelta(hours=5),
        )
    late = dt.datetime.combine(END - dt.timedelta(days=20), dt.time(23, 30), tzinfo=dt.UTC)
    for i in range(6):  # tied to no branch: the UTC day (23:30 UTC is the next day in Moscow)
        at = late - dt.timedelta(days=i, hours=i)
        Call.objects.create(
            organization=org,
            provider="generic",
            provider_call_id=f"sql-{i}",
            started_at=at,
            status=CallStatus.MISSED if i % 2 else CallStatus.ANSWERED,
            caller_e164=f"+7999000000{i}",
            is_unique=bool(i % 3),
        )
        Lead.objects.create(organization=org, created_at=at)
    Patient.objects.filter(pk__in=list(Patient.objects.for_org(org).values_list("pk", flat=True)[:5])).update(
        branch=None
    )
    assert SurveyAnswer.objects.for_org(org).exists()
    return org


@pytest.mark.django_db
def test_set_based_facts_equal_the_python_build(clinic: Organization) -> None:
    org = clinic
    rebuild(org, reference=True)
    reference = _facts(org)
    assert reference[0] and reference[1]
    assert {r[2] for r in reference[1]} == {"RUB", "EUR"} and any(r[0] is None for r in reference[0])
    assert any(r[6] < 0 for r in reference[1]) and any(r[5] for r in reference[1])  # refunds, first-visit
    for name in COUNTS:  # every figure is exercised
        assert any(r[2 + COUNTS.index(name)] for r in reference[0]), name
    assert facts_firsts.supported() == (_vendor() == "postgresql")
    rebuild(org)
    assert _facts(org) == reference
    rebuild(org, chunk_days=17)
    assert _facts(org) == reference
    # a run of days alone (the incremental path: only the patients near those days are read)
    d0, d1 = END - dt.timedelta(days=45), END - dt.timedelta(days=38)
    DayFact.objects.for_org(org).filter(day__gte=d0, day__lte=d1).update(appointments=999, first_booked=7)
    RevenueFact.objects.for_org(org).filter(day__gte=d0, day__lte=d1).delete()
    build(org, d0, d1)
    assert _facts(org) == reference
    # the first-visit counts of scattered days
    days = {END - dt.timedelta(days=n) for n in (3, 4, 30, 61, 62, 90)}
    DayFact.objects.for_org(org).filter(day__in=days).update(**dict.fromkeys(FIRST_COUNTS, 5))
    build_first_visits(org, days)
    assert [d for d in _facts(org)[0] if any(d[2:])] == reference[0]


@pytest.mark.django_db
def test_an_inactive_branch_counts_on_the_utc_clock_in_both_builds(clinic: Organization) -> None:
    org = clinic
    branch = Branch.objects.for_org(org).order_by("name").first()
    assert branch is not None
    Branch.objects.filter(pk=branch.pk).update(is_active=False)
    rebuild(org, reference=True)
    reference = _facts(org)
    rebuild(org)
    assert _facts(org) == reference
    assert not any(r[0] == branch.pk and r[-1] for r in reference[0])  # no load of an inactive branch


def _vendor() -> str:
    from django.db import connection

    return connection.vendor


@pytest.mark.django_db
def test_a_rebuild_of_current_facts_writes_only_what_changed(clinic: Organization) -> None:
    """The full rebuild on PostgreSQL writes only the rows that differ (``facts_write.replace_rows``):
    current facts keep their ids; a changed, a missing, a doubled and a stale row are all put right."""
    from clinicflow.analytics.owner.first_models import FirstVisitFact

    if _vendor() != "postgresql":
        pytest.skip("the set-based build and its first-visit rows are PostgreSQL's")
    org = clinic
    rebuild(org, reference=True)
    reference = _facts(org)
    rebuild(org)
    assert _facts(org) == reference
    visits = sorted(FirstVisitFact.objects.for_org(org).values_list(*VISIT_FIELDS), key=str)
    ids = _ids(org)
    rebuild(org)
    assert _facts(org) == reference
    assert _ids(org) == ids  # nothing written again
    day = DayFact.objects.for_org(org).filter(appointments__gt=0).order_by("day").first()
    rev = RevenueFact.objects.for_org(org).order_by("day").first()
    visit = FirstVisitFact.objects.for_org(org).filter(arrived=True).order_by("day").first()
    assert day is not None and rev is not None and visit is not None
    DayFact.objects.filter(pk=day.pk).update(appointments=day.appointments + 1)
    DayFact.objects.create(organization=org, branch_id=day.branch_id, day=day.day - dt.timedelta(days=900))
    RevenueFact.objects.bulk_create([RevenueFact(**{**_fields(rev), "id": None})])  # a second copy
    FirstVisitFact.objects.bulk_create([FirstVisitFact(**{**_fields(visit), "id": None})])
    FirstVisitFact.objects.filter(pk=visit.pk).update(satisfied=not visit.satisfied)
    RevenueFact.objects.for_org(org).exclude(pk=rev.pk).order_by("-day").first().delete()  # type: ignore[union-attr]
    rebuild(org)
    assert _facts(org) == reference
    assert sorted(FirstVisitFact.objects.for_org(org).values_list(*VISIT_FIELDS), key=str) == visits


VISIT_FIELDS = ("patient_id", "branch_id", "day", "booked", "arrived", *FIRST_COUNTS[2:])  # and the funnel


def _ids(org: Organization) -> set[Any]:
    from clinicflow.analytics.owner.first_models import FirstVisitFact

    return {
        *DayFact.objects.for_org(org).values_list("pk", flat=True),
        *RevenueFact.objects.for_org(org).values_list("pk", flat=True),
        *FirstVisitFact.objects.for_org(org).values_list("pk", flat=True),
    }


def _fields(row: Any) -> dict[str, Any]:
    return {f.attname: getattr(row, f.attname) for f in row._meta.concrete_fields}
