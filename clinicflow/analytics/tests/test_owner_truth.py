"""The owner's view recovers the simulated clinic's planted truth; its funnel equals counts taken
straight from the raw tables; incremental facts equal a full rebuild; each page's query count is
bounded."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

import pytest
from django.db.models import F, Q

import clinicflow.analytics.reports.owner  # noqa: F401 - registers the owner's reports
from clinicflow.acquisition.attribution import HAPPENED
from clinicflow.analytics.models import DayFact, RevenueFact
from clinicflow.analytics.owner.facts import COUNTS, rebuild, update_patients
from clinicflow.analytics.owner.funnel import funnel_counts
from clinicflow.analytics.owner.home import owner_view
from clinicflow.analytics.owner.selectors import revenue_split
from clinicflow.booking.models import Appointment, AppointmentStatus, Payment, PaymentKind
from clinicflow.core.models import Organization
from clinicflow.core.selectors import branch_list
from clinicflow.feedback.models import SurveyAnswer
from clinicflow.patients.models import Patient, Source
from clinicflow.simulator.runner import simulate_org
from clinicflow.simulator.scenario import load_scenario

SCENARIO = {"clinic": {"months": 5, "end_date": "2026-11-30"}}


@pytest.fixture
def simulated(org: Organization) -> tuple[Organization, dict]:
    result = simulate_org(org=org, scenario=load_scenario(overrides=SCENARIO), seed=17)
    rebuild(org)
    return org, result.truth


def _period(truth: dict) -> tuple[dt.date, dt.date]:
    return dt.date.fromisoformat(truth["start_date"]), dt.date.fromisoformat(truth["end_date"])


@pytest.mark.django_db
def test_first_visit_revenue_share_and_total_are_the_simulators(simulated) -> None:
    org, truth = simulated
    d0, d1 = _period(truth)
    view = owner_view(
        org=org, date_from=d0 - dt.timedelta(days=2), date_to=d1 + dt.timedelta(days=2), branch=None
    )
    planted = truth["revenue"]
    assert planted["currency"] == view.currency
    split = revenue_split(org=org, d0=d0 - dt.timedelta(days=2), d1=d1 + dt.timedelta(days=2), branch=None)
    # the simulator's revenue is that of visits; memberships are paid for no appointment
    assert split[view.currency].visits == Decimal(str(planted["total"])).quantize(Decimal("0.01"))
    assert view.figure("revenue").value == split[view.currency].total
    share = view.figure("first_share").value
    assert share == pytest.approx(planted["first_visits_share"], abs=1e-4)
    assert 0.2 < share < 0.6  # seed 004: about a third (more in a young clinic)


def _raw_funnel(org: Organization, branch, d0: dt.date, d1: dt.date) -> dict[str, int]:
    """The funnel counted in plain Python over every appointment of the branch's patients."""
    tz = branch.tz
    appts = list(
        Appointment.objects.for_org(org).values_list(
            "patient_id", "start_at", "status", "is_first_visit", "branch_id"
        )
    )
    by_patient: dict = defaultdict(list)
    for p, at, status, first, b in appts:
        by_patient[p].append((at, status, first, b))
    booked = arrived = treated = returned = third = 0
    firsts = []
    for p, rows in by_patient.items():
        rows.sort()
        b_at, _s, _f, b_branch = rows[0]
        if b_branch == branch.pk and d0 <= b_at.astimezone(tz).date() <= d1:
            booked += 1
        happened = [r for r in rows if r[1] in HAPPENED]
        if not happened:
            continue
        a_at, _s, _f, a_branch = happened[0]
        if a_branch == branch.pk and d0 <= a_at.astimezone(tz).date() <= d1:
            arrived += 1
            firsts.append(p)
            treated += any(not f and at > a_at for at, _st, f, _b in happened)
            returned += any(
                a_at.date() < at.date() and at - a_at <= dt.timedelta(days=183) for at, *_ in happened
            )
            third += len(happened) >= 3
    referred = Patient.objects.for_org(org).filter(pk__in=firsts, source=Source.REFERRAL).count()
    answers = SurveyAnswer.objects.for_org(org).filter(patient_id__in=firsts)
    happy = answers.filter(Q(nps__gte=9) | Q(result__gte=F("expectation"))).values("patient_id")
    satisfied = len({r["patient_id"] for r in happy})
    return {
        "satisfied": satisfied,
        "booked": booked,
        "arrived": arrived,
        "treated": treated,
        "returned": returned,
        "third": third,
        "referred": referred,
    }


@pytest.mark.django_db
def test_funnel_counts_equal_the_raw_tables(simulated) -> None:
    org, truth = simulated
    d0, d1 = _period(truth)
    mid = d0 + (d1 - d0) / 2
    for branch in branch_list(org=org):
        counts = funnel_counts(org=org, date_from=mid, date_to=d1, branch=branch)
        raw = _raw_funnel(org, branch, mid, d1)
        assert {k: counts[k] for k in raw} == raw
        assert raw["arrived"] > 20 and 0 < counts["satisfied"] <= raw["arrived"]
        assert counts["leads_calls"] > counts["booked"]


def _facts(org: Organization) -> tuple[list, list]:
    days = sorted(DayFact.objects.for_org(org).values_list("branch_id", "day", *COUNTS), key=str)
    rev = sorted(
        RevenueFact.objects.for_org(org).values_list(
            "branch_id", "day", "currency", "doctor_id", "service_id", "first", "amount", "payments"
        ),
        key=str,
    )
    return days, rev


@pytest.mark.django_db
def test_incremental_facts_equal_a_full_rebuild(simulated) -> None:
    org, truth = simulated
    d0, d1 = _period(truth)
    appts = list(
        Appointment.objects.for_org(org).filter(status=AppointmentStatus.DONE).order_by("start_at")[:40:10]
    )
    touched: set[dt.date] = set()

    def mark(at: dt.datetime, branch) -> None:
        touched.add(at.astimezone(branch.tz).date())

    first, second, third, fourth = appts
    # a visit marked a no-show, a booking moved to another day, a payment refunded, a payment re-dated
    Appointment.objects.filter(pk=first.pk).update(status=AppointmentStatus.NO_SHOW)
    mark(first.start_at, first.branch)
    moved = second.start_at + dt.timedelta(days=3)
    shift = moved - second.start_at
    Appointment.objects.filter(pk=second.pk).update(
        start_at=moved, end_at=second.end_at + shift, busy_until=second.busy_until + shift
    )
    mark(second.start_at, second.branch)
    mark(moved, second.branch)
    pay = Payment.objects.for_org(org).filter(appointment=third).first()
    assert pay is not None
    Payment.objects.create(
        organization=org,
        appointment=third,
        patient=pay.patient,
        branch=pay.branch,
        amount=pay.amount,
        currency=pay.currency,
        method=pay.method,
        kind=PaymentKind.REFUND,
        paid_at=pay.paid_at + dt.timedelta(days=1),
    )
    mark(pay.paid_at + dt.timedelta(days=1), pay.branch)
    # a payment is never deleted now (its invoice tender keeps it): one is re-dated instead
    later = Payment.objects.for_org(org).filter(appointment=fourth).first()
    assert later is not None
    mark(later.paid_at, later.branch)
    Payment.objects.filter(pk=later.pk).update(paid_at=later.paid_at + dt.timedelta(days=2))
    mark(later.paid_at + dt.timedelta(days=2), later.branch)
    # each changed patient's days are updated (their first visit, and so other days' facts, may move)
    update_patients(org, {a.patient_id for a in appts}, touched)
    incremental = _facts(org)
    rebuild(org)
    assert _facts(org) == incremental
    assert d0 <= min(touched)


@pytest.mark.django_db
def test_pages_query_counts(simulated, web, users, django_assert_max_num_queries) -> None:
    org, truth = simulated
    d0, d1 = _period(truth)
    client = web("owner")
    period = f"from={d1 - dt.timedelta(days=29)}&to={d1}"
    pages = [
        ("/analytics/owner/", 60),
        ("/analytics/owner/scorecards/", 80),
        ("/analytics/reports/scorecards/", 80),
    ]
    pages += [(f"/analytics/reports/{name}/", 60) for name in ("owner_home", "cohorts", "doctors_balanced")]
    pages += [(f"/analytics/reports/{name}/", 25) for name in ("revenue", "clv_classes", "recall_candidates")]
    for url, bound in pages:
        with django_assert_max_num_queries(bound):
            response = client.get(f"{url}?{period}")
        assert response.status_code == 200, url
    html = client.get(f"/analytics/owner/?{period}").content.decode()
    assert "Lifecycle funnel" in html and "NPS" in html and 'href="/analytics/reports/revenue/' in html
    assert web("marketer").get("/analytics/owner/").status_code == 403
