"""``clinicflow analytics rebuild`` (issue #17's name; ``clinicflow report facts_rebuild`` stays as its
alias): every option explained by ``--help``, a progress line per chunk and a summary, facts equal to
the library's rebuild, clear errors. And the owner home's ROMI on lifetime margin is the channel
report's figure (one definition, one total)."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from clinicflow.analytics.models import DayFact, RevenueFact
from clinicflow.analytics.owner.fact_hooks import predictions_stored
from clinicflow.analytics.owner.facts import rebuild
from clinicflow.analytics.owner.home import owner_view
from clinicflow.analytics.reports.acquisition import channel_report
from clinicflow.core.models import Organization
from clinicflow.patients.models import Patient, PatientPrediction
from clinicflow.simulator.runner import simulate_org
from clinicflow.simulator.scenario import load_scenario

END = dt.date(2026, 11, 30)


@pytest.fixture
def clinic(org: Organization) -> tuple[Organization, dt.date]:
    result = simulate_org(
        org=org,
        scenario=load_scenario(overrides={"clinic": {"months": 3, "end_date": END.isoformat()}}),
        seed=3,
    )
    return org, dt.date.fromisoformat(result.truth["start_date"])


def _facts(org: Organization) -> tuple[list[Any], list[Any]]:
    days = sorted(
        DayFact.objects.for_org(org).values_list("branch_id", "day", "appointments", "first_arrived")
    )
    money = sorted(RevenueFact.objects.for_org(org).values_list("branch_id", "day", "currency", "amount"))
    return days, money


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_rebuild_shows_progress_and_a_summary_and_builds_the_facts(clinic) -> None:
    org, _start = clinic
    out = _run("analytics", "rebuild", "--org", org.slug, "--chunk-days", "30")
    lines = out.splitlines()
    assert lines[0].startswith(f"[1/1] {org.slug}: ") and lines[0].endswith("chunk(s) of up to 30 days")
    chunks = int(lines[0].split(", ")[-1].split(" ")[0])
    assert chunks >= 3
    progress = [line for line in lines if line.startswith("  ") and "%)" in line]
    assert len(progress) == chunks
    assert progress[0].lstrip().startswith(f"1/{chunks} (") and progress[-1].lstrip().startswith(
        f"{chunks}/{chunks} (100%)"
    )
    assert lines[-1].startswith("facts rebuilt: 1 organisation(s), ") and " day facts, " in lines[-1]
    built = _facts(org)
    assert built[0] and built[1]
    rebuild(org)
    assert _facts(org) == built
    # --quiet: only the organisation's line and the summaries
    quiet = _run("analytics", "rebuild", "--org", org.slug, "--quiet").splitlines()
    assert len(quiet) == 3 and quiet[-1].startswith("facts rebuilt: ")
    assert _facts(org) == built
    # the old name is an alias: the same facts, the same summary
    alias = _run(
        "report", "facts_rebuild", "--org", org.slug, "--from", (END - dt.timedelta(days=10)).isoformat()
    )
    assert alias.splitlines()[-1].startswith("facts rebuilt: 1 organisation(s), ")
    assert _facts(org) == built


@pytest.mark.django_db
def test_rebuild_errors_name_the_option(clinic) -> None:
    org, _start = clinic
    with pytest.raises(CommandError, match="no organisation with slug 'nowhere'"):
        _run("analytics", "rebuild", "--org", "nowhere")
    with pytest.raises(CommandError, match="--from: expected YYYY-MM-DD"):
        _run("analytics", "rebuild", "--org", org.slug, "--from", "30.11.2026")
    with pytest.raises(CommandError, match="--chunk-days: must be at least 1"):
        _run("analytics", "rebuild", "--org", org.slug, "--chunk-days", "0")
    assert not DayFact.objects.for_org(org).exists()


def test_rebuild_help_explains_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        call_command("analytics", "rebuild", "--help")
    text = " ".join(capsys.readouterr().out.split())
    for option in ("--org SLUG", "--from DATE", "--chunk-days N", "--quiet"):
        assert option in text
    assert "default: every organisation" in text and "progress line" in text


@pytest.mark.django_db
def test_owner_home_romi_on_lifetime_is_the_channel_reports(clinic) -> None:
    org, start = clinic
    rebuild(org)
    d0, d1 = start, END
    view = owner_view(org=org, date_from=d0, date_to=d1, branch=None)
    romi = view.figure("romi")
    assert romi.value is None and romi.no_data  # no stored predictions yet: no figure, says what fills it
    patients = list(Patient.objects.for_org(org).values_list("pk", flat=True))
    PatientPrediction.objects.bulk_create(
        PatientPrediction(
            organization=org,
            patient_id=p,
            p_alive=0.5,
            expected_visits=1.0,
            expected_value=Decimal("900.00"),
            clv=Decimal("1234.56"),
            currency=org.currency,
            until=END - dt.timedelta(days=20),
        )
        for p in patients
    )
    predictions_stored(org)  # what storing predictions calls (clv.org_source.store_predictions)
    totals = channel_report(org=org, date_from=d0, date_to=d1).totals()
    assert totals is not None and totals["spend"] > 0 and totals["romi_lifetime"] is not None
    romi = owner_view(org=org, date_from=d0, date_to=d1, branch=None).figure("romi")
    assert romi.value == pytest.approx(totals["romi_lifetime"], rel=1e-12) and not romi.no_data
