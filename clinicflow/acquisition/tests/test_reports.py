"""Reports on a small synthetic data set with known numbers (the planted-truth entry points)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from clinicflow.acquisition import defaults
from clinicflow.acquisition.models import AdSpend, Call, CallStatus, Lead
from clinicflow.analytics.reports.acquisition import acquisition_rows, administrator_rows
from clinicflow.booking.models import Appointment, Doctor, Payment
from clinicflow.booking.tests.factories import make_service
from clinicflow.patients.models import Patient

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2025, 3, 1, 9, tzinfo=dt.UTC)


class World:
    def __init__(self, org: Any, branch: Any) -> None:
        self.org, self.branch = org, branch
        self.service = make_service(org)
        self.doctor = Doctor.objects.create(organization=org, full_name="Dr A")
        self.n = 0

    def patient(self) -> Patient:
        self.n += 1
        return Patient.objects.create(
            organization=self.org, last_name=f"P{self.n}", first_name="X", search_name="x"
        )

    def call(
        self,
        *,
        at: dt.datetime,
        patient: Patient | None,
        admin: Any = None,
        channel: Any = None,
        unique: bool = True,
    ) -> Call:
        self.n += 1
        return Call.objects.create(
            organization=self.org,
            provider="generic",
            provider_call_id=f"c{self.n}",
            branch=self.branch,
            caller_e164=f"+7916000{self.n:04d}",
            started_at=at,
            status=CallStatus.COMPLETED,
            status_rank=3,
            is_unique=unique,
            patient=patient,
            administrator=admin,
            channel=channel,
        )

    def visit(self, patient: Patient, at: dt.datetime, status: str = "booked") -> Appointment:
        return Appointment.objects.create(
            organization=self.org,
            branch=self.branch,
            patient=patient,
            service=self.service,
            doctor=self.doctor,
            start_at=at,
            end_at=at + dt.timedelta(minutes=30),
            busy_until=at + dt.timedelta(minutes=30),
            status=status,
            price=Decimal("5000"),
            currency="RUB",
        )


def test_administrator_conversion_is_recovered(org: Any, branch: Any, users: Any) -> None:
    w = World(org, branch)
    admin_a, admin_b = users["frontdesk"], users["manager"]
    for i in range(20):  # admin A: 20 unique calls; 7 callers book, 5 of them arrive
        p = w.patient()
        at = T0 + dt.timedelta(hours=3 * i)
        w.call(at=at, patient=p, admin=admin_a)
        if i < 7:
            w.visit(p, at + dt.timedelta(days=2, minutes=i * 40), "done" if i < 5 else "no_show")
    for i in range(10):  # admin B: 10 unique calls, 2 booked, 1 arrived; plus a repeat (not unique) call
        p = w.patient()
        at = T0 + dt.timedelta(hours=3 * i, minutes=1)
        w.call(at=at, patient=p, admin=admin_b)
        if i < 2:
            w.visit(p, at + dt.timedelta(days=3, minutes=i * 40), "arrived" if i == 0 else "booked")
    w.call(at=T0, patient=None, admin=admin_b, unique=False)
    old = w.patient()  # booked before the call: not a conversion
    w.visit(old, T0 - dt.timedelta(days=30), "done")
    w.call(at=T0 + dt.timedelta(hours=5), patient=old, admin=admin_b)
    rows = {
        r["administrator_id"]: r
        for r in administrator_rows(org=org, date_from=dt.date(2025, 3, 1), date_to=dt.date(2025, 3, 31))
    }
    a, b = rows[str(admin_a.pk)], rows[str(admin_b.pk)]
    assert (a["unique_calls"], a["booked"], a["arrived"]) == (20, 7, 5)
    assert a["booked_conversion"] == pytest.approx(0.35)
    assert a["arrived_conversion"] == pytest.approx(0.25)
    assert (b["unique_calls"], b["booked"], b["arrived"]) == (11, 2, 1)


def test_channel_report_recovers_cost_per_call_and_per_first_patient(org: Any, branch: Any) -> None:
    w = World(org, branch)
    search = defaults.channel_for_code(org=org, code="search_ads")
    direct = defaults.channel_for_code(org=org, code="direct")
    AdSpend.objects.create(
        organization=org, date=dt.date(2025, 3, 1), channel=search, spend=Decimal("45000"), currency="RUB"
    )
    AdSpend.objects.create(
        organization=org, date=dt.date(2025, 3, 2), channel=search, spend=Decimal("15000"), currency="RUB"
    )
    patients = []
    for i in range(4):  # 4 calls from search ads (seed 004: 15,000 per call)
        p = w.patient()
        patients.append(p)
        w.call(at=T0 + dt.timedelta(hours=i), patient=p, channel=search)
    # Two of them arrive (30,000 per first patient); the first also called "direct" later (ignored by
    # last non-direct touch), and booked via a lead from search too.
    w.visit(patients[0], T0 + dt.timedelta(days=5), "done")
    w.visit(patients[1], T0 + dt.timedelta(days=6), "arrived")
    w.visit(patients[2], T0 + dt.timedelta(days=7), "cancelled")
    w.call(at=T0 + dt.timedelta(days=1), patient=patients[0], channel=direct, unique=False)
    Lead.objects.create(
        organization=org, name="x", phone="+79160000000", patient=patients[1], channel=search, created_at=T0
    )
    Payment.objects.create(
        organization=org,
        patient=patients[0],
        branch=branch,
        amount=Decimal("100000"),
        currency="RUB",
        method="card",
        paid_at=T0 + dt.timedelta(days=5),
    )
    Payment.objects.create(
        organization=org,
        patient=patients[1],
        branch=branch,
        amount=Decimal("30000"),
        currency="RUB",
        method="card",
        paid_at=T0 + dt.timedelta(days=6),
    )
    Payment.objects.create(
        organization=org,
        patient=patients[1],
        branch=branch,
        amount=Decimal("10000"),
        currency="RUB",
        method="card",
        kind="refund",
        paid_at=T0 + dt.timedelta(days=7),
    )
    Payment.objects.create(
        organization=org,
        patient=patients[0],
        branch=branch,
        amount=Decimal("20000"),
        currency="RUB",
        method="card",
        paid_at=T0 + dt.timedelta(days=60),
    )

    rows = {
        r["code"]: r
        for r in acquisition_rows(org=org, date_from=dt.date(2025, 3, 1), date_to=dt.date(2025, 3, 31))
    }
    s = rows["search_ads"]
    assert s["spend"] == Decimal("60000")
    assert (s["calls"], s["unique_calls"], s["leads"]) == (4, 4, 1)
    assert s["cost_per_call"] == Decimal("15000.00")
    # booked first visits count the third caller's booking although it was cancelled (the booking was
    # made — as in the administrators' conversion); first patients only the two who came
    assert (s["booked_first"], s["arrived_first"]) == (3.0, 2.0)
    assert s["cost_per_first_patient"] == Decimal("30000.00")
    assert s["revenue_period"] == Decimal("120000.00")
    assert s["romi"] == pytest.approx((120000 - 60000) / 60000)
    assert rows["direct"]["calls"] == 1 and rows["direct"]["arrived_first"] == 0

    first = {
        r["code"]: r
        for r in acquisition_rows(
            org=org, date_from=dt.date(2025, 3, 1), date_to=dt.date(2025, 3, 31), model="first_touch"
        )
    }
    assert first["search_ads"]["arrived_first"] == 2.0
    linear = {
        r["code"]: r
        for r in acquisition_rows(
            org=org, date_from=dt.date(2025, 3, 1), date_to=dt.date(2025, 3, 31), model="linear"
        )
    }
    assert linear["search_ads"]["arrived_first"] == pytest.approx(1.5)
    assert linear["direct"]["arrived_first"] == pytest.approx(0.5)


@pytest.mark.parametrize("name", ["channels", "campaigns", "administrators"])
def test_report_api_answers_and_hides_org_a_from_the_outsider(
    api: Any, org: Any, branch: Any, name: str
) -> None:
    w = World(org, branch)
    w.call(at=T0, patient=None, channel=defaults.channel_for_code(org=org, code="search_ads"))
    ok = api("owner").get(f"/api/v1/reports/{name}?from=2025-03-01&to=2025-03-31")
    assert ok.status_code == 200, ok.content
    outsider = api("outsider").get(f"/api/v1/reports/{name}?from=2025-03-01&to=2025-03-31&branch={branch.pk}")
    assert outsider.status_code == 422
    assert api("outsider").get(f"/api/v1/reports/{name}?from=2025-03-01&to=2025-03-31").json()["rows"] == []


def test_report_model_param_is_allowlisted(api: Any, org: Any) -> None:
    assert api("owner").get("/api/v1/reports/channels?model=linear").status_code == 200
    assert api("owner").get("/api/v1/reports/channels?model=drop table").status_code == 422
    assert api("frontdesk").get("/api/v1/reports/channels").status_code == 403
    assert api("marketer").get("/api/v1/reports/administrators").status_code == 403
