"""The request page, the command, retention and residency."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client, override_settings

from clinicflow.accounts.models import User
from clinicflow.acquisition.models import Call
from clinicflow.core.models import Branch, Organization
from clinicflow.messaging.models import Message, Status
from clinicflow.patients.models import ConsentMethod, ConsentPurpose, Patient
from clinicflow.patients.services import consent_record
from clinicflow.privacy.jobs import retention_nightly
from clinicflow.privacy.models import RequestKind, RetentionRun, SubjectRequest
from clinicflow.privacy.residency import (
    ResidencyMiddleware,
    ResidencyRefused,
    check_residency,
    residency_guard,
    residency_problem,
    transfer_allowed,
)
from clinicflow.privacy.rights.deadlines import request_due
from clinicflow.privacy.tests.rights_world import NAME, seed

pytestmark = pytest.mark.django_db


def test_page_export_downloads_a_zip_and_logs_the_request(
    org: Organization, branch: Branch, users: dict[str, User], web: Callable[[str], Client]
) -> None:
    patient = seed(org, branch, users["owner"])
    client = web("manager")
    assert client.get("/privacy/requests/").status_code == 200
    response = client.post("/privacy/requests/", {"patient": str(patient.pk), "action": "export"})
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert "export.json" in zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    row = SubjectRequest.objects.for_org(org).get()
    assert client.get(f"/privacy/requests/{row.pk}/").status_code == 200


def test_page_erasure_needs_confirmation_and_shows_what_is_held(
    org: Organization, branch: Branch, users: dict[str, User], web: Callable[[str], Client]
) -> None:
    patient = seed(org, branch, users["owner"])
    client = web("owner")
    refused = client.post("/privacy/requests/", {"patient": str(patient.pk), "action": "erase"})
    assert refused.status_code == 422
    assert Patient.objects.get(pk=patient.pk).last_name == NAME
    done = client.post("/privacy/requests/", {"patient": str(patient.pk), "action": "erase", "confirm": "on"})
    assert done.status_code == 302
    page = client.get(done["Location"]).content.decode()
    assert "booking.Payment" in page and "patients.PatientPhone" in page


def test_other_roles_and_other_organisations_are_refused(
    org: Organization,
    other_org: Organization,
    branch: Branch,
    users: dict[str, User],
    web: Callable[[str], Client],
) -> None:
    assert web("doctor").get("/privacy/requests/").status_code == 403
    assert web("frontdesk").get("/privacy/retention/").status_code == 403
    other = Patient.objects.create(
        organization=other_org, last_name="Else", first_name="W", search_name="else w"
    )
    response = web("owner").post("/privacy/requests/", {"patient": str(other.pk), "action": "export"})
    assert response.status_code == 404


def test_command_export_erase_and_requests(
    org: Organization, branch: Branch, users: dict[str, User], tmp_path: Path
) -> None:
    patient = seed(org, branch, users["owner"])
    out = io.StringIO()
    target = tmp_path / "p.zip"
    call_command(
        "privacy", "--org", org.slug, "export", "--patient", str(patient.pk), "--out", str(target), stdout=out
    )
    assert zipfile.is_zipfile(target)
    call_command(
        "privacy",
        "--org",
        org.slug,
        "correct",
        "--patient",
        str(patient.pk),
        "--set",
        "first_name=Ula",
        stdout=out,
    )
    assert Patient.objects.get(pk=patient.pk).first_name == "Ula"
    with pytest.raises(CommandError):
        call_command("privacy", "--org", org.slug, "erase", "--patient", str(patient.pk))
    call_command("privacy", "--org", org.slug, "erase", "--patient", str(patient.pk), "--yes", stdout=out)
    assert '"held"' in out.getvalue()
    listing = io.StringIO()
    call_command("privacy", "--org", org.slug, "requests", stdout=listing)
    assert listing.getvalue().count("\n") == 3
    kinds = set(SubjectRequest.objects.for_org(org).values_list("kind", flat=True))
    assert kinds == {RequestKind.EXPORT, RequestKind.CORRECTION, RequestKind.ERASURE}


def test_deadlines_follow_the_law_of_the_organisation(org: Organization) -> None:
    monday = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
    org.country, org.data_region = "DE", "EU"
    assert request_due(org, monday) == monday + dt.timedelta(days=30)
    org.country, org.data_region = "RU", "RU"
    assert request_due(org, monday) == monday + dt.timedelta(days=14)  # 10 working days


def test_retention_dry_run_counts_then_the_job_clears_old_recording_links(
    org: Organization, branch: Branch, users: dict[str, User]
) -> None:
    org.country = "RU"
    org.save()
    seed(org, branch, users["owner"])  # a call of 2026-03-01 with a recording link
    far = dt.datetime(2028, 1, 1, tzinfo=dt.UTC)
    out = io.StringIO()
    from clinicflow.privacy.retention.run import retention_run

    dry = retention_run(org=org, dry_run=True, now=far)
    assert dry.counts["call_recording_links"] == 1
    assert Call.objects.for_org(org).exclude(recording_url="").count() == 1
    call_command("privacy", "--org", org.slug, "retention", "--dry-run", stdout=out)
    assert "call_recording_links: 0 would change" in out.getvalue()  # the call is less than a year old today
    real = retention_run(org=org, dry_run=False, now=far)
    assert real.counts["call_recording_links"] == 1
    assert Call.objects.for_org(org).exclude(recording_url="").count() == 0
    assert RetentionRun.objects.for_org(org).filter(dry_run=False).count() == 1


def test_the_nightly_job_runs_each_organisation_once_a_day(
    org: Organization, other_org: Organization
) -> None:
    first = retention_nightly()
    assert first.startswith("retention: 2 organisations")
    assert retention_nightly().startswith("retention: 0 organisations")


RESIDENCY = {"RU": {"database_hosts": ["db.msk.internal"], "buckets": ["cf-ru-photos"]}}


@override_settings(PRIVACY_RESIDENCY=RESIDENCY)
def test_an_organisation_stored_outside_its_region_is_refused(org: Organization, rf: object) -> None:
    org.data_region = "RU"
    assert "database host" in (residency_problem(org) or "")
    with pytest.raises(ResidencyRefused):
        residency_guard(org)
    assert [e.id for e in check_residency(databases=["default"])] == ["privacy.E001"]
    request = rf.get("/")  # type: ignore[attr-defined]
    request.org = org
    response = ResidencyMiddleware(lambda r: None)(request)  # type: ignore[arg-type,return-value]
    assert response.status_code == 451 and b"region" in response.content
    org.data_region = "EU"  # no rule for EU: not restricted
    assert residency_problem(org) is None


@override_settings(
    PRIVACY_RESIDENCY={"RU": {"database_hosts": ["localhost", "127.0.0.1"], "buckets": ["local"]}}
)
def test_an_organisation_stored_in_its_region_is_served(org: Organization) -> None:
    org.data_region = "RU"
    assert residency_problem(org) is None


def test_cross_border_transfer_needs_the_setting_and_the_consent(
    org: Organization, branch: Branch, users: dict[str, User], settings: object
) -> None:
    org.data_region = "RU"
    patient = seed(org, branch, users["owner"])
    assert transfer_allowed(org=org, patient=patient, destination_region="RU")
    assert not transfer_allowed(org=org, patient=patient, destination_region="EU")
    settings.PRIVACY_CROSS_BORDER_ORGS = [org.slug]  # type: ignore[attr-defined]
    assert not transfer_allowed(org=org, patient=patient, destination_region="EU")
    consent_record(
        org=org,
        actor=None,
        patient=patient,
        purpose=ConsentPurpose.CROSS_BORDER,
        granted=True,
        method=ConsentMethod.WRITTEN,
    )
    assert transfer_allowed(org=org, patient=patient, destination_region="EU")


def test_withdrawal_from_the_page_cancels_queued_marketing(
    org: Organization, branch: Branch, users: dict[str, User], web: Callable[[str], Client]
) -> None:
    patient = seed(org, branch, users["owner"])
    response = web("manager").post("/privacy/requests/", {"patient": str(patient.pk), "action": "withdraw"})
    assert response.status_code == 302
    assert Message.objects.for_org(org).get(patient=patient).status == Status.CANCELLED


def test_the_residency_check_passes_on_a_new_database_before_its_first_migrate(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`clinicflow migrate` runs the database checks first: on a new, empty database the residency
    check has no organisation to read and must not fail on the missing table."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'new.sqlite3'}"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    done = subprocess.run(
        [sys.executable, "-m", "clinicflow.cli", "check", "--database", "default"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "no such table" not in done.stderr
