"""The channel report's lifetime columns with known numbers, through the API, the page, CSV/XLSX and the
command; without stored predictions they are empty and a note says what would fill them."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from clinicflow.acquisition import defaults
from clinicflow.acquisition.models import AdSpend
from clinicflow.acquisition.tests.test_reports import World
from clinicflow.booking.models import Payment
from clinicflow.patients.models import PatientPrediction

T0 = dt.datetime(2025, 3, 3, 9, tzinfo=dt.UTC)
PERIOD = "from=2025-03-01&to=2025-03-31"


def _pay(w: World, patient: Any, at: dt.datetime, amount: str, kind: str = "payment") -> None:
    Payment.objects.create(
        organization=w.org,
        patient=patient,
        branch=w.branch,
        amount=Decimal(amount),
        currency="RUB",
        method="card",
        kind=kind,
        paid_at=at,
    )


def _clinic(org: Any, branch: Any, *, predicted: bool) -> None:
    """One search-ads first patient in March: 10,000 paid in March, 4,000 in April (before the
    predictions' day, 30 April), 3,000 in May (after it: the prediction's future); spend 8,000; a stored
    predicted future value of 6,000."""
    w = World(org, branch)
    search = defaults.channel_for_code(org=org, code="search_ads")
    AdSpend.objects.create(
        organization=org, date=dt.date(2025, 3, 2), channel=search, spend=Decimal("8000"), currency="RUB"
    )
    p = w.patient()
    w.call(at=T0, patient=p, channel=search)
    w.visit(p, T0 + dt.timedelta(days=1), "done")
    _pay(w, p, T0 + dt.timedelta(days=1), "10500")
    _pay(w, p, T0 + dt.timedelta(days=2), "500", kind="refund")
    _pay(w, p, dt.datetime(2025, 4, 30, 23, 0, tzinfo=dt.UTC), "4000")
    _pay(w, p, dt.datetime(2025, 5, 5, tzinfo=dt.UTC), "3000")
    if predicted:
        PatientPrediction.objects.create(
            organization=org,
            patient=p,
            p_alive=0.8,
            expected_visits=1.2,
            expected_value=Decimal("5000"),
            clv=Decimal("6000.00"),
            currency="RUB",
            until=dt.date(2025, 4, 30),
        )


@pytest.mark.django_db
def test_lifetime_columns_in_api_page_exports_and_command(api, web, org, branch) -> None:
    _clinic(org, branch, predicted=True)
    body = api("marketer").get(f"/api/v1/reports/channels?{PERIOD}").json()
    assert {"lifetime_value", "lifetime_per_patient", "romi_lifetime"} <= {c["key"] for c in body["columns"]}
    row = next(r for r in body["rows"] if r["code"] == "search_ads")
    assert row["revenue_to_date"] == "10000.00" and row["romi"] == pytest.approx(0.25)
    # 10,000 + 4,000 (paid by the predictions' day) + 6,000 predicted; the May payment is the future's
    assert row["lifetime_value"] == "20000.00" and row["lifetime_per_patient"] == "20000.00"
    assert row["romi_lifetime"] == pytest.approx((20000 - 8000) / 8000)
    assert body["totals"]["lifetime_value"] == "20000.00"
    assert "net revenue up to 2025-04-30" in body["notes"][0] and "100%" in body["notes"][0]
    campaigns = api("marketer").get(f"/api/v1/reports/campaigns?{PERIOD}").json()
    assert campaigns["totals"]["lifetime_value"] == "20000.00"
    client = web("marketer")
    html = client.get(f"/analytics/reports/channels/?{PERIOD}").content.decode()
    assert "ROMI on predicted lifetime margin" in html
    marker = '<script id="chart-data" type="application/json">'
    start = html.index(marker) + len(marker)
    chart = json.loads(html[start : html.index("</script>", start)])
    assert [s["label"] for s in chart["series"]] == ["ROMI", "ROMI on predicted lifetime margin"]
    assert chart["series"][1]["unit"] == "percent" and 1.5 in chart["series"][1]["data"]
    csv_text = client.get(f"/analytics/reports/channels/export.csv?{PERIOD}").content.decode("utf-8-sig")
    assert "Predicted lifetime value per first patient" in csv_text.splitlines()[0]
    sheet = load_workbook(
        io.BytesIO(client.get(f"/analytics/reports/channels/export.xlsx?{PERIOD}").content)
    ).active
    assert any("Predicted lifetime value" in row for row in sheet.iter_rows(values_only=True))
    out = io.StringIO()
    call_command(
        "report", "channels", org="demo", date_from="2025-03-01", date_to="2025-03-31", json=True, stdout=out
    )
    assert json.loads(out.getvalue())["totals"]["romi_lifetime"] == pytest.approx(1.5)


@pytest.mark.django_db
def test_without_stored_predictions_the_lifetime_columns_are_empty(api, org, branch) -> None:
    _clinic(org, branch, predicted=False)
    body = api("owner").get(f"/api/v1/reports/channels?{PERIOD}").json()
    row = next(r for r in body["rows"] if r["code"] == "search_ads")
    assert (row["lifetime_value"], row["romi_lifetime"]) == (None, None)
    assert row["romi"] == pytest.approx(0.25)
    assert "clinicflow analytics clv --org" in body["notes"][0]
