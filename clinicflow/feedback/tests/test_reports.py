"""The feedback reports: NPS/CSAT with their intervals, the expectation gap with the Holm-corrected
flag, complaints and the response rate, through ``GET /api/v1/reports/<name>``."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
from django.test import Client

from clinicflow.analytics.reports.feedback.stats import (
    Moments,
    holm,
    mean_interval,
    nps_interval,
    welch_greater,
)
from clinicflow.feedback.models import Complaint
from clinicflow.feedback.services.answers import answer_submit
from clinicflow.feedback.services.surveys import survey_create
from clinicflow.feedback.tests.setup import Visit

Api = Callable[[str], Client]


def test_nps_interval_uses_the_multinomial_variance() -> None:
    nps, lo, hi = nps_interval(promoters=50, detractors=20, n=100)
    pp, pd = 0.5, 0.2
    se = 100 * math.sqrt((pp + pd - (pp - pd) ** 2) / 100)
    assert nps == 30.0
    assert lo == pytest.approx(30 - 1.96 * se, abs=0.1) and hi == pytest.approx(30 + 1.96 * se, abs=0.1)
    assert nps_interval(0, 0, 0) == (None, None, None)
    assert nps_interval(10, 0, 10) == (100.0, 100.0, 100.0)


def test_mean_interval() -> None:
    values = [1, 2, 3, 4, 5]
    mean, lo, hi = mean_interval(sum(values), sum(v * v for v in values), len(values))
    assert mean == 3.0 and lo == pytest.approx(3 - 1.96 * math.sqrt(2.5 / 5), abs=0.01) and hi is not None


def test_holm_step_down() -> None:
    adjusted = holm({"a": 0.01, "b": 0.04, "c": 0.03})
    assert adjusted == {"a": 0.03, "c": 0.06, "b": 0.06}


def test_welch_one_sided() -> None:
    worse = Moments(n=100, total=300.0, squares=100 * (9 + 1))  # mean 3, var ~1
    rest = Moments(n=400, total=400.0, squares=400 * (1 + 1))  # mean 1, var ~1
    p = welch_greater(worse, rest)
    assert p is not None and p < 1e-6
    p_better = welch_greater(rest, worse)
    assert p_better is not None and p_better > 0.99
    assert welch_greater(Moments(5, 10.0, 30.0), rest) is None


def _answer(visit: Visit, **data: int) -> None:
    survey, _token = survey_create(org=visit.org, actor=None, appointment=visit.appt, send=False)
    answer_submit(org=visit.org, survey=survey, data=data)


@pytest.mark.django_db
def test_reports_through_the_api(visit: Visit, api: Api) -> None:
    manager = api("manager")
    before = manager.get("/api/v1/reports/nps?group=doctor").json()
    assert before["rows"] == []
    _answer(visit, nps=3, csat=2, result=4)
    nps = manager.get("/api/v1/reports/nps?group=doctor").json()
    assert nps["rows"][0]["group"] == "Dr Petrova" and nps["rows"][0]["nps"] == -100.0
    assert nps["rows"][0]["answers"] == 1
    for group in ("branch", "consultant", "service", "month"):
        assert manager.get(f"/api/v1/reports/nps?group={group}").json()["rows"][0]["answers"] == 1
    csat = manager.get("/api/v1/reports/csat?group=doctor").json()
    assert csat["rows"][0]["csat"] == 2.0
    gap = manager.get("/api/v1/reports/expectation_gap?group=consultant").json()
    row = gap["rows"][0]
    assert (
        row["gap"] == 4.0 and row["expectation"] == 8.0 and row["result"] == 4.0 and row["flagged"] is False
    )
    assert row["consultations"] == 1
    complaints = manager.get("/api/v1/reports/complaints").json()
    assert complaints["rows"][0]["opened"] == 1 and complaints["rows"][0]["open"] == 1
    response = manager.get("/api/v1/reports/survey_response").json()
    assert response["rows"][0]["response_rate"] == 1.0
    assert api("frontdesk").get("/api/v1/reports/nps").status_code == 403
    assert manager.get("/api/v1/reports/nps?group=weekday").status_code == 422


@pytest.mark.django_db
def test_the_improvement_tags_report_counts_the_ticked_tags(visit: Visit, api: Api, web: Api) -> None:
    from clinicflow.feedback.services.settings import improvement_tags_ensure

    tags = improvement_tags_ensure(org=visit.org)
    assert improvement_tags_ensure(org=visit.org) == tags  # idempotent
    survey, _token = survey_create(org=visit.org, actor=None, appointment=visit.appt, send=False)
    answer_submit(
        org=visit.org,
        survey=survey,
        data={"nps": 4, "csat": 2, "tags": [str(tags["waiting"].pk), str(tags["price"].pk)]},
    )
    body = api("manager").get("/api/v1/reports/improvement_tags").json()
    rows = {r["tag"]: r for r in body["rows"]}
    assert len(rows) == 6
    assert rows["Waiting time"]["answers"] == rows["Price"]["answers"] == 1
    assert rows["Waiting time"]["share"] == 1.0 and rows["Waiting time"]["mean_nps"] == 4.0
    assert rows["The result"]["answers"] == 0 and rows["The result"]["mean_nps"] is None
    assert body["rows"][0]["tag"] in ("Waiting time", "Price")
    # the complaint the answer opened shows what the patient said could be better
    complaint = Complaint.objects.for_org(visit.org).get()
    html = web("manager").get(f"/feedback/complaints/{complaint.pk}/").content.decode()
    assert "Waiting time, Price" in html and "The result" not in html
