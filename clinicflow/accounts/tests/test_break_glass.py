"""Emergency ("break-glass") access (AC-05): a reasoned, time-boxed grant, audited and shown to the
owner; every access under it writes an audit row with break_glass=true; after expiry, refused."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone
from freezegun import freeze_time

from clinicflow.accounts.breakglass import break_glass_open, break_glass_revoke, patient_access
from clinicflow.accounts.models import BreakGlassGrant, User
from clinicflow.accounts.roles import Role
from clinicflow.accounts.services import api_token_issue, user_create
from clinicflow.conftest import PASSWORD
from clinicflow.core.errors import PermissionDenied, ValidationFailed
from clinicflow.core.models import AuditEvent, AuditOutcome, Branch, Organization
from clinicflow.patients.models import Patient
from clinicflow.patients.tests.factories import make_patient

REASON = "Patient collapsed at reception, need allergies"
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _counters_in_the_test_database(settings: Any) -> None:
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "clinicflow_cache"}
    }


@pytest.fixture
def tied(org: Organization, branch: Branch, users: dict[str, User]) -> dict[str, User]:
    """A doctor and a front desk user tied to the Moscow branch."""
    return {
        role: user_create(
            org=org,
            actor=None,
            email=f"{role}.moscow@demo.test",
            password=PASSWORD,
            role=role,
            validate=False,
            branch=branch,
        )
        for role in (Role.DOCTOR, Role.FRONTDESK)
    }


@pytest.fixture
def elsewhere(org: Organization, branch2: Branch) -> Patient:
    """A patient of the Novosibirsk branch, with clinical notes."""
    return make_patient(org, branch=branch2, clinical_notes="Allergic to lidocaine", email="anna@example.org")


def _web(user: User) -> Client:
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def _bearer(user: User) -> Client:
    _, raw = api_token_issue(user=user)
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def _rows(user: User, **filters: Any) -> list[tuple[str, str, bool]]:
    rows = AuditEvent.objects.filter(organization=user.organization, actor=user, **filters).order_by("seq")
    return [(r.action, r.object_type, r.break_glass) for r in rows]


def _open(client: Client, patient: Patient, **extra: Any) -> Any:
    body = {"reason": REASON, "minutes": "60", "password": PASSWORD, **extra}
    return client.post(f"/patients/{patient.pk}/emergency/", body)


def test_a_doctor_of_another_branch_is_refused_the_card_and_offered_emergency_access(tied, elsewhere) -> None:
    doctor = tied[Role.DOCTOR]
    response = _web(doctor).get(f"/patients/{elsewhere.pk}/")
    assert response.status_code == 403
    assert b"Allergic to lidocaine" not in response.content
    assert f'action="/patients/{elsewhere.pk}/emergency/"'.encode() in response.content
    assert b'name="reason"' in response.content and b'name="password"' in response.content
    row = AuditEvent.objects.get(actor=doctor, object_type="patient")
    assert (row.outcome, row.break_glass) == (AuditOutcome.DENIED, False)


def test_a_doctor_without_a_branch_opens_every_card_with_no_grant(users, elsewhere) -> None:
    response = _web(users["doctor"]).get(f"/patients/{elsewhere.pk}/")
    assert response.status_code == 200 and b"Allergic to lidocaine" in response.content
    assert BreakGlassGrant.objects.count() == 0


def test_a_grant_opens_the_card_audits_every_view_and_is_refused_again_after_expiry(tied, elsewhere) -> None:
    doctor = tied[Role.DOCTOR]
    with freeze_time(T0) as clock:
        client = _web(doctor)
        response = _open(client, elsewhere)
        assert response.status_code == 302 and response["Location"] == f"/patients/{elsewhere.pk}/"
        grant = BreakGlassGrant.objects.get()
        assert (grant.user_id, grant.patient_id, grant.reason) == (doctor.pk, elsewhere.pk, REASON)
        assert grant.expires_at == T0 + dt.timedelta(hours=1)
        for _ in range(2):
            page = client.get(f"/patients/{elsewhere.pk}/")
            assert page.status_code == 200
            assert b"Allergic to lidocaine" in page.content and b"anna@example.org" in page.content
        views = AuditEvent.objects.filter(actor=doctor, object_type="patient", outcome=AuditOutcome.OK)
        assert [v.break_glass for v in views] == [True, True]
        assert "clinical_notes" in views[0].fields
        opened = AuditEvent.objects.get(actor=doctor, object_type="break_glass_grant")
        assert (opened.action, opened.break_glass, str(opened.object_id)) == ("create", True, str(grant.pk))
        grant.refresh_from_db()
        assert grant.access_count == 2
        # the grant reads, it does not write
        assert client.get(f"/patients/{elsewhere.pk}/edit/").status_code == 403
        clock.tick(dt.timedelta(hours=1, seconds=1))
        after = _web(doctor).get(f"/patients/{elsewhere.pk}/")  # a new session: the old one idled out
    assert after.status_code == 403 and b"Allergic to lidocaine" not in after.content
    assert AuditEvent.objects.filter(actor=doctor, object_type="patient", break_glass=True).count() == 2
    grant.refresh_from_db()
    assert grant.access_count == 2


def test_the_api_honours_a_grant_opened_on_the_page_and_audits_it(tied, elsewhere) -> None:
    doctor = tied[Role.DOCTOR]
    api = _bearer(doctor)
    with freeze_time(T0) as clock:
        refused = api.get(f"/api/v1/patients/{elsewhere.pk}")
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "break_glass_available"
        assert _open(_web(doctor), elsewhere).status_code == 302
        response = api.get(f"/api/v1/patients/{elsewhere.pk}")
        assert response.status_code == 200
        assert response.json()["clinical_notes"] == "Allergic to lidocaine"
        consents = api.get(f"/api/v1/patients/{elsewhere.pk}/consents")
        assert consents.status_code == 200
        assert (
            api.patch(
                f"/api/v1/patients/{elsewhere.pk}", {"notes": "x"}, content_type="application/json"
            ).status_code
            == 403
        )
        clock.tick(dt.timedelta(hours=2))
        assert api.get(f"/api/v1/patients/{elsewhere.pk}").status_code == 403
    granted = AuditEvent.objects.filter(actor=doctor, outcome=AuditOutcome.OK, break_glass=True)
    assert sorted((r.action, r.object_type) for r in granted) == [
        ("create", "break_glass_grant"),
        ("view", "consent"),
        ("view", "patient"),
    ]
    assert BreakGlassGrant.objects.get().access_count == 2


def test_the_front_desk_reads_clinical_notes_only_under_a_grant(users, elsewhere) -> None:
    frontdesk = users["frontdesk"]
    client = _web(frontdesk)
    with freeze_time(T0) as clock:
        page = client.get(f"/patients/{elsewhere.pk}/")
        assert page.status_code == 200 and b"Allergic to lidocaine" not in page.content
        assert f'href="/patients/{elsewhere.pk}/emergency/"'.encode() in page.content
        api = _bearer(frontdesk)
        assert "clinical_notes" not in api.get(f"/api/v1/patients/{elsewhere.pk}").json()
        assert _open(client, elsewhere, minutes="15").status_code == 302
        assert b"Allergic to lidocaine" in client.get(f"/patients/{elsewhere.pk}/").content
        assert api.get(f"/api/v1/patients/{elsewhere.pk}").json()["clinical_notes"] == "Allergic to lidocaine"
        clock.tick(dt.timedelta(minutes=15))
        client = _web(frontdesk)
        assert b"Allergic to lidocaine" not in client.get(f"/patients/{elsewhere.pk}/").content
        assert "clinical_notes" not in api.get(f"/api/v1/patients/{elsewhere.pk}").json()
    views = AuditEvent.objects.filter(actor=frontdesk, object_type="patient").order_by("seq")
    assert [v.break_glass for v in views] == [False, False, True, True, False, False]


def test_the_marketer_and_the_owner_cannot_break_glass(users, elsewhere) -> None:
    for persona in ("marketer", "owner"):
        assert _open(_web(users[persona]), elsewhere).status_code == 403
    page = _web(users["marketer"]).get(f"/patients/{elsewhere.pk}/")
    assert b"/emergency/" not in page.content
    with pytest.raises(PermissionDenied):
        break_glass_open(
            org=elsewhere.organization,
            user=users["marketer"],
            patient_id=elsewhere.pk,
            branch_id=elsewhere.branch_id,
            reason=REASON,
        )
    assert BreakGlassGrant.objects.count() == 0


def test_a_grant_needs_a_reason_the_password_and_a_bounded_duration(tied, elsewhere) -> None:
    doctor = tied[Role.DOCTOR]
    client = _web(doctor)
    assert _open(client, elsewhere, reason="because").status_code == 422
    assert _open(client, elsewhere, password="wrong!").status_code == 422
    assert _open(client, elsewhere, minutes="600").status_code == 422
    assert BreakGlassGrant.objects.count() == 0
    with pytest.raises(ValidationFailed) as exc:
        break_glass_open(
            org=doctor.organization,
            user=doctor,
            patient_id=elsewhere.pk,
            branch_id=elsewhere.branch_id,
            reason=REASON,
            minutes=241,
        )
    assert list(exc.value.fields) == ["minutes"]
    failed = AuditEvent.objects.filter(
        actor=doctor, object_type="password_check", outcome=AuditOutcome.FAILED
    )
    assert failed.count() == 1


def test_nothing_to_unlock_means_no_grant(users, tied, org, branch) -> None:
    mine = make_patient(org, branch=branch)
    response = _open(_web(tied[Role.DOCTOR]), mine)
    assert response.status_code == 302 and response["Location"] == f"/patients/{mine.pk}/"
    assert BreakGlassGrant.objects.count() == 0


def test_another_organisations_patient_is_not_found(tied, other_org) -> None:
    foreign = make_patient(other_org)
    assert _open(_web(tied[Role.DOCTOR]), foreign).status_code == 404
    assert BreakGlassGrant.objects.count() == 0


def test_the_owner_sees_every_grant_and_revokes_one(users, tied, elsewhere) -> None:
    doctor = tied[Role.DOCTOR]
    client = _web(doctor)
    assert _open(client, elsewhere).status_code == 302
    client.get(f"/patients/{elsewhere.pk}/")
    owner = _web(users["owner"])
    home = owner.get("/patients/")
    assert b'href="/accounts/break-glass/"' in home.content
    page = owner.get("/accounts/break-glass/")
    assert page.status_code == 200
    text = page.content.decode()
    assert REASON in text and doctor.email in text and elsewhere.full_name in text
    grant = BreakGlassGrant.objects.get()
    assert f'action="/accounts/break-glass/{grant.pk}/revoke/"' in text
    response = owner.post(f"/accounts/break-glass/{grant.pk}/revoke/")
    assert response.status_code == 302
    grant.refresh_from_db()
    assert grant.revoked_at is not None and grant.revoked_by_id == users["owner"].pk
    assert client.get(f"/patients/{elsewhere.pk}/").status_code == 403
    row = AuditEvent.objects.get(actor=users["owner"], object_type="break_glass_grant", action="update")
    assert (row.fields, row.break_glass) == (["revoked_at", "revoked_by"], True)


def test_only_the_owner_and_managers_see_or_revoke_grants(users, tied, elsewhere) -> None:
    grant = break_glass_open(
        org=elsewhere.organization,
        user=tied[Role.DOCTOR],
        patient_id=elsewhere.pk,
        branch_id=elsewhere.branch_id,
        reason=REASON,
    )
    for persona in ("doctor", "frontdesk", "marketer"):
        client = _web(users[persona])
        assert client.get("/accounts/break-glass/").status_code == 403
        assert client.post(f"/accounts/break-glass/{grant.pk}/revoke/").status_code == 403
    assert _web(users["outsider"]).post(f"/accounts/break-glass/{grant.pk}/revoke/").status_code == 404
    assert _web(users["manager"]).get("/accounts/break-glass/").status_code == 200
    with pytest.raises(PermissionDenied):
        break_glass_revoke(org=elsewhere.organization, actor=tied[Role.FRONTDESK], grant=grant)
    grant.refresh_from_db()
    assert grant.revoked_at is None


def test_the_emergency_form_needs_csrf(tied, elsewhere) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(tied[Role.DOCTOR], backend="django.contrib.auth.backends.ModelBackend")
    assert _open(client, elsewhere).status_code == 403
    assert BreakGlassGrant.objects.count() == 0


def test_the_access_decision_needs_no_query_when_nothing_is_refused(
    users, elsewhere, django_assert_num_queries
) -> None:
    with django_assert_num_queries(0):
        access = patient_access(
            org=elsewhere.organization,
            user=users["doctor"],
            patient_id=elsewhere.pk,
            branch_id=elsewhere.branch_id,
            now=timezone.now(),
        )
    assert access.opens and not access.break_glass and access.can("patients.view_clinical")


def test_createuser_ties_a_user_to_a_branch(org, branch) -> None:
    call_command(
        "createuser",
        "--org=demo",
        "--email=dr.moscow@demo.test",
        "--role=doctor",
        "--branch=moscow",
        f"--password={PASSWORD}",
        stdout=io.StringIO(),
    )
    assert User.objects.get(email="dr.moscow@demo.test").branch_id == branch.pk
    with pytest.raises(CommandError):
        call_command(
            "createuser",
            "--org=demo",
            "--email=x@demo.test",
            "--role=doctor",
            "--branch=nowhere",
            "--password=x",
        )
