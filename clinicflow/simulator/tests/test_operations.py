"""Believable operations (issue #13): the simulated clinic's load sits where seed 004's clinic started
(about 40-60% overall, every doctor with a real share of the work, some afternoons empty), late
cancellations happen at the planted rate, and first visits bring about a third of revenue — read
through the capacity reports and the payments, as a user would see them."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from decimal import Decimal

import pytest

from clinicflow.acquisition.ingestion.rules import unique_window
from clinicflow.analytics.owner.capload_facts import build_capacity_facts
from clinicflow.analytics.reports.base import ReportContext
from clinicflow.analytics.reports.capacity import compute_attendance, compute_load, compute_load_report
from clinicflow.booking.models import Appointment, AppointmentStatus, Payment
from clinicflow.core.models import Organization
from clinicflow.core.selectors import branch_list
from clinicflow.simulator.engine.core import Simulation
from clinicflow.simulator.runner import simulate_org
from clinicflow.simulator.scenario import ScenarioError, load_scenario
from clinicflow.simulator.truth import build_truth

END = dt.date(2026, 11, 30)
# the default demo clinic over its last 12 months (the test's shorter period)
SCENARIO = {"clinic": {"months": 12, "end_date": END.isoformat()}}
LOAD_WEEKS = 8  # the load is read over the last 8 weeks
DOCTOR_FLOOR = 0.15  # a doctor's load: never a token share (the issue saw 2%)
AFTERNOON = 14  # local hour from which a doctor's working day counts as afternoon
Z = 3.29  # 99.9% two-sided


@pytest.fixture
def simulated(org: Organization) -> tuple[Organization, dict]:
    scn = load_scenario(overrides=SCENARIO)
    result = simulate_org(org=org, scenario=scn, seed=2026)
    build_capacity_facts(org)  # the load report reads its facts (#17)
    return org, result.truth


def _ctx(org: Organization, days: int, **params: str) -> ReportContext:
    return ReportContext(
        org=org,
        user=None,
        date_from=END - dt.timedelta(days=days - 1),
        date_to=END,
        branch=None,
        params=params,
    )


@pytest.mark.django_db
def test_load_sits_at_40_to_60_percent_and_every_doctor_works(simulated) -> None:
    org, _truth = simulated
    overall = compute_load_report(_ctx(org, 7 * LOAD_WEEKS, by="branch")).totals
    assert overall is not None
    assert 0.40 <= overall["load"] <= 0.60
    doctors = compute_load_report(_ctx(org, 7 * LOAD_WEEKS, by="doctor")).rows
    assert len(doctors) == len(load_scenario().doctors)
    loads = sorted(r["load"] for r in doctors)
    assert loads[0] >= DOCTOR_FLOOR, doctors
    # the busiest doctors are busier than the clinic as a whole (weights plant relative load)
    assert loads[-1] > overall["load"] + 0.05


@pytest.mark.django_db
def test_some_afternoons_are_empty(simulated) -> None:
    org, _truth = simulated
    afternoons = empty = 0
    for branch in branch_list(org=org):
        data = compute_load(
            org=org, branch=branch, date_from=END - dt.timedelta(days=7 * LOAD_WEEKS - 1), date_to=END
        )
        available: dict[tuple, float] = defaultdict(float)
        booked: dict[tuple, float] = defaultdict(float)
        for (kind, doc, day, hour), m in data.available.items():
            if kind == "doctor" and hour >= AFTERNOON:
                available[(doc, day)] += m
        for (kind, doc, day, hour), m in data.booked.items():
            if kind == "doctor" and hour >= AFTERNOON:
                booked[(doc, day)] += m
        for key, m in available.items():
            if m >= 120:  # a working afternoon of two hours or more
                afternoons += 1
                empty += booked.get(key, 0.0) == 0
    assert afternoons > 100
    assert 0.05 <= empty / afternoons <= 0.6, (empty, afternoons)


@pytest.mark.django_db
def test_late_cancellations_happen_at_the_planted_rate(simulated) -> None:
    org, truth = simulated
    ap = load_scenario().appointments
    # every appointment of the run (all in the past but the horizon's booked ones)
    report = compute_attendance(_ctx(org, 400))
    tot = report.totals
    assert tot is not None
    past = Appointment.objects.for_org(org).exclude(
        status__in=[AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED]
    )
    n = past.count()
    expected = ap["cancelled"] * ap["late_cancellation"]
    assert tot["late_cancellations"] > 0
    rate = tot["late_cancellations"] / n
    assert abs(rate - expected) <= Z * math.sqrt(expected * (1 - expected) / n), (rate, expected)
    # as the booking app models them: cancelled before the start and after booking, late when less
    # than 24 hours before; the others carry no cancellation time
    cancelled = list(
        past.filter(status=AppointmentStatus.CANCELLED).values_list(
            "created_at", "cancelled_at", "start_at", "is_late_cancellation"
        )
    )
    assert len(cancelled) == truth["operations"]["realised"]["cancelled"]
    for created, at, start, late in cancelled:
        assert created <= at < start
        assert late == (start - at < dt.timedelta(hours=24))
    assert not past.exclude(status=AppointmentStatus.CANCELLED).filter(cancelled_at__isnull=False).exists()
    assert not past.exclude(status=AppointmentStatus.CANCELLED).filter(is_late_cancellation=True).exists()
    late_share = sum(1 for *_x, late in cancelled if late) / len(cancelled)
    p = ap["late_cancellation"]
    assert abs(late_share - p) <= Z * math.sqrt(p * (1 - p) / len(cancelled))


@pytest.mark.django_db
def test_first_visits_bring_about_a_third_of_revenue(simulated) -> None:
    """A first visit is the patient's first day at the clinic: the consultation (the appointment
    marked first visit) and the procedure done after it the same day."""
    org, truth = simulated
    tz = {b.pk: b.tz for b in branch_list(org=org)}
    first_day = {
        p: s.astimezone(tz[b]).date()
        for p, b, s in Appointment.objects.for_org(org)
        .filter(is_first_visit=True, status=AppointmentStatus.DONE)
        .values_list("patient_id", "branch_id", "start_at")
    }
    first = total = Decimal(0)
    same_day_procedures = 0
    visits = Payment.objects.for_org(org).filter(appointment__isnull=False)  # not memberships
    for p, b, s, is_first, amount in visits.values_list(
        "patient_id", "branch_id", "appointment__start_at", "appointment__is_first_visit", "amount"
    ):
        total += amount
        if first_day.get(p) == s.astimezone(tz[b]).date():
            first += amount
            same_day_procedures += not is_first
    share = float(first / total)
    assert 0.25 <= share <= 0.40, share
    assert same_day_procedures > 0
    assert share == pytest.approx(truth["revenue"]["first_visits_share"], abs=0.0001)
    # the consultation alone is a small part (the 6.5%)
    assert truth["revenue"]["first_appointments_share"] < 0.15


@pytest.mark.parametrize(("name", "share"), [("mid", (0.25, 0.40)), ("other", (0.25, 0.50))])
def test_other_scenarios_are_believable_too(name: str, share: tuple[float, float]) -> None:
    """mid (the tests' 14 months at 1.4× demand) and other (a young 12-month clinic, where first
    visits weigh more)."""
    sim = Simulation(load_scenario(name), 5, unique_window_days=unique_window().days)
    sim.run(lambda _t, _c: None)
    ops = build_truth(sim)["operations"]["realised"]
    assert 0.40 <= ops["load_last_days"]["overall"] <= 0.60
    assert min(ops["load_last_days"]["doctors"].values()) >= DOCTOR_FLOOR
    assert share[0] <= build_truth(sim)["revenue"]["first_visits_share"] <= share[1]
    assert ops["late_cancelled"] > 0
    assert ops["same_day_done"] > 0


@pytest.mark.parametrize(
    ("doctor", "message"),
    [
        ({"hours": [8, 12]}, r"doctors\[0\]\.hours: must lie within the branch's opening hours 9-21"),
        ({"hours": [12]}, r"doctors\[0\]\.hours: must be \[from, until\]"),
        ({"work_days": [7]}, r"doctors\[0\]\.work_days\[0\]: must be 0\.\.6"),
    ],
)
def test_a_doctor_schedule_error_names_the_key(doctor: dict, message: str) -> None:
    doctors = [dict(d) for d in load_scenario().raw["doctors"]]
    doctors[0] = {**doctors[0], **doctor}
    with pytest.raises(ScenarioError, match=message):
        load_scenario(overrides={"doctors": doctors})


def test_same_day_procedure_error_names_the_key() -> None:
    with pytest.raises(ScenarioError, match=r"appointments\.same_day_procedure\.lasers: unknown category"):
        load_scenario(overrides={"appointments": {"same_day_procedure": {"lasers": 0.5}}})
    with pytest.raises(ScenarioError, match=r"appointments\.late_cancellation: must be between 0 and 1"):
        load_scenario(overrides={"appointments": {"late_cancellation": 1.5}})


def test_doctors_sharing_a_shift_in_one_room_is_an_error() -> None:
    doctors = [dict(d) for d in load_scenario().raw["doctors"]]
    pavel = next(i for i, d in enumerate(doctors) if d["specialty"] == "operating")
    doctors.append({**doctors[pavel], "name": "Second surgeon", "name_en": "Second surgeon"})
    scn = load_scenario(overrides={"doctors": doctors})
    with pytest.raises(ScenarioError, match=r"no operating room of branch 'moscow' is free"):
        Simulation(scn, 1, unique_window_days=unique_window().days)
