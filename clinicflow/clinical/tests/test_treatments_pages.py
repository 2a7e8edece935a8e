"""Pages of the treatment part: record form, sign-off, amendment, SOP editor, complications, roles."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from clinicflow.clinical.models.treatments import (
    Complication,
    SopVersion,
    TreatmentAmendment,
    TreatmentRecord,
)
from clinicflow.clinical.tests.treatments_factories import TClinic, make_appointment, make_clinic
from clinicflow.core.models import AuditEvent, Branch, Organization

pytestmark = pytest.mark.django_db


@pytest.fixture
def tc(org: Organization, branch: Branch, branch2: Branch, users: Any) -> TClinic:
    return make_clinic(org, branch, branch2)


def _form(**extra: str) -> dict[str, str]:
    return {
        "p0_name": "Botox",
        "p0_lot": "c 34",
        "p0_amount": "50",
        "p0_unit": "U",
        "p0_area": "forehead",
        "map_notes": "forehead: 5 points",
        "notes": "<script>x</script>",
        **extra,
    }


def test_record_form_sign_off_and_amend(tc: TClinic, web: Any) -> None:
    appt = make_appointment(tc, patient=tc.anna, doctor=tc.doc1, service=tc.botox)
    url = f"/clinical/appointments/{appt.pk}/treatment/"
    doctor = web("doctor")
    assert (
        f"/clinical/appointments/{appt.pk}/treatment/"
        in doctor.get(f"/booking/a/{appt.pk}/").content.decode()
    )
    r = doctor.get(url)
    assert r.status_code == 200 and 'name="p0_lot"' in r.content.decode()
    assert doctor.post(url, _form(sign_off="1")).status_code == 302
    record = TreatmentRecord.objects.get()
    assert record.signed_at is not None and record.products.get().lot == "C34"
    assert doctor.post(url, _form(notes="changed")).status_code == 409
    assert TreatmentRecord.objects.get().notes == "<script>x</script>"
    r = doctor.post(
        url + "amend/", {"notes": "fixed", "map_notes": "forehead: 5 points", "reason": "typo in notes"}
    )
    assert r.status_code == 302
    page = doctor.get(url).content.decode()
    assert (
        "fixed" in page and "typo in notes" in page and "<script>x" not in page and "&lt;script&gt;" in page
    )
    assert TreatmentAmendment.objects.get().changes == {"notes": ["<script>x</script>", "fixed"]}
    assert AuditEvent.objects.filter(object_type="treatment_record", action="view").count() >= 2


def test_record_page_roles(tc: TClinic, web: Any) -> None:
    appt = make_appointment(tc, patient=tc.anna, doctor=tc.doc1, service=tc.botox)
    url = f"/clinical/appointments/{appt.pk}/treatment/"
    assert web("marketer").get(url).status_code == 403
    assert web("frontdesk").get(url).status_code == 403
    assert web("manager").post(url, _form()).status_code == 403
    denied = AuditEvent.objects.filter(object_type="treatment_record", outcome="denied")
    assert denied.count() == 3 and set(denied.values_list("role", flat=True)) == {
        "marketer",
        "frontdesk",
        "manager",
    }
    assert web("outsider").get(url).status_code == 404
    assert not TreatmentRecord.objects.exists()
    for page in (
        "/clinical/treatments/lots/?lot=x",
        "/clinical/complications/",
        "/clinical/treatments/sops/",
    ):
        assert web("marketer").get(page).status_code == 403
    assert web("doctor").get("/clinical/treatments/sops/").status_code == 403


def test_sop_editor_versions(tc: TClinic, web: Any) -> None:
    manager = web("manager")
    url = "/clinical/treatments/sops/"
    assert (
        manager.post(
            url, {"service": str(tc.botox.pk), "title": "Botox", "items": "Consent\nPhotos"}
        ).status_code
        == 302
    )
    assert (
        manager.post(
            url, {"service": str(tc.botox.pk), "title": "Botox", "items": "Consent\nPhotos\nMark"}
        ).status_code
        == 302
    )
    assert list(SopVersion.objects.values_list("version", flat=True).order_by("version")) == [1, 2]
    assert "Mark" in manager.get(url, {"service": str(tc.botox.pk)}).content.decode()


def test_complication_form_list_and_csv(tc: TClinic, web: Any) -> None:
    appt = make_appointment(tc, patient=tc.anna, doctor=tc.doc1, service=tc.botox)
    doctor = web("doctor")
    url = f"/clinical/appointments/{appt.pk}/complication/"
    today = timezone.localdate().isoformat()
    r = doctor.post(
        url, {"severity": "huge", "onset_date": today, "description": "bruise", "outcome": "ongoing"}
    )
    assert r.status_code == 422 and "severity" in r.content.decode()
    body = {
        "severity": "moderate",
        "onset_date": today,
        "description": "=HYPERLINK(1)",
        "outcome": "ongoing",
        "follow_up_date": today,
    }
    assert doctor.post(url, body).status_code == 302
    entry = Complication.objects.get()
    assert entry.doctor_id == tc.doc1.pk and entry.service_id == tc.botox.pk
    page = web("manager").get("/clinical/complications/", {"open": "1"}).content.decode()
    assert "Dr One" in page and tc.anna.full_name in page
    csv = web("manager").get("/clinical/complications/", {"format": "csv"}).content.decode()
    assert "'=HYPERLINK(1)" not in csv  # description is not exported
    assert "moderate" in csv and "Dr One" in csv
    assert web("frontdesk").post(url, body).status_code == 403
