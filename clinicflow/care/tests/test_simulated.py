"""The simulator writes follow-ups and recall contacts through the care models, and the reports
recover what the scenario planted: the recall return rates ([recall] return_week, another
return_two_months; seed 004: 7-9% within a week, another 10-15% within two months) within sampling
error, and the share of follow-ups done ([aftercare] followup_done)."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pytest
from django.utils import timezone

from clinicflow.analytics.reports.care import recall_rows, task_rows
from clinicflow.conftest import module_data
from clinicflow.core.models import Organization
from clinicflow.simulator.runner import simulate_org
from clinicflow.simulator.scenario import load_scenario

MONTHS = 24


@pytest.fixture(scope="module")
def simulated(django_db_setup: Any, django_db_blocker: Any) -> Any:
    from clinicflow.core.services import organization_create

    with module_data(django_db_blocker):  # the module's rows are gone after its tests
        org = organization_create(name="Care Sim", slug="care-sim", country="RU", currency="RUB")
        scn = load_scenario("mid", overrides={"clinic": {"months": MONTHS, "end_date": "2026-06-30"}})
        simulate_org(org=org, scenario=scn, seed=4)
        yield org, scn


@pytest.mark.django_db
def test_recall_report_recovers_the_planted_return_rates(simulated: tuple[Organization, Any]) -> None:
    org, scn = simulated
    end = dt.datetime(2026, 6, 30, tzinfo=dt.UTC) - dt.timedelta(days=61)  # every contact's 60 days are over
    rows = [
        r
        for r in recall_rows(org=org, start=dt.datetime(2020, 1, 1, tzinfo=dt.UTC), end=end)
        if r["contacted"]
    ]
    assert [r["kind"] for r in rows] == ["lapsed"]
    row = rows[0]
    n = row["contacted"]
    assert n >= 400
    week, later = float(scn.recall["return_week"]), float(scn.recall["return_two_months"])
    # the point estimate lies within 3 standard errors of the planted share (a 95% interval would
    # miss one seed in twenty by design), and the report's 95% interval is the estimate ± 1.96 SE
    both = week + later
    for key, planted in (("share_7", week), ("share_60", both)):
        p = float(row[key])
        assert abs(p - planted) <= 3 * math.sqrt(planted * (1 - planted) / n), (key, p, planted)
        half = 1.96 * math.sqrt(p * (1 - p) / n)
        assert float(row[f"{key}_low"]) < p < float(row[f"{key}_high"])
        assert float(row[f"{key}_high"]) - float(row[f"{key}_low"]) == pytest.approx(2 * half, rel=0.15)


@pytest.mark.django_db
def test_tasks_report_recovers_the_planted_share_done(simulated: tuple[Organization, Any]) -> None:
    org, scn = simulated
    rows = task_rows(
        org=org,
        start=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
        end=dt.datetime(2026, 6, 1, tzinfo=dt.UTC),
        by="role",
        now=timezone.now(),
    )
    assert {r["group"] for r in rows} == {"doctor", "frontdesk"}
    due = sum(r["due"] for r in rows)
    on_time = sum(r["on_time"] for r in rows)
    p = float(scn.aftercare["followup_done"])
    assert due >= 1000
    assert abs(on_time / due - p) <= 3 * math.sqrt(p * (1 - p) / due)
