"""The report framework: page with chart data, table, exports and the JSON endpoint."""

from __future__ import annotations

import io
import json

from openpyxl import load_workbook

from clinicflow.patients.tests.factories import make_patient


def test_report_page_embeds_chart_data_as_an_object(web, org, branch) -> None:
    make_patient(org, branch=branch, source="referral")
    response = web("owner").get("/analytics/reports/new_patients/")
    assert response.status_code == 200
    html = response.content.decode()
    start = html.index('<script id="chart-data" type="application/json">') + len(
        '<script id="chart-data" type="application/json">'
    )
    data = json.loads(html[start : html.index("</script>", start)])
    assert isinstance(data, dict)
    assert data["type"] == "bar"
    referral = next(s for s in data["series"] if s["label"] == "Referral")
    assert sum(v or 0 for v in referral["data"]) == 1


def test_report_json_csv_and_xlsx_agree(api, web, users, org, branch) -> None:
    make_patient(org, branch=branch, source="referral")
    make_patient(
        org,
        branch=branch,
        source="search_ads",
        last_name='=HYPERLINK("http://x")',
        phones=["+7 903 555 12 34"],
    )
    body = api("marketer").get("/api/v1/reports/new_patients").json()
    assert body["totals"]["total"] == 2
    assert body["totals"]["referral"] == 1
    csv_text = web("marketer").get("/analytics/reports/new_patients/export.csv").content.decode("utf-8-sig")
    assert csv_text.splitlines()[-1].endswith(",2")
    xlsx = web("marketer").get("/analytics/reports/new_patients/export.xlsx")
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[-1][-1] == 2


def test_bad_report_parameters_are_422_naming_the_field(api, web, users) -> None:
    response = api("owner").get("/api/v1/reports/new_patients?from=2026-13-01")
    assert response.status_code == 422 and "from" in response.json()["error"]["fields"]
    response = api("owner").get("/api/v1/reports/new_patients?branch=nope")
    assert response.status_code == 422 and "branch" in response.json()["error"]["fields"]
    assert api("owner").get("/api/v1/reports/no_such_report").status_code == 404
    assert web("owner").get("/analytics/reports/new_patients/?to=yesterday").status_code == 422


def test_another_organisations_branch_is_unknown_to_reports(api, users, other_branch) -> None:
    response = api("owner").get(f"/api/v1/reports/new_patients?branch={other_branch.pk}")
    assert response.status_code == 422


def test_frontdesk_and_doctor_cannot_see_reports(web, api, users) -> None:
    assert web("frontdesk").get("/analytics/reports/").status_code == 403
    assert api("doctor").get("/api/v1/reports/new_patients").status_code == 403


def test_exports_neutralise_formula_prefixes() -> None:
    from clinicflow.analytics.reports.export import safe_cell

    for dangerous in ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]:
        assert safe_cell(dangerous) == "'" + dangerous
    assert safe_cell("Search ads") == "Search ads"
    assert safe_cell(-5) == -5
