"""Reading transaction files and summarising them per patient."""

import datetime as dt
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from openpyxl import Workbook

from clinicflow.analytics.clv.io import FileUnreadable, RowError, read_transactions
from clinicflow.analytics.clv.summary import summarise

D = dt.date


def rows(*items):
    return [(pid, D.fromisoformat(day), Decimal(amount)) for pid, day, amount in items]


def test_summary_counts_repeat_visit_days_and_merges_purchases_on_one_day() -> None:
    data = rows(
        ("A", "2024-01-01", "100.00"),
        ("A", "2024-01-01", "50.00"),  # same day as the first visit: merged into it
        ("A", "2024-01-15", "30.10"),
        ("A", "2024-01-15", "9.90"),  # one repeat day worth 40.00
        ("A", "2024-02-12", "80.00"),
        ("B", "2024-02-01", "70.00"),
        ("A", "2024-03-01", "999.00"),  # after until: ignored
        ("C", "2024-02-20", "10.00"),  # first seen after until: no patient
    )
    s = summarise(data, until=D(2024, 2, 19), time_unit="week")
    assert s.patient_ids == ["A", "B"]
    assert s.frequency.tolist() == [2, 0]
    assert s.recency.tolist() == [6.0, 0.0]  # 42 days
    assert s.T.tolist() == pytest.approx([49 / 7, 18 / 7], rel=1e-15)
    assert s.monetary == [Decimal("60.00"), Decimal(0)]


def test_summary_in_days_and_exact_decimal_means() -> None:
    data = rows(
        ("A", "2024-01-01", "1"),
        ("A", "2024-01-02", "0.01"),
        ("A", "2024-01-04", "0.02"),
        ("A", "2024-01-05", "0.005"),
    )
    s = summarise(data, until=D(2024, 1, 10), time_unit="day")
    assert s.frequency.tolist() == [3]
    assert s.recency.tolist() == [4.0]
    assert s.T.tolist() == [9.0]
    assert s.monetary == [Decimal("0.035") / 3]
    assert s.frequency.dtype == np.int64


def test_summary_of_nothing_is_empty() -> None:
    s = summarise([], until=D(2024, 1, 1))
    assert len(s) == 0 and s.monetary == []


def test_reading_csv_with_extra_columns_any_order_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(
        "\ufeffService,Amount,DATE,patient_id\nbotox,1250.50,2024-03-01,P1\n\nfiller,10,2024-03-02T10:30:00,P2\n",
        encoding="utf-8",
    )
    result = read_transactions(path)
    assert result.errors == []
    assert result.rows == [("P1", D(2024, 3, 1), Decimal("1250.50")), ("P2", D(2024, 3, 2), Decimal("10"))]


def test_bad_rows_are_reported_with_line_numbers_and_reasons(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(
        "patient_id,date,amount\nP1,2024-03-01,10\n,2024-03-01,5\nP3,01/03/2024,abc\nP4,2024-03-01,-5\nP5,2024-03-01\n",
        encoding="utf-8",
    )
    result = read_transactions(path)
    assert [r.patient_id for r in result.rows] == ["P1"]
    assert result.errors == [
        RowError(3, "patient_id", "is empty"),
        RowError(4, "date", "'01/03/2024' is not an ISO date (YYYY-MM-DD)"),
        RowError(4, "amount", "'abc' is not a decimal number"),
        RowError(5, "amount", "-5 is negative (refunds cannot be modelled; net them off the visit)"),
        RowError(6, "amount", "is empty"),
    ]
    assert str(result.errors[1]) == "line 4: date: '01/03/2024' is not an ISO date (YYYY-MM-DD)"


def test_a_header_without_the_amount_column_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("patient_id,date,total\nP1,2024-03-01,10\n", encoding="utf-8")
    with pytest.raises(FileUnreadable, match=r"line 1: .*missing: amount"):
        read_transactions(path)


def test_reading_xlsx_with_date_cells_and_numbers(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["patient_id", "date", "amount", "note"])
    sheet.append([1001, dt.datetime(2024, 5, 6, 9, 30), 1250.5, "x"])
    sheet.append(["P2", "2024-05-07", "99.99", None])
    sheet.append(["P3", "tomorrow", 5, None])
    path = tmp_path / "t.xlsx"
    book.save(path)
    result = read_transactions(path)
    assert result.rows == [
        ("1001", D(2024, 5, 6), Decimal("1250.5")),
        ("P2", D(2024, 5, 7), Decimal("99.99")),
    ]
    assert result.errors == [RowError(4, "date", "'tomorrow' is not an ISO date (YYYY-MM-DD)")]


def test_a_missing_file_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(FileUnreadable, match="no such file"):
        read_transactions(tmp_path / "nope.csv")
