"""The channel report's first patients: a patient's first visit is the first appointment that
happened (arrived / done), so a no-show before it neither hides the patient nor dates them by the
no-show. The same numbers on the portable (SQLite) path and the PostgreSQL statements."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from clinicflow.acquisition import defaults
from clinicflow.acquisition.models import Call, CallStatus
from clinicflow.analytics.reports import acquisition as acq
from clinicflow.booking.models import Appointment, Doctor, Payment
from clinicflow.booking.tests.factories import make_service
from clinicflow.patients.models import Patient

MARCH = (dt.date(2025, 3, 1), dt.date(2025, 3, 31))
APRIL = (dt.date(2025, 4, 1), dt.date(2025, 4, 30))
MARCH_START = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
APRIL_START = dt.datetime(2025, 4, 1, tzinfo=dt.UTC)


def at(month: int, day: int, hour: int = 9) -> dt.datetime:
    return dt.datetime(2025, month, day, hour, tzinfo=dt.UTC)


class Clinic:
    """Patients with calls, appointments and payments; one doctor, visits never overlap."""

    def __init__(self, org: Any, branch: Any) -> None:
        self.org, self.branch = org, branch
        self.service = make_service(org)
        self.doctor = Doctor.objects.create(organization=org, full_name="Dr A")
        self.n = 0
        self.p: dict[str, Patient] = {}

    def patient(self, name: str) -> Patient:
        return Patient.objects.create(organization=self.org, last_name=name, first_name="X", search_name=name)

    def call(self, patient: Patient, when: dt.datetime, code: str) -> None:
        self.n += 1
        Call.objects.create(
            organization=self.org,
            provider="generic",
            provider_call_id=f"c{self.n}",
            branch=self.branch,
            caller_e164=f"+7916000{self.n:04d}",
            started_at=when,
            status=CallStatus.COMPLETED,
            status_rank=3,
            is_unique=True,
            patient=patient,
            channel=defaults.channel_for_code(org=self.org, code=code),
        )

    def visit(self, patient: Patient, when: dt.datetime, status: str, branch: Any = None) -> Appointment:
        return Appointment.objects.create(
            organization=self.org,
            branch=branch or self.branch,
            patient=patient,
            service=self.service,
            doctor=self.doctor,
            start_at=when,
            end_at=when + dt.timedelta(minutes=30),
            busy_until=when + dt.timedelta(minutes=30),
            status=status,
            price=Decimal("5000"),
            currency="RUB",
        )

    def pay(self, patient: Patient, when: dt.datetime, amount: int) -> None:
        Payment.objects.create(
            organization=self.org,
            patient=patient,
            branch=self.branch,
            amount=Decimal(amount),
            currency="RUB",
            method="card",
            paid_at=when,
        )


@pytest.fixture
def clinic(org: Any, branch: Any) -> Clinic:
    c = Clinic(org, branch)
    c.p = p = {name: c.patient(name) for name in "ABCDEF"}
    # A: search ad call, no-show on 5 March; a social ad call; arrives 12 March
    c.call(p["A"], at(3, 1), "search_ads")
    c.visit(p["A"], at(3, 5), "no_show")
    c.call(p["A"], at(3, 10), "social_ads")
    c.visit(p["A"], at(3, 12), "done")
    c.pay(p["A"], at(3, 12, 10), 10000)
    # B: no-show in February, first visit 3 March (booked first visit in February)
    c.call(p["B"], at(2, 10), "search_ads")
    c.visit(p["B"], at(2, 20), "no_show")
    c.visit(p["B"], at(3, 3), "arrived")
    c.pay(p["B"], at(3, 3, 10), 20000)
    # C: the plain case, booked and arrived 8 March
    c.call(p["C"], at(3, 2), "search_ads")
    c.visit(p["C"], at(3, 8), "done")
    c.pay(p["C"], at(3, 8, 10), 5000)
    # D: no-show 20 March (a deposit paid), first visit 2 April
    c.call(p["D"], at(3, 3), "search_ads")
    c.visit(p["D"], at(3, 20), "no_show")
    c.pay(p["D"], at(3, 18), 1000)
    c.visit(p["D"], at(4, 2), "done")
    # E: cancelled 4 March, came 6 March
    c.call(p["E"], at(3, 4), "search_ads")
    c.visit(p["E"], at(3, 4, 12), "cancelled")
    c.visit(p["E"], at(3, 6), "done")
    c.pay(p["E"], at(3, 6, 10), 7000)
    # F: a patient since January; a no-show in March is no first visit
    c.call(p["F"], at(1, 5), "search_ads")
    c.visit(p["F"], at(1, 10), "done")
    c.visit(p["F"], at(3, 25), "no_show")
    return c


def rows(org: Any, period: tuple[dt.date, dt.date], model: str = "last_non_direct") -> dict[str, Any]:
    return {
        r["code"]: r
        for r in acq.acquisition_rows(org=org, date_from=period[0], date_to=period[1], model=model)
    }


@pytest.mark.django_db
def test_first_patients_are_counted_at_the_first_visit_that_happened(org: Any, clinic: Clinic) -> None:
    march = rows(org, MARCH)
    search, social = march["search_ads"], march["social_ads"]
    # booked first visits (first appointment of any status): A (its no-show), C, D (its no-show),
    # E (its cancelled booking: the booking was made)
    assert search["booked_first"] == 4.0
    # first patients: B (no-show in February), C, E; A is credited to the social ad it called
    # after its no-show (last non-direct touch up to the visit that happened)
    assert search["arrived_first"] == 3.0
    assert (social["booked_first"], social["arrived_first"]) == (0.0, 1.0)
    # revenue of the first patients only (D's deposit is not a first patient's)
    assert search["revenue_period"] == Decimal("32000.00")
    assert social["revenue_period"] == Decimal("10000.00")
    assert social["revenue_to_date"] == Decimal("10000.00")
    april = rows(org, APRIL)
    assert (april["search_ads"]["booked_first"], april["search_ads"]["arrived_first"]) == (0.0, 1.0)
    assert april["search_ads"]["revenue_period"] == Decimal("0.00")
    assert april["search_ads"]["revenue_to_date"] == Decimal("1000.00")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("model", "search", "social"),
    [("first_touch", (4.0, 4.0), (0.0, 0.0)), ("linear", (4.0, 3.5), (0.0, 0.5))],
)
def test_first_patients_after_a_no_show_by_each_model(
    org: Any, clinic: Clinic, model: str, search: tuple[float, float], social: tuple[float, float]
) -> None:
    march = rows(org, MARCH, model)
    assert (march["search_ads"]["booked_first"], march["search_ads"]["arrived_first"]) == search
    got_social = (march["social_ads"]["booked_first"], march["social_ads"]["arrived_first"])
    assert got_social == social


def expected_firsts(p: dict[str, Patient]) -> tuple[dict[Any, Any], dict[Any, Any]]:
    booked = {p["E"].pk: at(3, 4, 12), p["A"].pk: at(3, 5), p["C"].pk: at(3, 8), p["D"].pk: at(3, 20)}
    arrived = {p["B"].pk: at(3, 3), p["E"].pk: at(3, 6), p["C"].pk: at(3, 8), p["A"].pk: at(3, 12)}
    return booked, arrived


@pytest.mark.django_db
def test_first_visits_pass_over_the_no_show(org: Any, clinic: Clinic) -> None:
    booked, arrived = expected_firsts(clinic.p)
    got = acq.first_visits(org=org, start=MARCH_START, end=APRIL_START, branch=None)
    assert (got.booked, got.arrived) == (booked, arrived)


@pytest.mark.django_db
def test_first_visits_and_credit_of_one_branch(org: Any, branch: Any, branch2: Any, clinic: Clinic) -> None:
    g = clinic.patient("G")  # no-show in one branch, first visit in the other
    clinic.call(g, at(3, 1, 11), "search_ads")
    clinic.visit(g, at(3, 14), "no_show", branch2)
    clinic.visit(g, at(3, 16), "done")
    booked, arrived = expected_firsts(clinic.p)
    kw = {"org": org, "start": MARCH_START, "end": APRIL_START}
    got = acq.first_visits(**kw, branch=None)
    assert (got.booked, got.arrived) == (booked | {g.pk: at(3, 14)}, arrived | {g.pk: at(3, 16)})
    got = acq.first_visits(**kw, branch=branch)
    assert (got.booked, got.arrived) == (booked, arrived | {g.pk: at(3, 16)})
    got = acq.first_visits(**kw, branch=branch2)
    assert (got.booked, got.arrived) == ({g.pk: at(3, 14)}, {})

    def by_code(b: Any, model: str) -> dict[str, tuple[float, float, Decimal]]:
        return {
            r["code"]: (r["booked_first"], r["arrived_first"], r["revenue_to_date"])
            for r in acq.acquisition_rows(
                org=org, date_from=MARCH[0], date_to=MARCH[1], branch=b, model=model
            )
            if r["booked_first"] or r["arrived_first"]
        }

    # last non-direct: every first visit but A's to search ads, A's (after its no-show) to social ads
    assert by_code(None, "last_non_direct") == {
        "social_ads": (0.0, 1.0, Decimal("10000.00")),
        "search_ads": (5.0, 4.0, Decimal("32000.00")),
    }
    # per branch (on its own clock; no visit lies near the month's edges)
    assert by_code(branch2, "first_touch") == {"search_ads": (1.0, 0.0, Decimal("0.00"))}
    assert by_code(branch, "first_touch") == {"search_ads": (4.0, 5.0, Decimal("42000.00"))}
