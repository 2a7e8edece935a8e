"""The per-channel and cohort facts (``owner.channel_facts``, ``owner.cohort_facts``) give the figures the
raw attribution gives over the same local-day window: on a simulated clinic with a branch in another
time zone (Moscow and Novosibirsk) and two currencies (a branch keeping EUR, payments and spend in
it), each branch's facts equal the channel report, the patient profile, the cohort matrix and the
balanced doctor computed from the raw tables with that branch (its local days), money per currency;
the chain's facts are the sum of its branches'."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest

from clinicflow.acquisition.models import AdSpend, Channel, ChannelKind
from clinicflow.analytics.models import CohortFact, FirstDoctorFact
from clinicflow.analytics.owner.chan_models import ChanFirstFact
from clinicflow.analytics.owner.channel_reads import channel_totals
from clinicflow.analytics.owner.cohort_reads import cohort_cells_facts, doctor_firsts_facts
from clinicflow.analytics.owner.fact_hooks import build_owner_facts
from clinicflow.analytics.owner.grouped import cohort_cells, doctor_firsts
from clinicflow.analytics.owner.home import owner_view
from clinicflow.analytics.reports.acquisition import channel_report
from clinicflow.analytics.reports.base import period_bounds
from clinicflow.analytics.reports.profile import fact_counts, profile_counts
from clinicflow.booking.models import Payment
from clinicflow.core.models import Branch, Organization
from clinicflow.core.money import MoneyTotals
from clinicflow.core.selectors import branch_list
from clinicflow.patients.models import PatientPrediction
from clinicflow.simulator.runner import simulate_org
from clinicflow.simulator.scenario import load_scenario

MODELS = (ChanFirstFact, CohortFact, FirstDoctorFact)
KEYS = {
    ChanFirstFact: (
        *("branch_id", "day", "utc_day", "part", "model", "channel_id", "campaign_id", "den", "kind"),
        *("currency", "paid_day", "paid_utc", "sex", "band"),
    ),
    CohortFact: ("branch_id", "day", "cohort", "k", "currency"),
    FirstDoctorFact: ("branch_id", "day", "doctor_id", "currency"),
}
VALUES = {
    ChanFirstFact: ("booked", "arrived", "cents", "until"),
    CohortFact: ("patients", "active", "cents"),
    FirstDoctorFact: ("patients", "visits", "cents"),
}


def owner_facts_snapshot(org: Organization) -> list[tuple[Any, ...]]:
    """Every channel and cohort fact, summed per key (rows split differently compare equal)."""
    out: list[tuple[Any, ...]] = []
    for model in MODELS:
        sums: dict[tuple[Any, ...], list[Any]] = {}
        for row in model.objects.for_org(org).values_list(*KEYS[model], *VALUES[model]):  # type: ignore[attr-defined]
            key, vals = row[: len(KEYS[model])], row[len(KEYS[model]) :]
            cell = sums.setdefault(key, [0] * len(vals))
            for i, v in enumerate(vals):
                if isinstance(v, dt.date):
                    cell[i] = v if cell[i] == 0 else max(cell[i], v)
                elif v is not None:
                    cell[i] += v
        out += [(model.__name__, *k, *v) for k, v in sums.items() if any(v)]
    return sorted(out, key=str)


def spend_and_predictions(org: Organization, truth: dict[str, Any], east: Branch) -> dt.date:
    """EUR ad spend on the eastern branch every week and stored predictions (RUB and EUR) for 80
    patients with payments; returns the simulation's first day."""
    paid = Channel.objects.for_org(org).exclude(kind=ChannelKind.FREE).first()
    assert paid is not None
    d0 = dt.date.fromisoformat(truth["start_date"])
    for i in range(0, 90, 7):
        AdSpend.objects.create(
            organization=org,
            date=d0 + dt.timedelta(days=i),
            channel=paid,
            branch=east,
            spend=Decimal("12.34"),
            currency="EUR",
        )
    until = dt.date.fromisoformat(truth["end_date"]) - dt.timedelta(days=20)
    predicted = PatientPrediction.objects.for_org(org).values("patient_id")
    patients = list(
        Payment.objects.for_org(org)
        .exclude(patient_id__in=predicted)
        .order_by("patient_id")
        .values_list("patient_id", flat=True)
        .distinct()[:80]
    )
    PatientPrediction.objects.bulk_create(
        PatientPrediction(
            organization=org,
            patient_id=p,
            p_alive=0.5,
            expected_visits=1.0,
            expected_value=Decimal("100.00"),
            clv=Decimal("123.45") + i,
            currency="RUB" if i % 3 else "EUR",
            until=until,
        )
        for i, p in enumerate(patients)
    )
    return d0


@pytest.fixture
def clinic(org: Organization) -> tuple[Organization, dt.date, dt.date]:
    result = simulate_org(
        org=org,
        scenario=load_scenario(overrides={"clinic": {"months": 4, "end_date": "2026-11-30"}}),
        seed=13,
    )
    east = Branch.objects.get(organization=org, slug="novosibirsk")
    east.currency = "EUR"  # a branch keeping another currency than the organisation's
    east.save()
    pays = list(Payment.objects.for_org(org).exclude(appointment=None).order_by("paid_at")[:60])
    for p in pays[1::4]:  # payments in EUR, some of them late at night (another local day east)
        Payment.objects.create(
            organization=org,
            branch_id=p.branch_id,
            patient_id=p.patient_id,
            kind=p.kind,
            amount=Decimal("10.05"),
            currency="EUR",
            method=p.method,
            paid_at=p.paid_at.replace(hour=20, minute=30),
        )
    d0 = spend_and_predictions(org, result.truth, east)
    build_owner_facts(org)
    return org, d0, dt.date.fromisoformat(result.truth["end_date"])


def _windows(d0: dt.date, d1: dt.date) -> list[tuple[dt.date, dt.date]]:
    return [(d0, d1), (d0 + dt.timedelta(days=33), d1 - dt.timedelta(days=19))]


def _per_currency(totals: list[MoneyTotals]) -> dict[str, Decimal]:
    out: dict[str, Decimal] = defaultdict(Decimal)
    for t in totals:
        for cur, money in t.items():
            out[cur] += money.amount
    return dict(out)


@pytest.mark.django_db
def test_channel_facts_equal_the_raw_attribution_per_branch_and_currency(clinic) -> None:
    org, d0, d1 = clinic
    branches = branch_list(org=org)
    assert {b.timezone for b in branches} == {"Europe/Moscow", "Asia/Novosibirsk"}
    checked = 0
    for a, b in _windows(d0, d1):
        chain = {
            cur: channel_totals(org=org, d0=a, d1=b, branch=None, currency=cur) for cur in ("RUB", "EUR")
        }
        sums: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
        for branch in branches:
            raw = channel_report(org=org, date_from=a, date_to=b, branch=branch, facts=False)
            totals = raw.totals() or {}
            mine = channel_totals(org=org, d0=a, d1=b, branch=branch, currency=branch.currency)
            assert mine.arrived == totals["arrived_first"] and mine.arrived > 0
            assert mine.spend == totals["spend"]
            assert mine.cost_per_first_patient == totals["cost_per_first_patient"]
            assert mine.revenue_to_date == totals["revenue_to_date"]
            assert mine.romi_lifetime(raw.margin) == totals["romi_lifetime"]
            assert mine.until == raw.until
            # every currency apart, never summed: revenue to date and lifetime value
            revenue = _per_currency([line.first.revenue_to_date for line in raw.lines])
            lifetime = _per_currency(
                [line.value.revenue_until for line in raw.lines if line.value]
                + [line.value.future for line in raw.lines if line.value]
            )
            for cur in ("RUB", "EUR"):
                facts = channel_totals(org=org, d0=a, d1=b, branch=branch, currency=cur)
                assert facts.revenue_to_date == revenue.get(cur, Decimal(0))
                assert (facts.lifetime or Decimal(0)) == lifetime.get(cur, Decimal(0))
                sums[cur][0] += facts.revenue_to_date
                sums[cur][1] += facts.lifetime or Decimal(0)
                checked += bool(revenue.get(cur))
            # the owner home's tiles are these figures
            view = owner_view(org=org, date_from=a, date_to=b, branch=branch)
            assert view.figure("cost_per_first_patient").value == totals["cost_per_first_patient"]
            assert view.figure("romi").value == totals["romi_lifetime"]
            romi = view.figure("romi_to_date").value
            spend = totals["spend"]
            expected = float((totals["revenue_to_date"] * raw.margin - spend) / spend) if spend else None
            assert romi == expected
        for cur in ("RUB", "EUR"):  # the chain: its branches' local days added up, per currency
            assert (chain[cur].revenue_to_date, chain[cur].lifetime or Decimal(0)) == tuple(sums[cur])
        assert chain["EUR"].spend > 0 and chain["RUB"].spend > 0
    assert checked >= 4  # revenue in both currencies was compared


@pytest.mark.django_db
def test_profile_cohort_and_doctor_facts_equal_the_raw_statements(clinic) -> None:
    org, d0, d1 = clinic
    for a, b in _windows(d0, d1):
        for branch in branch_list(org=org):
            start, end = period_bounds(a, b, branch)
            raw = profile_counts(org=org, start=start, end=end, branch=branch, model="last_non_direct")
            mine = fact_counts(org=org, d0=a, d1=b, branch=branch)
            assert {k: {band: dict(c) for band, c in v.items()} for k, v in raw.items()} == {
                k: {band: dict(c) for band, c in v.items()} for k, v in mine.items()
            }
            for cur in ("RUB", "EUR"):
                cells = cohort_cells(
                    org=org, start=start, end=end, branch=branch, currency=cur, tz=branch.tz, months=12
                )
                facts = cohort_cells_facts(org=org, d0=a, d1=b, branch=branch, currency=cur, months=12)
                assert cells.patients == facts.patients and cells.active == facts.active
                assert {k: v for k, v in cells.revenue.items() if v} == facts.revenue
                doctors = doctor_firsts(org=org, start=start, end=end, branch=branch, currency=cur)
                assert doctors == doctor_firsts_facts(org=org, d0=a, d1=b, branch=branch, currency=cur)
                assert doctors


@pytest.mark.django_db
def test_some_days_built_again_equal_a_full_build(clinic) -> None:
    org, d0, d1 = clinic
    full = owner_facts_snapshot(org)
    days = {d0 + dt.timedelta(days=i) for i in (3, 4, 5, 40, 77)}
    for model in MODELS:
        model.objects.for_org(org).filter(day__in=days).update(day=d0 - dt.timedelta(days=400))  # type: ignore[attr-defined]
        model.objects.for_org(org).filter(day=d0 - dt.timedelta(days=400)).delete()  # type: ignore[attr-defined]
    assert owner_facts_snapshot(org) != full
    build_owner_facts(org, days)
    assert owner_facts_snapshot(org) == full
