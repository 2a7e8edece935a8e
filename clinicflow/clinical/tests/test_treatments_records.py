"""Treatment records: save, sign off, append-only after sign-off, amendments, roles, audit."""

from __future__ import annotations

import json
from typing import Any

import pytest

from clinicflow.clinical.models.treatments import TreatmentAmendment, TreatmentProduct, TreatmentRecord
from clinicflow.clinical.services import treatments as svc
from clinicflow.clinical.tests.treatments_factories import TClinic, make_appointment, make_clinic
from clinicflow.core.models import AuditEvent, Branch, Organization

pytestmark = pytest.mark.django_db

BODY = {
    "products": [
        {
            "name": "Botox",
            "manufacturer": "Allergan",
            "lot": " c3452 c3 ",
            "amount": "50",
            "unit": "U",
            "area": "forehead",
        }
    ],
    "map_notes": {"forehead": "5 points, 4 U each"},
    "notes": "tolerated well",
}


@pytest.fixture
def tc(org: Organization, branch: Branch, branch2: Branch, users: Any) -> TClinic:
    return make_clinic(org, branch, branch2)


def _post(client: Any, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json")


def test_save_sign_off_then_update_refused_api_and_orm(tc: TClinic, api: Any) -> None:
    appt = make_appointment(tc, patient=tc.anna, doctor=tc.doc1, service=tc.botox)
    url = f"/api/v1/appointments/{appt.pk}/treatment"
    r = _post(api("doctor"), url, BODY)
    assert r.status_code == 200, r.content
    assert r.json()["products"][0]["lot"] == "C3452C3"
    assert r.json()["signed_at"] is None
    r = _post(api("doctor"), url, {**BODY, "notes": "second draft", "sign_off": True})
    assert r.status_code == 200, r.content
    assert r.json()["signed_at"] is not None and r.json()["notes"] == "second draft"
    assert TreatmentRecord.objects.count() == 1
    r = _post(api("doctor"), url, {**BODY, "notes": "changed after"})
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "signed_off"
    record = TreatmentRecord.objects.get()
    assert record.notes == "second draft"
    record.notes = "tampered"
    with pytest.raises(TypeError):
        record.save()
    with pytest.raises(TypeError):
        TreatmentRecord.objects.filter(pk=record.pk).update(notes="x")
    with pytest.raises(TypeError):
        TreatmentRecord.objects.filter(pk=record.pk).delete()
    with pytest.raises(TypeError):
        TreatmentProduct.objects.filter(record=record).update(lot="X")
    with pytest.raises(TypeError):
        TreatmentProduct.objects.create(
            organization=tc.org, record=record, name="x", lot="Y", amount=1, unit="ml"
        )
    assert TreatmentRecord.objects.get().notes == "second draft"


def test_amendment_keeps_original_with_who_and_what(tc: TClinic, api: Any, users: Any) -> None:
    appt = make_appointment(tc, patient=tc.anna, doctor=tc.doc1, service=tc.botox)
    url = f"/api/v1/appointments/{appt.pk}/treatment"
    assert _post(api("doctor"), url, {**BODY, "sign_off": True}).status_code == 200
    r = _post(
        api("owner"), url + "/amendments", {"reason": "wrong area noted", "changes": {"notes": "corrected"}}
    )
    assert r.status_code == 200, r.content
    data = r.json()
    assert data["notes"] == "corrected"
    assert data["original"]["notes"] == "tolerated well"
    (amendment,) = data["amendments"]
    assert amendment["by"] == users["owner"].email
    assert amendment["changes"] == {"notes": ["tolerated well", "corrected"]}
    assert TreatmentRecord.objects.get().notes == "tolerated well"
    stored = TreatmentAmendment.objects.get()
    with pytest.raises(TypeError):
        stored.save()
    with pytest.raises(TypeError):
        TreatmentAmendment.objects.all().delete()
    r = _post(api("owner"), url + "/amendments", {"reason": "x", "changes": {"signed_at": None}})
    assert r.status_code == 422
    assert set(r.json()["error"]["fields"]) == {"reason", "signed_at"}


def test_validation_errors_name_fields(tc: TClinic, api: Any) -> None:
    appt = make_appointment(tc, patient=tc.anna, doctor=tc.doc1, service=tc.botox)
    bad = {"products": [{"name": "Botox", "lot": "", "amount": "-1", "unit": "litre"}]}
    r = _post(api("doctor"), f"/api/v1/appointments/{appt.pk}/treatment", bad)
    assert r.status_code == 422
    assert set(r.json()["error"]["fields"]) == {"products[0].amount", "products[0].lot", "products[0].unit"}
    assert not TreatmentRecord.objects.exists()


def test_roles_and_tenancy(tc: TClinic, api: Any) -> None:
    appt = make_appointment(tc, patient=tc.anna, doctor=tc.doc1, service=tc.botox)
    url = f"/api/v1/appointments/{appt.pk}/treatment"
    assert _post(api("doctor"), url, BODY).status_code == 200
    assert _post(api("marketer"), url, BODY).status_code == 403
    assert api("marketer").get(url).status_code == 403
    assert api("frontdesk").get(url).status_code == 403
    assert _post(api("frontdesk"), url, BODY).status_code == 403
    assert _post(api("manager"), url, BODY).status_code == 403  # manager reads, does not record
    assert api("manager").get(url).status_code == 200
    r = api("outsider").get(url)
    assert r.status_code == 404 and "Anna" not in r.content.decode()
    assert _post(api("outsider"), url, BODY).status_code == 404
    assert AuditEvent.objects.filter(object_type="treatment_record", outcome="denied").count() >= 4


def test_audit_rows_for_reads_and_writes(tc: TClinic, api: Any) -> None:
    appt = make_appointment(tc, patient=tc.anna, doctor=tc.doc1, service=tc.botox)
    url = f"/api/v1/appointments/{appt.pk}/treatment"
    _post(api("doctor"), url, BODY)
    record = TreatmentRecord.objects.get()
    writes = AuditEvent.objects.filter(
        object_type="treatment_record", object_id=str(record.pk), action="create"
    )
    assert writes.count() == 1 and "products" in writes.get().fields
    assert api("doctor").get(url).status_code == 200
    reads = AuditEvent.objects.filter(object_type="treatment_record", object_id=str(record.pk), action="view")
    assert reads.count() == 1
    assert "tolerated" not in json.dumps(list(AuditEvent.objects.values("fields", "object_id")))


def test_sop_versions_and_checked_items(tc: TClinic, users: Any) -> None:
    v1 = svc.sop_save(
        org=tc.org, actor=users["manager"], service=tc.botox, title="Botox SOP", items=["Consent", "Photos"]
    )
    v2 = svc.sop_save(
        org=tc.org,
        actor=users["manager"],
        service=tc.botox,
        title="Botox SOP",
        items=["Consent", "Photos", "Aspirate"],
    )
    assert (v1.version, v2.version) == (1, 2)
    appt = make_appointment(tc, patient=tc.anna, doctor=tc.doc1, service=tc.botox)
    record = svc.treatment_save(
        org=tc.org, actor=users["doctor"], appointment=appt, data=svc.TreatmentData(sop_checked=[0, 2])
    )
    assert record.sop_version_id == v2.pk and record.sop_checked == [0, 2]
    with pytest.raises(svc.ValidationFailed) as exc:
        svc.treatment_save(
            org=tc.org, actor=users["doctor"], appointment=appt, data=svc.TreatmentData(sop_checked=[3])
        )
    assert "sop_checked" in exc.value.fields
    with pytest.raises(TypeError):
        v1.save()
