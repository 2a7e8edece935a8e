"""PostgreSQL: the triggers of ``APPEND_ONLY_SQL`` refuse raw SQL changes of signed-off records,
their product lines, amendments and complication entries (skipped on SQLite)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction

from clinicflow.clinical.models.treatments import APPEND_ONLY_SQL, TreatmentRecord
from clinicflow.clinical.selectors import treatments as sel
from clinicflow.clinical.services import treatments as svc
from clinicflow.clinical.services import treatments_complications as csvc
from clinicflow.clinical.tests.treatments_factories import make_appointment, make_clinic
from clinicflow.core.models import Branch, Organization

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL triggers"),
]

# the function core's migration 0002 creates (here again for a test database built without migrations)
APPEND_ONLY_FN = """
CREATE OR REPLACE FUNCTION clinicflow_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def _refused(sql: str, params: list[Any]) -> bool:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    except DatabaseError:
        return True
    return False


def test_raw_sql_refused_after_sign_off(
    org: Organization, branch: Branch, branch2: Branch, users: Any
) -> None:
    with connection.cursor() as cursor:
        for statement in [APPEND_ONLY_FN, *APPEND_ONLY_SQL]:
            cursor.execute(statement)
    tc = make_clinic(org, branch, branch2)
    appt = make_appointment(tc, patient=tc.anna, doctor=tc.doc1, service=tc.botox)
    data = svc.TreatmentData(products=[svc.ProductData(name="Botox", lot="L1", amount="50", unit="U")])
    record = svc.treatment_save(org=org, actor=users["doctor"], appointment=appt, data=data)
    # unsigned: an ordinary update works
    assert not _refused("UPDATE clinical_treatmentrecord SET notes = 'draft' WHERE id = %s", [record.pk])
    record = svc.treatment_sign_off(org=org, actor=users["doctor"], record=record)
    assert _refused("UPDATE clinical_treatmentrecord SET notes = 'x' WHERE id = %s", [record.pk])
    assert _refused("DELETE FROM clinical_treatmentrecord WHERE id = %s", [record.pk])
    assert _refused("UPDATE clinical_treatmentproduct SET lot = 'X' WHERE record_id = %s", [record.pk])
    assert _refused("DELETE FROM clinical_treatmentproduct WHERE record_id = %s", [record.pk])
    current = sel.current_values(org=org, record=record)
    amendment = svc.treatment_amend(
        org=org,
        actor=users["owner"],
        record=record,
        changes={"notes": "new"},
        reason="a reason",
        current=current,
    )
    assert _refused("UPDATE clinical_treatmentamendment SET reason = 'x' WHERE id = %s", [amendment.pk])
    entry = csvc.complication_log(
        org=org,
        actor=users["doctor"],
        data=csvc.ComplicationData(
            patient=tc.anna,
            severity="mild",
            onset_date=record.created_at.date(),
            description="d",
            outcome="ongoing",
            treatment=record,
        ),
    )
    assert _refused("DELETE FROM clinical_complication WHERE id = %s", [entry.pk])
    assert TreatmentRecord.objects.get(pk=record.pk).notes == "draft"


def test_only_a_purge_of_the_whole_organisation_deletes_append_only_rows(
    org: Organization, other_org: Organization, branch: Branch, branch2: Branch, users: Any
) -> None:
    import importlib

    purge = importlib.import_module("clinicflow.clinical.migrations.0003_append_only_purge")
    with connection.cursor() as cursor:
        for statement in [APPEND_ONLY_FN, *APPEND_ONLY_SQL, *purge.FORWARD]:
            cursor.execute(statement)
    tc = make_clinic(org, branch, branch2)
    appt = make_appointment(tc, patient=tc.anna, doctor=tc.doc1, service=tc.botox)
    record = svc.treatment_save(org=org, actor=users["doctor"], appointment=appt, data=svc.TreatmentData())
    svc.treatment_sign_off(org=org, actor=users["doctor"], record=record)
    delete = "DELETE FROM clinical_treatmentrecord WHERE id = %s"
    assert _refused(delete, [record.pk])

    def purge_as(owner: Organization) -> bool:
        """Delete the record inside a purge of ``owner``; True when refused."""
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT set_config('clinicflow.purge_org', %s, true)", [str(owner.pk)])
                cursor.execute(delete, [record.pk])
        except DatabaseError:
            return True
        return False

    assert purge_as(other_org)  # another organisation's purge does not reach it
    assert TreatmentRecord.objects.filter(pk=record.pk).exists()
    assert not purge_as(org)
    assert not TreatmentRecord.objects.filter(pk=record.pk).exists()
