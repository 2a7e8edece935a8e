"""A manager links a doctor to the doctor's staff account on the resources page; the doctor's home
then shows "my day"."""

from __future__ import annotations

from typing import Any

from clinicflow.booking.models import Doctor
from clinicflow.booking.tests.conftest import Clinic
from clinicflow.core.models import AuditEvent


def _link(web: Any, clinic: Clinic, doctor: Doctor, user_id: object, who: str = "manager") -> Any:
    url = f"/booking/setup/doctors/{doctor.pk}/account/"
    return web(who).post(url, {"branch": str(clinic.branch.pk), "user": str(user_id)}, follow=True)


def test_manager_links_and_unlinks_a_doctor_account(clinic: Clinic, users: Any, web: Any) -> None:
    account = users["doctor"]
    page = web("manager").get(f"/booking/setup/?branch={clinic.branch.pk}").content.decode()
    assert account.email in page and "Staff account" in page
    _link(web, clinic, clinic.doctor, account.pk)
    clinic.doctor.refresh_from_db()
    assert clinic.doctor.user_id == account.pk
    assert AuditEvent.objects.filter(object_type="doctor", object_id=str(clinic.doctor.pk)).exists()
    _link(web, clinic, clinic.doctor, "")
    clinic.doctor.refresh_from_db()
    assert clinic.doctor.user_id is None


def test_refusals_name_the_field_and_keep_the_link(clinic: Clinic, users: Any, web: Any) -> None:
    _link(web, clinic, clinic.doctor, users["doctor"].pk)
    # an account already linked to another doctor
    body = _link(web, clinic, clinic.doctor2, users["doctor"].pk).content.decode()
    assert "user: doctor@demo.test is already linked to" in body
    # not a doctor's account; another organisation's account
    assert (
        "is not an active doctor"
        in _link(web, clinic, clinic.doctor2, users["frontdesk"].pk).content.decode()
    )
    assert (
        "unknown staff account" in _link(web, clinic, clinic.doctor2, users["outsider"].pk).content.decode()
    )
    clinic.doctor.refresh_from_db()
    clinic.doctor2.refresh_from_db()
    assert clinic.doctor.user_id == users["doctor"].pk and clinic.doctor2.user_id is None


def test_only_managers_link_accounts(clinic: Clinic, users: Any, web: Any) -> None:
    r = web("frontdesk").post(
        f"/booking/setup/doctors/{clinic.doctor.pk}/account/", {"user": str(users["doctor"].pk)}
    )
    assert r.status_code == 403
    clinic.doctor.refresh_from_db()
    assert clinic.doctor.user_id is None
