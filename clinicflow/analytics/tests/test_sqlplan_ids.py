"""``sqlplan.of_ids``: a set of patients bound as one array filters the same rows as ``__in`` (on
PostgreSQL through ``= ANY``, a condition of the patient index itself, not a join with the array)."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection

from clinicflow.analytics.reports.sqlplan import IdArray, id_array, of_ids
from clinicflow.analytics.tests.conftest import SCENARIO
from clinicflow.booking.models import Appointment
from clinicflow.core.models import Organization
from clinicflow.simulator.runner import simulate_org
from clinicflow.simulator.scenario import load_scenario


@pytest.mark.django_db
def test_an_id_array_filters_as_in_does(org: Organization) -> None:
    simulate_org(org=org, scenario=load_scenario(overrides=SCENARIO), seed=5)
    appts = Appointment.objects.for_org(org).order_by("pk")
    ids = list(appts.values_list("patient_id", flat=True).distinct()[:7])
    assert len(ids) == 7
    expected = list(appts.filter(patient_id__in=ids).values_list("pk", flat=True))
    assert 7 <= len(expected) < appts.count()
    filtered = of_ids(appts, IdArray(tuple(ids)))
    assert list(filtered.values_list("pk", flat=True)) == expected
    sql = str(filtered.query)
    if connection.vendor == "postgresql":
        assert "= ANY(" in sql and "unnest" not in sql
    assert of_ids(appts, None).count() == appts.count()  # None: not filtered
    assert list(of_ids(appts, ids).values_list("pk", flat=True)) == expected  # a plain list: ``__in``
    assert not of_ids(appts, IdArray(())).exists()


@pytest.mark.django_db
def test_ids_as_one_array_literal_round_trip_through_postgresql() -> None:
    ids = [uuid.UUID("01a24d2f-0d29-7498-8b26-6b75e768da99"), None, uuid.UUID(int=5)]
    literal = id_array(ids)
    assert literal == "{01a24d2f-0d29-7498-8b26-6b75e768da99,NULL,00000000-0000-0000-0000-000000000005}"
    assert id_array([]) == "{}"
    if connection.vendor == "postgresql":  # bound as one string, cast by the statement
        with connection.cursor() as cur:
            cur.execute("SELECT %s::uuid[]", [literal])
            assert cur.fetchone()[0] == ids
