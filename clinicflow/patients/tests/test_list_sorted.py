"""The patient list sorted by the lifetime-value prediction: columns, order, pages, query budget."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinicflow.core.models import Organization
from clinicflow.patients import selectors
from clinicflow.patients.models import Patient, PatientPrediction
from clinicflow.patients.tests.factories import make_patient


def _predict(org: Organization, patient: Patient, clv: str, p_alive: float) -> None:
    PatientPrediction.objects.create(
        organization=org,
        patient=patient,
        p_alive=p_alive,
        expected_visits=2.5,
        expected_value=Decimal(clv),
        clv=Decimal(clv),
        currency="RUB",
        until=dt.date(2027, 12, 1),
    )


@pytest.fixture
def ranked(org, other_org, branch) -> list[Patient]:
    """Three predicted patients, one without a prediction, and a richer one of another organisation."""
    low = make_patient(org, branch=branch, last_name="Low", first_name="Lena", phones=["+7 916 100-00-01"])
    high = make_patient(org, branch=branch, last_name="High", first_name="Hanna", phones=["+7 916 100-00-02"])
    mid = make_patient(org, branch=branch, last_name="Mid", first_name="Maria", phones=["+7 916 100-00-03"])
    make_patient(org, branch=branch, last_name="Unpredicted", first_name="Ulla")
    _predict(org, low, "950.00", 0.12)
    _predict(org, high, "1234567.89", 0.873)
    _predict(org, mid, "48000.50", 0.5)
    stranger = make_patient(other_org, last_name="Stranger", first_name="Sasha")
    _predict(other_org, stranger, "99999999.00", 0.01)
    return [high, mid, low]


def _names(content: bytes) -> list[str]:
    return re.findall(r">(\w+) \w+</a></td>", content.decode())


def test_sorted_by_predicted_value_shows_the_columns_formatted_in_order(web, ranked) -> None:
    response = web("owner").get("/patients/", {"sort": "-clv"})
    assert response.status_code == 200
    content = response.content.decode()
    assert _names(response.content) == ["High", "Mid", "Low"]
    assert "Predicted value</th>" in content and "P(alive)</th>" in content
    assert "₽1,234,567.89" in content and "₽48,000.50" in content and "₽950.00" in content
    assert ">87%<" in content and ">12%<" in content
    assert "Stranger" not in content and "Unpredicted" not in content


def test_sorted_by_p_alive_lists_the_most_likely_to_lapse_first(web, ranked) -> None:
    response = web("owner").get("/patients/", {"sort": "p_alive"})
    assert _names(response.content) == ["Low", "Mid", "High"]
    assert "P(alive)</th>" in response.content.decode()


def test_the_name_order_has_no_prediction_columns(web, ranked) -> None:
    content = web("owner").get("/patients/").content.decode()
    assert "P(alive)</th>" not in content and "Unpredicted" in content


def test_pages_of_the_sorted_list_follow_each_other(org, ranked) -> None:
    filters = selectors.PatientFilters(sort="-clv")
    first = selectors.patient_page(org=org, filters=filters, number=1, size=2)
    second = selectors.patient_page(org=org, filters=filters, number=2, size=2)
    assert [p.last_name for p in first.object_list] == ["High", "Mid"] and first.has_next
    assert [p.last_name for p in second.object_list] == ["Low"] and not second.has_next
    assert second.has_previous and second.previous_page_number == 1


def test_a_prediction_filter_with_a_prediction_sort_joins_the_predictions_once(org, ranked) -> None:
    filters = selectors.PatientFilters(sort="-clv", min_clv="1000", max_p_alive="0.9")
    qs = selectors.patient_list(org=org, filters=filters)
    assert [p.last_name for p in qs] == ["High", "Mid"]
    assert str(qs.query).count('JOIN "patients_patientprediction"') == 1


def test_the_sorted_page_reads_in_a_fixed_number_of_queries_without_a_count(web, org, branch, ranked) -> None:
    client = web("owner")
    client.get("/patients/", {"sort": "-clv"})
    with CaptureQueriesContext(connection) as few:
        client.get("/patients/", {"sort": "-clv"})
    for i in range(10, 40):
        patient = make_patient(org, branch=branch, last_name=f"Extra{i}", phones=[f"+7 916 200-00-{i:02d}"])
        _predict(org, patient, f"{i}.00", 0.3)
    with CaptureQueriesContext(connection) as many:
        assert client.get("/patients/", {"sort": "-clv"}).status_code == 200
    assert len(many) == len(few)
    assert len(many) <= 14
    sql = [q["sql"].upper() for q in many.captured_queries]
    assert any("PATIENTS_PATIENTPREDICTION" in s for s in sql)
    # no COUNT over the patients: the pager asks for one row more than a page instead
    assert not [s for s in sql if "COUNT(" in s and 'FROM "PATIENTS_PATIENT"' in s]
