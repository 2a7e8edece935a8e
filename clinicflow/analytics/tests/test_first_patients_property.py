"""The channel report's first-patient statement against the one definition of its rules.

``clinicflow.acquisition.attribution`` defines, as pure functions, what a (booked) first visit is, how a
first visit is credited to channels and what a first patient's revenue is. The report asks the database
for the same in one SQL statement (``first_patients``). Over random clinics — patients with appointments
of every status in two branches, calls, leads and web sessions of direct, unknown and paid channels
(many at the same moment), payments and refunds in two currencies — both give identical results, for
every attribution model, by channel and by campaign, for the whole chain and for one branch. Runs on
SQLite and, with ``DATABASE_URL``, on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinicflow.acquisition import attribution as rules
from clinicflow.acquisition import defaults
from clinicflow.acquisition.models import Call, CallStatus, Campaign, Lead, WebSession
from clinicflow.analytics.reports.acquisition.first_patients import first_patient_tallies, first_visits
from clinicflow.booking.models import Appointment, Doctor, Payment
from clinicflow.booking.tests.factories import make_service
from clinicflow.core.models import Branch, Organization
from clinicflow.core.money import Money
from clinicflow.patients.models import Patient

START = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
END = dt.datetime(2025, 3, 15, tzinfo=dt.UTC)
STATUSES = ("booked", "confirmed", "arrived", "done", "no_show", "cancelled")
CHANNELS = (None, "direct", "search_ads", "social_ads")
SERIAL = itertools.count()


def moment() -> st.SearchStrategy[dt.datetime]:
    """Few distinct moments around the period, so that ties are common."""
    return st.builds(
        lambda day, hour: dt.datetime(2025, 2, 26, 9, tzinfo=dt.UTC) + dt.timedelta(days=day, hours=hour),
        st.sampled_from(range(0, 21, 2)),
        st.sampled_from((0, 3)),
    )


# touches at even fewer moments: several at once (a call, a lead and a web session) are frequent
TOUCH_MOMENT = st.sampled_from(
    [dt.datetime(2025, 2, 26, 9, tzinfo=dt.UTC) + dt.timedelta(days=d) for d in (0, 4, 4, 4, 10, 20)]
)
APPOINTMENT = st.tuples(moment(), st.sampled_from(STATUSES), st.integers(0, 1))
TOUCH = st.tuples(st.integers(0, 2), TOUCH_MOMENT, st.sampled_from(CHANNELS), st.booleans())
PAYMENT = st.tuples(moment(), st.integers(1, 900_000), st.booleans(), st.sampled_from(("RUB", "RUB", "EUR")))
PATIENT = st.tuples(
    st.lists(APPOINTMENT, max_size=4), st.lists(TOUCH, max_size=5), st.lists(PAYMENT, max_size=3)
)


class World:
    """One random clinic in its own organisation (examples never see each other's rows)."""

    def __init__(self) -> None:
        n = next(SERIAL)
        self.org = Organization.objects.create(name=f"P{n}", slug=f"prop-{n}", country="RU", currency="RUB")
        self.branches = [
            Branch.objects.create(
                organization=self.org, name=f"B{i}", slug=f"b{i}", timezone="Europe/Moscow", currency="RUB"
            )
            for i in range(2)
        ]
        self.channels = defaults.channels_ensure(org=self.org)
        self.campaigns = {
            code: Campaign.objects.create(organization=self.org, channel=self.channels[code], name=code)
            for code in ("search_ads", "social_ads")
        }
        self.service = make_service(self.org)
        self.n = 0
        self.histories: dict[Any, rules.PatientHistory] = {}

    def add(self, appointments: list[Any], touches: list[Any], payments: list[Any]) -> None:
        self.n += 1
        patient = Patient.objects.create(organization=self.org, last_name=f"P{self.n}", first_name="X")
        bookings = [self._appointment(patient, *a) for a in appointments]
        made = sorted((self._touch(patient, *t) for t in touches), key=lambda x: (x[0], x[1]))
        paid = [self._payment(patient, *p) for p in payments]
        self.histories[patient.pk] = rules.PatientHistory(
            appointments=bookings, touches=[t for _src, _id, t in made], payments=paid
        )

    def _appointment(self, patient: Patient, at: dt.datetime, status: str, b: int) -> rules.Booking:
        self.n += 1
        doctor = Doctor.objects.create(organization=self.org, full_name=f"Dr {self.n}")  # never overlaps
        end = at + dt.timedelta(minutes=30)
        branch = self.branches[b]
        Appointment.objects.create(
            organization=self.org,
            branch=branch,
            patient=patient,
            service=self.service,
            doctor=doctor,
            start_at=at,
            end_at=end,
            busy_until=end,
            status=status,
            price=Decimal(1000),
            currency="RUB",
        )
        return rules.Booking(at=at, status=status, branch=branch.pk)

    def _touch(self, patient: Patient, src: int, at: dt.datetime, code: str | None, in_campaign: bool) -> Any:
        self.n += 1
        channel = self.channels[code] if code else None
        campaign = self.campaigns.get(code or "") if in_campaign else None
        common = {"organization": self.org, "patient": patient, "channel": channel, "campaign": campaign}
        if src == 0:
            row: Any = Call.objects.create(
                **common,
                provider="generic",
                provider_call_id=f"c{self.n}",
                caller_e164=f"+7916{self.n:07d}",
                started_at=at,
                status=CallStatus.COMPLETED,
                status_rank=3,
            )
        elif src == 1:
            row = Lead.objects.create(**common, name="x", phone=f"+7916{self.n:07d}", created_at=at)
        else:
            row = WebSession.objects.create(**common, client_id=f"w{self.n}", started_at=at, last_seen_at=at)
        touch = rules.Touch(
            at=at,
            channel=channel.pk if channel else None,
            campaign=campaign.pk if campaign else None,
            is_direct=code == "direct",
        )
        return src, row.pk, touch

    def _payment(
        self, patient: Patient, at: dt.datetime, cents: int, refund: bool, currency: str
    ) -> rules.Paid:
        amount = Decimal(cents) / 100
        kind = "refund" if refund else "payment"
        Payment.objects.create(
            organization=self.org,
            patient=patient,
            branch=self.branches[0],
            amount=amount,
            currency=currency,
            method="card",
            kind=kind,
            paid_at=at,
        )
        return rules.Paid(at=at, money=Money(amount, currency), kind=kind)


def amounts(totals: Any) -> dict[str, Decimal]:
    return {cur: m.amount for cur, m in totals.items() if m.amount}


def same_money(got: Any, want: Any) -> bool:
    """Equal per currency (linear shares are divided at 28 digits, so up to the last of them)."""
    a, b = amounts(got), amounts(want)
    return all(
        abs(a.get(cur, Decimal(0)) - b.get(cur, Decimal(0))) < Decimal("1e-18") for cur in a.keys() | b.keys()
    )


@pytest.mark.django_db(transaction=False)
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    patients=st.lists(PATIENT, min_size=1, max_size=6),
    model=st.sampled_from(rules.MODELS),
    by_campaign=st.booleans(),
    in_branch=st.sampled_from((None, 0, 1)),
)
def test_the_report_statement_gives_what_the_rules_define(
    db: Any, patients: list[Any], model: str, by_campaign: bool, in_branch: int | None
) -> None:
    world = World()
    for appointments, touches, payments in patients:
        world.add(appointments, touches, payments)
    branch = world.branches[in_branch] if in_branch is not None else None
    branch_id = branch.pk if branch is not None else None

    got_visits = first_visits(org=world.org, start=START, end=END, branch=branch)
    for p, history in world.histories.items():
        want = rules.first_visits(history.appointments, start=START, end=END, branch=branch_id)
        assert got_visits.booked.get(p) == next((at for at, v in want.items() if v.booked), None)
        assert got_visits.arrived.get(p) == next((at for at, v in want.items() if v.arrived), None)

    group = "campaign" if by_campaign else "channel"
    got = first_patient_tallies(org=world.org, start=START, end=END, branch=branch, model=model, group=group)
    want = rules.first_patient_credit(
        world.histories.values(), start=START, end=END, branch=branch_id, model=model, by=int(by_campaign)
    )
    assert got.keys() == want.keys()
    for key, tally in want.items():
        assert (got[key].booked, got[key].arrived) == (tally.booked, tally.arrived), key
        assert same_money(got[key].revenue_period, tally.revenue_period), key
        assert same_money(got[key].revenue_to_date, tally.revenue_to_date), key


@pytest.mark.django_db
@pytest.mark.parametrize("model", rules.MODELS)
def test_touches_at_one_moment_are_taken_in_source_order(db: Any, model: str) -> None:
    """A call and a web session at the same moment: the first touch is the call, the last the session."""
    world = World()
    at = dt.datetime(2025, 3, 2, 9, tzinfo=dt.UTC)
    world.add(
        [(at + dt.timedelta(days=2), "done", 0)],
        [(2, at, "social_ads", False), (0, at, "search_ads", False)],
        [],
    )
    got = first_patient_tallies(
        org=world.org, start=START, end=END, branch=None, model=model, group="channel"
    )
    want = rules.first_patient_credit(world.histories.values(), start=START, end=END, model=model)
    assert {k: t.arrived for k, t in got.items()} == {k: t.arrived for k, t in want.items()}
    first = world.channels["search_ads" if model == "first_touch" else "social_ads"].pk
    assert got[first].arrived == (Fraction(1, 2) if model == "linear" else 1)
