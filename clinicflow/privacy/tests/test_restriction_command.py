"""``clinicflow privacy restrict`` and ``clinicflow privacy lift``: the restriction of processing from
the console, logged as requests like the page's and the API's, with errors that name the option."""

from __future__ import annotations

import argparse
import io
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from clinicflow.accounts.models import User
from clinicflow.core.models import AuditEvent, Branch, Organization
from clinicflow.patients.models import ConsentPurpose, Patient
from clinicflow.privacy.management.commands.privacy import Command
from clinicflow.privacy.models import RequestKind, SubjectRequest
from clinicflow.privacy.rights.correct import granted_purposes
from clinicflow.privacy.tests.rights_world import seed

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient(org: Organization, branch: Branch, users: dict[str, User]) -> Patient:
    return seed(org, branch, users["owner"])


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("privacy", *args, stdout=out)
    return out.getvalue()


def _fresh(patient: Patient) -> Patient:
    return Patient.objects.get(pk=patient.pk)


def test_restrict_flags_the_patient_logs_the_request_and_prints_a_summary(
    org: Organization, patient: Patient
) -> None:
    assert ConsentPurpose.MARKETING_SMS in granted_purposes(org, patient)
    # --org after the action, as `privacy restrict --org SLUG ...`
    out = _run("restrict", "--org", org.slug, "--patient", str(patient.pk), "--reason", "contests data")
    stored = _fresh(patient)
    assert stored.restricted_at is not None and stored.restriction_reason == "contests data"
    row = SubjectRequest.objects.for_org(org).get()
    assert (row.kind, row.status, row.patient_id) == (RequestKind.RESTRICTION, "done", patient.pk)
    assert row.outcome["reason"] == "contests data" and row.outcome["withdrawn"] == ["marketing_sms"]
    assert out == (
        f"request {row.pk}: processing of patient {patient.pk} restricted; records kept; "
        "consents withdrawn: marketing_sms\n"
    )
    assert ConsentPurpose.MARKETING_SMS not in granted_purposes(org, patient)
    assert ConsentPurpose.HEALTH_DATA in granted_purposes(org, patient)
    audited = AuditEvent.objects.for_org(org).filter(object_type="patient", object_id=str(patient.pk))
    assert any("restricted_at" in e.fields for e in audited)


def test_lift_clears_the_flag_and_keeps_consents_withdrawn(org: Organization, patient: Patient) -> None:
    _run("--org", org.slug, "restrict", "--patient", str(patient.pk), "--reason", "objects to marketing")
    since = _fresh(patient).restricted_at
    assert since is not None
    out = _run("--org", org.slug, "lift", "--patient", str(patient.pk), "--reason", "data verified")
    stored = _fresh(patient)
    assert (stored.restricted_at, stored.restriction_reason) == (None, "")
    lifted = SubjectRequest.objects.for_org(org).filter(outcome__lifted=True).get()
    assert lifted.kind == RequestKind.RESTRICTION and lifted.outcome["reason"] == "data verified"
    assert out == (
        f"request {lifted.pk}: restriction of patient {patient.pk} lifted "
        f"(restricted since {since.isoformat()}); withdrawn consents stay withdrawn\n"
    )
    assert ConsentPurpose.MARKETING_SMS not in granted_purposes(org, patient)
    assert SubjectRequest.objects.for_org(org).count() == 2


def test_restricting_twice_or_lifting_when_not_restricted_names_the_patient_and_changes_nothing(
    org: Organization, patient: Patient
) -> None:
    with pytest.raises(CommandError, match=rf"^--patient: {patient.pk} is not restricted; nothing changed$"):
        _run("lift", "--org", org.slug, "--patient", str(patient.pk))
    _run("restrict", "--org", org.slug, "--patient", str(patient.pk), "--reason", "first")
    since = _fresh(patient).restricted_at
    with pytest.raises(
        CommandError, match=rf"^--patient: {patient.pk} is restricted already; nothing changed$"
    ):
        _run("restrict", "--org", org.slug, "--patient", str(patient.pk), "--reason", "second")
    stored = _fresh(patient)
    assert (stored.restricted_at, stored.restriction_reason) == (since, "first")
    assert SubjectRequest.objects.for_org(org).count() == 1  # the refused ones log nothing


def test_unknown_organisation_or_patient_and_another_organisations_patient_are_refused(
    org: Organization, other_org: Organization, patient: Patient
) -> None:
    with pytest.raises(CommandError, match=r"^--org: no organisation with slug 'nope'$"):
        _run("restrict", "--org", "nope", "--patient", str(patient.pk), "--reason", "r")
    with pytest.raises(CommandError, match=r"^--patient: no patient 'not-an-id' in "):
        _run("restrict", "--org", org.slug, "--patient", "not-an-id", "--reason", "r")
    # the patient exists, but in the other organisation: not found there, nothing changes
    with pytest.raises(CommandError, match=rf"^--patient: no patient '{patient.pk}' in {other_org.slug}$"):
        _run("restrict", "--org", other_org.slug, "--patient", str(patient.pk), "--reason", "r")
    with pytest.raises(CommandError, match=r"^--patient: no patient"):
        _run("lift", "--org", other_org.slug, "--patient", str(patient.pk))
    assert _fresh(patient).restricted_at is None
    assert not SubjectRequest.objects.filter(patient_id=patient.pk).exists()


def test_missing_or_blank_options_are_refused_by_name(org: Organization, patient: Patient) -> None:
    with pytest.raises(CommandError, match=r"--reason"):
        _run("restrict", "--org", org.slug, "--patient", str(patient.pk))
    with pytest.raises(CommandError, match=r"^--reason: give the reason"):
        _run("restrict", "--org", org.slug, "--patient", str(patient.pk), "--reason", "   ")
    with pytest.raises(CommandError, match=r"^--reason: at most 500 characters"):
        _run("restrict", "--org", org.slug, "--patient", str(patient.pk), "--reason", "x" * 501)
    with pytest.raises(CommandError, match=r"--patient"):
        _run("lift", "--org", org.slug)
    with pytest.raises(CommandError, match=r"^--org is required"):
        _run("restrict", "--patient", str(patient.pk), "--reason", "r")
    assert _fresh(patient).restricted_at is None


def test_a_refusal_exits_non_zero_from_the_command_line(
    org: Organization, patient: Patient, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # run_from_argv closes the connections at the end: kept open for the test's transaction
    monkeypatch.setattr("django.db.connections.close_all", lambda: None)
    with pytest.raises(SystemExit) as exited:
        Command().run_from_argv(
            [
                "clinicflow",
                "privacy",
                "--skip-checks",
                "lift",
                "--org",
                org.slug,
                "--patient",
                str(patient.pk),
            ]
        )
    assert exited.value.code == 1
    assert f"--patient: {patient.pk} is not restricted" in capsys.readouterr().err


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, Any]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_option_of_restrict_and_lift_has_help() -> None:
    parser = Command().create_parser("clinicflow", "privacy")
    subs = _subparsers(parser)
    for name in ("restrict", "lift"):
        options = {a.dest: a.help for a in subs[name]._actions if a.dest != "help"}
        assert set(options) == {"org", "patient", "reason"}
        assert all(text and len(text) > 10 for text in options.values()), options
        assert subs[name].description
    assert "--reason REASON" in subs["restrict"].format_usage()  # required for a restriction
    assert "[--reason REASON]" in subs["lift"].format_usage()
