"""The simulator writes consultations, quotes, consents, treatment records and complications
through the clinical app's models, and the planted doctors show in them (issue #14)."""

from __future__ import annotations

import math
from collections import defaultdict

import pytest
from django.db.models import Count

from clinicflow.clinical.models import (
    Complication,
    Consultation,
    Quote,
    SignedConsent,
    TreatmentProduct,
    TreatmentRecord,
)
from clinicflow.clinical.models.consents import text_digest
from clinicflow.clinical.selectors.treatments import lot_search
from clinicflow.conftest import module_data
from clinicflow.simulator.runner import simulate_org
from clinicflow.simulator.scenario import load_scenario

SCENARIO = {"clinic": {"months": 6, "demand_factor": 1.0}}


@pytest.fixture(scope="module")
def simulated(django_db_setup, django_db_blocker):
    from clinicflow.core.services import organization_create

    with module_data(django_db_blocker):
        org = organization_create(name="Clinical sim", slug="clinical-sim", country="RU", currency="RUB")
        result = simulate_org(org=org, scenario=load_scenario("mid", overrides=SCENARIO), seed=14)
        yield org, result


@pytest.mark.django_db
def test_every_consultation_has_a_recorded_expectation_and_over_promise_shows(simulated):
    org, result = simulated
    rows = Consultation.objects.for_org(org).values_list("doctor__full_name", "expectation")
    assert rows and all(0 <= e <= 10 for _, e in rows)
    by_doctor: dict[str, list[int]] = defaultdict(list)
    for name, e in rows:
        by_doctor[name].append(e)
    planted = {d["name"]: d["planted"] for d in result.truth["doctors"]}
    sd = math.sqrt(0.8**2 + 1 / 12)  # the scenario's spread plus rounding to whole points
    promising, honest = [], []
    for name, values in by_doctor.items():
        mean, n = sum(values) / len(values), len(values)
        # each doctor's mean recorded expectation lies within 4 standard errors of the planted one
        assert abs(mean - planted[name]["expectation_mean"]) < 4 * sd / math.sqrt(n) + 0.05, name
        (promising if planted[name]["over_promise"] > 0 else honest).append((mean, n))
    assert promising and honest

    def pooled(group: list[tuple[float, int]]) -> tuple[float, int]:
        n = sum(k for _, k in group)
        return sum(m * k for m, k in group) / n, n

    (m1, n1), (m0, n0) = pooled(promising), pooled(honest)
    planted_gap = (
        sum(p["over_promise"] * len(by_doctor[name]) for name, p in planted.items() if p["over_promise"] > 0)
        / n1
    )
    se = sd * math.sqrt(1 / n1 + 1 / n0)
    assert m1 > m0 and abs((m1 - m0) - planted_gap) < 4 * se


@pytest.mark.django_db
def test_booked_consultations_have_an_accepted_quote_and_a_signed_consent(simulated):
    org, _ = simulated
    booked = Consultation.objects.for_org(org).filter(outcome="booked")
    assert booked.exists()
    accepted = Quote.objects.for_org(org).filter(status="accepted")
    assert accepted.count() == booked.count()
    assert Quote.objects.for_org(org).exclude(status="accepted").exists()  # undecided ones were quoted too
    q = accepted.first()
    assert q is not None and q.total == sum(line.total for line in q.lines.all())
    signed = list(SignedConsent.objects.for_org(org)[:50])
    assert signed and all(s.text_sha256 == text_digest(s.rendered_text) for s in signed)
    assert all(s.signer_name and s.signer_name in s.rendered_text for s in signed)


@pytest.mark.django_db
def test_treatments_carry_lots_and_over_treatment_shows_in_added_procedures(simulated):
    org, result = simulated
    records = TreatmentRecord.objects.for_org(org)
    assert records.exists() and not records.filter(signed_at__isnull=True).exists()
    added = dict(records.exclude(notes="").values_list("doctor__full_name").annotate(n=Count("id")))
    all_ = dict(records.values_list("doctor__full_name").annotate(n=Count("id")))
    planted = {d["name"]: d["planted"]["over_treatment"] for d in result.truth["doctors"]}
    heavy = [n for n, ot in planted.items() if ot >= 0.5 and n in all_]
    light = [n for n, ot in planted.items() if ot <= 0.1 and n in all_]
    assert heavy and light
    share = lambda names: sum(added.get(n, 0) for n in names) / sum(all_[n] for n in names)
    assert share(heavy) > share(light)
    lot = TreatmentProduct.objects.for_org(org).values_list("lot", flat=True).first()
    assert lot is not None
    assert len(lot_search(org=org, lot=lot)) >= 1


@pytest.mark.django_db
def test_complications_are_logged_with_severity_and_linked_treatment(simulated):
    org, _ = simulated
    rows = Complication.objects.for_org(org)
    assert rows.exists()
    assert set(rows.values_list("severity", flat=True)) <= {"mild", "moderate", "severe"}
    assert not rows.filter(treatment__isnull=True).exists()
    assert all(c.treatment.appointment_id == c.appointment_id for c in rows.select_related("treatment")[:30])
