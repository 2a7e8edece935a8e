"""Lot traceability and complications: search, tenancy, the rate per doctor, validation, roles."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from clinicflow.booking.tests.factories import make_doctor, make_patient, make_service
from clinicflow.clinical.models.treatments import Complication
from clinicflow.clinical.selectors import treatments as sel
from clinicflow.clinical.services import treatments as svc
from clinicflow.clinical.services import treatments_complications as csvc
from clinicflow.clinical.tests.treatments_factories import TClinic, make_appointment, make_clinic
from clinicflow.core.models import AuditEvent, Branch, Organization

pytestmark = pytest.mark.django_db


@pytest.fixture
def tc(org: Organization, branch: Branch, branch2: Branch, users: Any) -> TClinic:
    return make_clinic(org, branch, branch2)


def _treat(
    tc: TClinic,
    users: Any,
    patient: Any,
    doctor: Any,
    lot: str,
    amount: str = "1.0",
    *,
    sign: bool = True,
    branch: Any = None,
    service: Any = None,
) -> Any:
    appt = make_appointment(tc, patient=patient, doctor=doctor, service=service or tc.botox, branch=branch)
    data = svc.TreatmentData(products=[svc.ProductData(name="Filler X", lot=lot, amount=amount, unit="ml")])
    return svc.treatment_save(org=tc.org, actor=users["doctor"], appointment=appt, data=data, sign_off=sign)


def test_lot_search_finds_exactly_the_patients_across_branches_of_one_org(
    tc: TClinic, users: Any, api: Any, other_org: Organization, other_branch: Branch
) -> None:
    _treat(tc, users, tc.anna, tc.doc1, "ab-123 ", "1.0")
    _treat(tc, users, tc.boris, tc.doc2, " AB-123", "0.5", branch=tc.branch2, sign=False)
    _treat(tc, users, tc.boris, tc.doc1, "AB-124")
    # another organisation uses the same lot
    osvc = make_service(other_org, code="f", name="F", category="fillers", room_type="treatment")
    odoc = make_doctor(other_org, other_branch, [osvc], "Dr Other")
    opat = make_patient(other_org, first_name="Zed", phone="+8613800138000")
    other = TClinic(other_org, other_branch, other_branch, osvc, osvc, odoc, odoc, opat, opat)
    _treat(other, users, opat, odoc, "AB-123")

    hits = sel.lot_search(org=tc.org, lot="ab123".replace("ab", "ab-"))
    assert sorted((h.patient_name, h.amount) for h in hits) == [
        (tc.anna.full_name, Decimal("1.000")),
        (tc.boris.full_name, Decimal("0.500")),
    ]
    r = api("manager").get("/api/v1/treatments/lots", {"lot": " ab-123"})
    assert r.status_code == 200
    body = r.json()
    assert {h["patient"] for h in body} == {str(tc.anna.pk), str(tc.boris.pk)}
    assert {h["doctor"] for h in body} == {"Dr One", "Dr Two"}
    assert "Zed" not in r.content.decode()
    assert api("marketer").get("/api/v1/treatments/lots", {"lot": "AB-123"}).status_code == 403
    assert api("frontdesk").get("/api/v1/treatments/lots", {"lot": "AB-123"}).status_code == 403
    assert AuditEvent.objects.filter(object_type="treatment_record", action="list").count() == 1
    page = _web_get(users, "doctor", "/clinical/treatments/lots/?lot=ab-123")
    assert page.status_code == 200 and tc.anna.full_name in page.content.decode()


def _web_get(users: Any, persona: str, url: str) -> Any:
    from django.test import Client

    client = Client()
    client.force_login(users[persona], backend="django.contrib.auth.backends.ModelBackend")
    return client.get(url)


def _log(tc: TClinic, users: Any, record: Any, severity: str = "mild", **kw: Any) -> Complication:
    data = csvc.ComplicationData(
        patient=record.patient,
        severity=severity,
        onset_date=kw.pop("onset_date", timezone.localdate()),
        description="swelling",
        outcome=kw.pop("outcome", "ongoing"),
        treatment=record,
        **kw,
    )
    return csvc.complication_log(org=tc.org, actor=users["doctor"], data=data)


def test_complication_rate_per_doctor_and_service_exact(tc: TClinic, users: Any) -> None:
    r1 = [_treat(tc, users, tc.anna, tc.doc1, f"L{i}") for i in range(4)]
    r2 = [_treat(tc, users, tc.boris, tc.doc2, f"M{i}", service=tc.filler) for i in range(3)]
    _treat(tc, users, tc.boris, tc.doc2, "N1", sign=False)  # unsigned: not counted
    first = _log(tc, users, r1[0])
    _log(tc, users, r1[0], severity="moderate", corrects=first)  # a correction: still one case
    _log(tc, users, r2[0])
    _log(tc, users, r2[1], severity="severe")
    start, end = sel.month_bounds(timezone.localdate())
    by_doctor = {
        row.label: (row.complications, row.treatments, row.rate)
        for row in sel.complication_rates(org=tc.org, start=start, end=end)
    }
    assert by_doctor == {"Dr One": (1, 4, Decimal("0.25")), "Dr Two": (2, 3, Decimal(2) / Decimal(3))}
    by_service = {
        row.label: (row.complications, row.treatments)
        for row in sel.complication_rates(org=tc.org, start=start, end=end, by="service")
    }
    assert by_service == {"Botulinum toxin": (1, 4), "Filler": (2, 3)}
    cases = sel.complication_cases(org=tc.org, filters=sel.CaseFilters(month=start, severity="moderate"))
    assert [c.severity for c in cases] == ["moderate"]


def test_complication_api_validation_roles_append_only(tc: TClinic, users: Any, api: Any) -> None:
    record = _treat(tc, users, tc.anna, tc.doc1, "L1")
    today = timezone.localdate()
    body = {
        "patient": str(tc.anna.pk),
        "severity": "catastrophic",
        "onset_date": today.isoformat(),
        "description": "bruise",
        "outcome": "ongoing",
        "follow_up_date": (today - dt.timedelta(days=3)).isoformat(),
        "appointment": str(record.appointment_id),
    }
    post = lambda who, b: api(who).post(
        "/api/v1/complications", data=json.dumps(b), content_type="application/json"
    )
    r = post("doctor", body)
    assert r.status_code == 422
    assert set(r.json()["error"]["fields"]) == {"severity", "follow_up_date"}
    body.update(severity="mild", follow_up_date=(today + dt.timedelta(days=7)).isoformat())
    assert post("marketer", body).status_code == 403
    assert post("frontdesk", body).status_code == 403
    assert post("outsider", body).status_code == 404
    r = post("doctor", body)
    assert r.status_code == 201, r.content
    assert r.json()["treatment"] == str(record.pk) and r.json()["doctor"] == str(tc.doc1.pk)
    entry = Complication.objects.get()
    with pytest.raises(TypeError):
        entry.save()
    with pytest.raises(TypeError):
        Complication.objects.filter(pk=entry.pk).update(outcome="resolved")
    r = api("manager").get("/api/v1/complications", {"month": today.strftime("%Y-%m"), "open": "true"})
    assert r.status_code == 200 and [c["id"] for c in r.json()] == [str(entry.pk)]
    assert api("marketer").get("/api/v1/complications").status_code == 403
    assert api("frontdesk").get("/api/v1/complications").status_code == 403
    assert api("outsider").get("/api/v1/complications").json() == []
    assert AuditEvent.objects.filter(object_type="complication", action="create").count() == 1
    assert AuditEvent.objects.filter(object_type="complication", action="list").count() == 2


def test_amended_lot_is_found_and_amended_products_are_validated(tc: TClinic, users: Any) -> None:
    record = _treat(tc, users, tc.anna, tc.doc1, "ab-1", "1.0")
    current = sel.current_values(org=tc.org, record=record)
    line = {**current["products"][0], "lot": "ab-2"}
    bad = {**line, "amount": "-2"}
    with pytest.raises(svc.ValidationFailed) as exc:
        svc.treatment_amend(
            org=tc.org,
            actor=users["owner"],
            record=record,
            changes={"products": [bad]},
            reason="wrong lot",
            current=current,
        )
    assert set(exc.value.fields) == {"products[0].amount"}
    svc.treatment_amend(
        org=tc.org,
        actor=users["owner"],
        record=record,
        changes={"products": [line]},
        reason="wrong lot",
        current=current,
    )
    assert [h.patient_id for h in sel.lot_search(org=tc.org, lot="AB-2")] == [tc.anna.pk]
    assert sel.lot_search(org=tc.org, lot="AB-1") == []
    assert sel.original_values(org=tc.org, record=record)["products"][0]["lot"] == "AB-1"


def test_complication_rate_report_json_chart_and_roles(tc: TClinic, users: Any, api: Any) -> None:
    records = [_treat(tc, users, tc.anna, tc.doc1, f"R{i}") for i in range(4)]
    _log(tc, users, records[0])
    today = timezone.localdate().isoformat()
    url = f"/api/v1/reports/complication_rates?from={today}&to={today}"
    body = api("owner").get(url).json()
    row = next(r for r in body["rows"] if r["name"] == "Dr One")
    assert (row["complications"], row["treatments"]) == (1, 4)
    assert Decimal(str(row["rate"])) == Decimal("0.25")
    by_service = api("owner").get(url + "&by=service").json()
    assert [r["name"] for r in by_service["rows"]] == ["Botulinum toxin"]
    assert api("owner").get(url + "&by=patient").status_code == 422  # not an allowed grouping
    assert api("marketer").get(url).status_code == 403
    page = _web_get(users, "manager", f"/analytics/reports/complication_rates/?from={today}&to={today}")
    assert page.status_code == 200 and b'id="chart-data"' in page.content
