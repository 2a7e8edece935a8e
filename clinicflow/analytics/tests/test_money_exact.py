"""Money is never a float: every registered report's money columns are exact ``Decimal`` with at most the
currency's minor units, in the computed result, the JSON API, the CSV and the XLSX export; and the ad
spend page's totals show no binary-float residue (``1827958.54000001``)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import load_workbook

from clinicflow.acquisition import defaults
from clinicflow.acquisition.models import AdSpend, Call, CallStatus
from clinicflow.analytics.reports.base import ReportContext, load_reports, run_report
from clinicflow.booking.models import Appointment, Doctor, Payment
from clinicflow.booking.tests.factories import make_service
from clinicflow.core.money import MINOR_UNITS
from clinicflow.patients.models import Patient

pytestmark = pytest.mark.django_db
FROM, TO = dt.date(2025, 3, 1), dt.date(2025, 3, 31)
QUERY = f"from={FROM.isoformat()}&to={TO.isoformat()}"
# Daily spend whose float sum is not the decimal one (SQLite sums DecimalField as REAL).
RESIDUE = re.compile(r"\d\.\d{3,}")  # a figure with more than two decimals (English formatting)
DAILY = [Decimal("60931.95"), Decimal("0.10"), Decimal("0.20"), Decimal("12345.67"), Decimal("0.07")]


def _seed(org: Any, branch: Any) -> Decimal:
    """Spend on two channels every day of March, calls, first visits and payments in kopecks."""
    search = defaults.channel_for_code(org=org, code="search_ads")
    social = defaults.channel_for_code(org=org, code="social_ads")
    total = Decimal(0)
    for day in range(31):
        date = FROM + dt.timedelta(days=day)
        for channel, amount in ((search, DAILY[day % 2 * 3]), (social, DAILY[(day + 1) % len(DAILY)])):
            AdSpend.objects.create(organization=org, date=date, channel=channel, spend=amount, currency="RUB")
            total += amount
    service, doctor = make_service(org), Doctor.objects.create(organization=org, full_name="Dr A")
    for i in range(7):
        when = dt.datetime(2025, 3, 2 + i * 3, 9, tzinfo=dt.UTC)
        patient = Patient.objects.create(
            organization=org, last_name=f"P{i}", first_name="X", search_name=f"p{i}"
        )
        Call.objects.create(
            organization=org,
            provider="generic",
            provider_call_id=f"money{i}",
            branch=branch,
            caller_e164=f"+7916555{i:04d}",
            started_at=when - dt.timedelta(days=1),
            status=CallStatus.COMPLETED,
            status_rank=3,
            is_unique=True,
            patient=patient,
            channel=search if i % 3 else social,
        )
        Appointment.objects.create(
            organization=org,
            branch=branch,
            patient=patient,
            service=service,
            doctor=doctor,
            start_at=when,
            end_at=when + dt.timedelta(minutes=30),
            busy_until=when + dt.timedelta(minutes=30),
            status="done",
            price=Decimal("1234.57"),
            currency="RUB",
        )
        for amount in (Decimal("1234.57"), Decimal("0.10"), Decimal("0.20")):
            Payment.objects.create(
                organization=org,
                patient=patient,
                branch=branch,
                amount=amount,
                currency="RUB",
                method="card",
                paid_at=when + dt.timedelta(hours=1),
            )
    return total


def _exact(text: str, places: int, where: str) -> None:
    amount = Decimal(text)
    exponent = amount.as_tuple().exponent
    assert isinstance(exponent, int) and exponent >= -places, f"{where}: {text!r} is not exact money"


def _money_keys(spec: Any) -> list[str]:
    return [c.key for c in spec.columns if c.kind == "money"]


def test_every_report_has_exact_money_everywhere(
    org: Any, branch: Any, users: Any, api: Any, web: Any
) -> None:
    spend_total = _seed(org, branch)
    places = MINOR_UNITS[org.currency]
    reports = load_reports()
    checked = 0
    for name, spec in sorted(reports.items()):
        keys = _money_keys(spec)
        ctx = ReportContext(org=org, user=None, date_from=FROM, date_to=TO, branch=None, params={})
        ctx.params = {p.name: p.default for p in spec.params}
        result = run_report(spec, ctx)
        for row in [*result.rows, *([result.totals] if result.totals else [])]:
            for key in keys:
                value = row.get(key)
                if value is None:
                    continue
                assert isinstance(value, Decimal), f"{name}.{key}: {type(value).__name__} {value!r}"
                _exact(str(value), places, f"{name}.{key}")
                checked += 1
        if "spend" in keys and result.totals:
            assert result.totals["spend"] == spend_total
        body = api("owner").get(f"/api/v1/reports/{name}?{QUERY}").json()
        for row in [*body["rows"], *([body["totals"]] if body["totals"] else [])]:
            for key in keys:
                if row.get(key) is not None:
                    assert isinstance(row[key], str), f"json {name}.{key}: {row[key]!r}"
                    _exact(row[key], places, f"json {name}.{key}")
        csv_text = (
            web("owner").get(f"/analytics/reports/{name}/export.csv?{QUERY}").content.decode("utf-8-sig")
        )
        table = list(csv.reader(io.StringIO(csv_text)))
        columns = [c.key for c in spec.columns]
        for line in table[1:]:
            for key in keys:
                cell = line[columns.index(key)]
                if cell:
                    _exact(cell, places, f"csv {name}.{key}")
        xlsx = web("owner").get(f"/analytics/reports/{name}/export.xlsx?{QUERY}").content
        sheet_rows = list(load_workbook(io.BytesIO(xlsx)).active.iter_rows(values_only=True))
        for line in sheet_rows[2:]:
            for key in keys:
                cell = line[columns.index(key)]
                if cell is not None and cell != "":
                    _exact(repr(cell) if isinstance(cell, float) else str(cell), places, f"xlsx {name}.{key}")
        page = web("owner").get(f"/analytics/reports/{name}/?{QUERY}").content.decode()
        table = page[page.index("<table") :] if "<table" in page else ""
        assert not RESIDUE.findall(table), f"page {name}: {RESIDUE.findall(table)[:3]}"
    assert checked > 20  # the walk saw money: the seeded spend and revenue reached the reports


def test_ad_spend_totals_are_exact(org: Any, branch: Any, users: Any, web: Any) -> None:
    from clinicflow.acquisition.marketing.selectors import ad_spend_totals

    spend_total = _seed(org, branch)
    totals = ad_spend_totals(org=org)
    assert sum((t["spend"] for t in totals), Decimal(0)) == spend_total
    for t in totals:
        assert isinstance(t["spend"], Decimal)
        _exact(str(t["spend"]), MINOR_UNITS[t["currency"]], f"spend total {t['channel__code']}")
    html = web("owner").get("/acquisition/spend/").content.decode()
    assert "₽" in html
    assert not RESIDUE.findall(html.split("<h2>", 2)[1] if "<h2>" in html else html)


def test_a_float_in_a_money_column_is_refused_and_decimals_are_rounded_to_minor_units(org: Any) -> None:
    from clinicflow.analytics.reports.base import Column, ReportResult, ReportSpec, exact_money
    from clinicflow.core.money import MoneyError

    spec = ReportSpec(
        name="t",
        title="t",
        description="t",
        permission="reports.view",
        columns=(Column("name", "n"), Column("amount", "a", "money")),
        compute=lambda ctx: ReportResult(rows=[]),
    )
    exact = ReportResult(rows=[{"name": "x", "amount": Decimal("1827958.54000000")}], currency="RUB")
    exact_money(spec, exact)
    assert str(exact.rows[0]["amount"]) == "1827958.54"
    yen = ReportResult(rows=[{"amount": Decimal("10.50")}], totals={"amount": None}, currency="JPY")
    exact_money(spec, yen)
    assert str(yen.rows[0]["amount"]) == "10"  # banker's rounding to whole yen
    with pytest.raises(MoneyError, match="amount"):
        exact_money(spec, ReportResult(rows=[{"amount": 1827958.54000001}], currency="RUB"))
