"""The owner's reports and ``clinicflow report``: every registered report runs from the command with
JSON and CSV output; clear errors; CLV classes and recall read the stored predictions; the balanced
doctor's first patients are the period's first patients."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

import clinicflow.analytics.reports.owner  # noqa: F401 - registers the owner's reports
from clinicflow.analytics.owner.facts import rebuild
from clinicflow.analytics.reports.acquisition import first_visits
from clinicflow.analytics.reports.base import load_reports, period_bounds
from clinicflow.core.models import Organization
from clinicflow.feedback.models import SurveyAnswer
from clinicflow.simulator.runner import simulate_org
from clinicflow.simulator.scenario import load_scenario

NEW = ("owner_home", "revenue", "cohorts", "clv_classes", "recall_candidates", "doctors_balanced")


@pytest.fixture
def clinic(org: Organization) -> tuple[Organization, dt.date, dt.date]:
    result = simulate_org(
        org=org, scenario=load_scenario(overrides={"clinic": {"months": 3, "end_date": "2026-11-30"}}), seed=5
    )
    rebuild(org)
    return (
        org,
        dt.date.fromisoformat(result.truth["start_date"]),
        dt.date.fromisoformat(result.truth["end_date"]),
    )


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("report", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_every_registered_report_runs_from_the_command(clinic) -> None:
    org, d0, d1 = clinic
    names = _run("list")
    for name in NEW:
        assert name in names
    for name in sorted(load_reports()):
        data = json.loads(_run(name, "--org", org.slug, "--from", str(d0), "--to", str(d1), "--json"))
        assert data["name"] == name and data["from"] == str(d0) and isinstance(data["rows"], list)
    home = json.loads(_run("owner_home", "--org", org.slug, "--from", str(d0), "--to", str(d1), "--json"))
    keys = {r["key"] for r in home["rows"]}
    assert {"revenue", "first_share", "load", "nps", "membership_liability", "arrived", "third"} <= keys
    nps = next(r for r in home["rows"] if r["key"] == "nps")
    scores = [
        score
        for score, at, tz in SurveyAnswer.objects.for_org(org).values_list(
            "nps", "answered_at", "branch__timezone"
        )
        if d0 <= at.astimezone(ZoneInfo(tz)).date() <= d1
    ]
    n, promoters, detractors = len(scores), sum(x >= 9 for x in scores), sum(x <= 6 for x in scores)
    assert n > 20 and float(nps["value"]) == pytest.approx(100 * (promoters - detractors) / n, abs=0.06)
    revenue = json.loads(
        _run(
            "revenue", "--org", org.slug, "--from", str(d0), "--to", str(d1), "--json", "--param", "by=doctor"
        )
    )
    assert revenue["rows"] and revenue["totals"]["revenue"] == str(
        sum(__import__("decimal").Decimal(r["revenue"]) for r in revenue["rows"])
    )


@pytest.mark.django_db
def test_csv_output_and_errors(clinic, tmp_path) -> None:
    org, d0, d1 = clinic
    target = tmp_path / "rev.csv"
    _run("revenue", "--org", org.slug, "--from", str(d0), "--to", str(d1), "--csv", str(target))
    rows = list(csv.reader(target.open(encoding="utf-8")))
    assert rows[0][:2] == ["name", "revenue"] and len(rows) >= 2
    with pytest.raises(CommandError, match="unknown report"):
        _run("no_such", "--org", org.slug)
    with pytest.raises(CommandError, match="from"):
        _run("revenue", "--org", org.slug, "--from", "2026-13-01")
    with pytest.raises(CommandError, match="no organisation"):
        _run("revenue", "--org", "nope")
    with pytest.raises(CommandError, match="--org"):
        _run("revenue")
    with pytest.raises(CommandError, match="KEY=VALUE"):
        _run("revenue", "--org", org.slug, "--param", "by")


@pytest.mark.django_db
def test_clv_classes_and_recall_read_the_stored_predictions(clinic) -> None:
    org, d0, d1 = clinic
    empty = json.loads(_run("clv_classes", "--org", org.slug, "--json"))
    assert empty["rows"] == [] and "No data yet" in empty["notes"][0]
    call_command("analytics", "clv", "--org", org.slug, "--until", str(d1), stdout=io.StringIO())
    classes = json.loads(_run("clv_classes", "--org", org.slug, "--json"))
    assert [r["klass"] for r in classes["rows"]] == ["A", "B", "C"]
    per = [float(r["per_patient"]) for r in classes["rows"]]
    assert per[0] >= per[1] >= per[2]
    recall = json.loads(_run("recall_candidates", "--org", org.slug, "--json"))
    assert all(r["p_alive"] < 0.5 for r in recall["rows"])


@pytest.mark.django_db
def test_balanced_doctor_counts_the_periods_first_patients(clinic) -> None:
    org, d0, d1 = clinic
    data = json.loads(
        _run("doctors_balanced", "--org", org.slug, "--from", str(d0), "--to", str(d1), "--json")
    )
    start, end = period_bounds(d0, d1, None)
    assert sum(r["first_patients"] for r in data["rows"]) == len(
        first_visits(org=org, start=start, end=end).arrived
    )
    cohorts = json.loads(_run("cohorts", "--org", org.slug, "--from", str(d0), "--to", str(d1), "--json"))
    assert sum(r["patients"] for r in cohorts["rows"]) == len(
        first_visits(org=org, start=start, end=end).arrived
    )
