"""``analytics clv --org``: the organisation's payments in, stored predictions out."""

import datetime as dt
import io
import uuid
import zoneinfo
from decimal import Decimal

import numpy as np
import pytest
from django.core.management import call_command
from django.utils import timezone

from clinicflow.analytics.clv import bgnbd, gammagamma
from clinicflow.analytics.clv.org_source import load_org_transactions
from clinicflow.booking.models import Payment, PaymentKind, PaymentMethod
from clinicflow.patients.models import PatientPrediction
from clinicflow.patients.tests.factories import make_patient

UNTIL = dt.date(2026, 6, 30)
N_PATIENTS = 300
TRUE_BG = bgnbd.BGNBDParams(r=0.8, alpha=6.0, a=0.9, b=2.8)  # alpha in weeks
TRUE_GG = gammagamma.GammaGammaParams(p=6.0, q=4.0, v=15000.0)


def _paid_at(day: dt.date, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12, 0), tzinfo=tz)


def make_history(org, branch, n: int = N_PATIENTS, seed: int = 20260630) -> list:
    """Patients first seen over two years, visiting as a BG/NBD process (fixed seed)."""
    rng = np.random.default_rng(seed)
    tz = zoneinfo.ZoneInfo(branch.timezone)
    T_days = rng.integers(30, 731, n)
    lam = rng.gamma(TRUE_BG.r, 1.0 / TRUE_BG.alpha, n) / 7.0  # per day
    p = rng.beta(TRUE_BG.a, TRUE_BG.b, n)
    nu = rng.gamma(TRUE_GG.q, 1.0 / TRUE_GG.v, n)
    patients, payments = [], []
    for i in range(n):
        patient = make_patient(org, phones=[f"+7916{1_000_000 + i}"], last_name=f"Patient{i:03d}")
        patients.append(patient)
        first = UNTIL - dt.timedelta(days=int(T_days[i]))
        days, clock = [0], 0.0
        while True:
            clock += rng.exponential(1.0 / lam[i])
            if clock > T_days[i]:
                break
            days.append(int(clock))
            if rng.random() < p[i]:
                break
        for d in days:
            amount = Decimal(str(round(float(rng.gamma(TRUE_GG.p, 1.0 / nu[i])), 2))) + Decimal("100.00")
            payments.append(
                Payment(
                    organization=org,
                    patient=patient,
                    branch=branch,
                    amount=amount,
                    currency=org.currency,
                    method=PaymentMethod.CARD,
                    paid_at=_paid_at(first + dt.timedelta(days=d), tz),
                )
            )
    Payment.objects.bulk_create(payments)
    return patients


@pytest.fixture
def history(org, branch):
    return make_history(org, branch)


def run_clv(*extra: str) -> str:
    out = io.StringIO()
    call_command("analytics", "clv", "--org", "demo", *extra, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.mark.django_db
def test_org_mode_stores_every_patients_prediction(history, org, other_org, other_branch) -> None:
    other_patient = make_patient(other_org, phones=["+8613800138000"])
    other_row = PatientPrediction.objects.create(
        organization=other_org,
        patient=other_patient,
        p_alive=0.5,
        expected_visits=1.25,
        expected_value=Decimal("300.00"),
        clv=Decimal("375.00"),
        currency="CNY",
        until=dt.date(2025, 1, 1),
    )
    out = run_clv("--until", UNTIL.isoformat())
    assert f"patients: {N_PATIENTS}," in out
    assert out.rstrip().endswith(f"Stored {N_PATIENTS} predictions for demo")
    rows = list(PatientPrediction.objects.filter(organization=org))
    assert len(rows) == N_PATIENTS
    assert {r.patient_id for r in rows} == {p.pk for p in history}
    for row in rows:
        assert 0.0 <= row.p_alive <= 1.0
        assert row.expected_visits >= 0.0
        assert row.clv >= 0 and row.clv.as_tuple().exponent == -2
        assert row.expected_value.as_tuple().exponent == -2
        assert (row.currency, row.until) == ("RUB", UNTIL)
    assert sum(r.clv for r in rows) > 0
    # The other organisation's stored row is untouched.
    assert list(
        PatientPrediction.objects.filter(organization=other_org).values_list("pk", "clv", "until")
    ) == [(other_row.pk, Decimal("375.00"), dt.date(2025, 1, 1))]
    # A second run replaces the rows instead of adding to them.
    run_clv("--until", UNTIL.isoformat())
    assert PatientPrediction.objects.filter(organization=org).count() == N_PATIENTS
    assert PatientPrediction.objects.filter(organization=other_org).count() == 1


@pytest.mark.django_db
def test_until_defaults_to_today_in_org_mode(history, org) -> None:
    out = run_clv()
    today = timezone.localdate()
    assert out.startswith(f"CLV until {today.isoformat()} ")
    assert set(PatientPrediction.objects.filter(organization=org).values_list("until", flat=True)) == {today}


@pytest.mark.django_db
def test_refunds_reduce_the_amounts(org, branch) -> None:
    patient = make_patient(org)
    tz = zoneinfo.ZoneInfo(branch.timezone)
    day1, day2 = dt.date(2026, 3, 2), dt.date(2026, 3, 9)

    def pay(day: dt.date, amount: str, kind: str = PaymentKind.PAYMENT) -> None:
        Payment.objects.create(
            organization=org,
            patient=patient,
            branch=branch,
            amount=Decimal(amount),
            currency="RUB",
            method=PaymentMethod.CARD,
            kind=kind,
            paid_at=_paid_at(day, tz),
        )

    pay(day1, "5000.00")
    pay(day2, "3000.00")
    before = sorted(load_org_transactions("demo"))
    assert before == [
        (str(patient.pk), day1, Decimal("5000.00")),
        (str(patient.pk), day2, Decimal("3000.00")),
    ]
    pay(day1, "1200.50", PaymentKind.REFUND)
    pay(day2, "3000.00", PaymentKind.REFUND)  # a full refund removes the visit
    assert sorted(load_org_transactions("demo")) == [(str(patient.pk), day1, Decimal("3799.50"))]


@pytest.mark.django_db
def test_patients_api_sorts_by_stored_clv(history, org, api) -> None:
    run_clv("--until", UNTIL.isoformat())
    stored = dict(PatientPrediction.objects.filter(organization=org).values_list("patient_id", "clv"))
    resp = api("owner").get("/api/v1/patients", {"sort": "-clv", "limit": 200})
    assert resp.status_code == 200
    body = resp.json()
    assert body["count"] == N_PATIENTS
    ids = [item["id"] for item in body["items"]]
    clvs = [stored[uuid.UUID(i)] for i in ids]
    assert len(ids) == 200
    assert clvs == sorted(clvs, reverse=True)
    assert clvs[0] == max(stored.values())
