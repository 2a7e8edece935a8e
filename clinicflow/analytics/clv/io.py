"""Read transaction files (CSV or XLSX) into rows, with per-row errors.

A file has a header row naming at least ``patient_id``, ``date`` and ``amount``
(in any order, any case; other columns are ignored).  Dates are ISO (``2024-03-01``,
a date-time's date part is used); amounts are decimal numbers such as ``1250.50``.
Line numbers count the header as line 1, as a spreadsheet does.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import NamedTuple

from openpyxl import load_workbook

REQUIRED_COLUMNS = ("patient_id", "date", "amount")


class Transaction(NamedTuple):
    patient_id: str
    date: dt.date
    amount: Decimal


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.message}"


@dataclass
class ReadResult:
    rows: list[Transaction] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


class FileUnreadable(Exception):
    """The file cannot be read at all (missing, wrong format, no header)."""


def read_transactions(path: str | Path) -> ReadResult:
    """Read a ``.csv`` or ``.xlsx`` file of transactions."""
    path = Path(path)
    if not path.is_file():
        raise FileUnreadable(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return parse_records(_xlsx_records(path))
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            return parse_records(enumerate(csv.reader(handle), start=1))
    except UnicodeDecodeError as exc:
        raise FileUnreadable(f"{path}: not a UTF-8 text file ({exc.reason})") from exc
    except csv.Error as exc:
        raise FileUnreadable(f"{path}: not a readable CSV file ({exc})") from exc


def _xlsx_records(path: Path) -> Iterator[tuple[int, Sequence[object]]]:
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise FileUnreadable(f"{path}: not a readable XLSX workbook ({exc})") from exc
    try:
        sheet = workbook.worksheets[0]
        yield from enumerate(sheet.iter_rows(values_only=True), start=1)
    except Exception as exc:  # a damaged sheet (e.g. <row r="x">) fails only as its rows are read
        raise FileUnreadable(f"{path}: not a readable XLSX workbook ({exc})") from exc
    finally:
        workbook.close()


def parse_records(records: Iterable[tuple[int, Sequence[object]]]) -> ReadResult:
    """Turn numbered records (the first is the header) into transactions and errors."""
    result = ReadResult()
    columns: dict[str, int] | None = None
    for line, values in records:
        if _is_blank(values):
            continue
        if columns is None:
            columns = _header(line, values)
            continue
        _parse_row(line, values, columns, result)
    if columns is None:
        raise FileUnreadable("the file is empty: a header row with patient_id,date,amount is needed")
    return result


def _is_blank(values: Sequence[object]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


def _header(line: int, values: Sequence[object]) -> dict[str, int]:
    names = [str(v).strip().lower() if v is not None else "" for v in values]
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise FileUnreadable(
            f"line {line}: the header must name the columns patient_id, date and amount; "
            f"missing: {', '.join(missing)}"
        )
    return {c: names.index(c) for c in REQUIRED_COLUMNS}


def _parse_row(line: int, values: Sequence[object], columns: dict[str, int], result: ReadResult) -> None:
    errors: list[RowError] = []

    def cell(name: str) -> object:
        index = columns[name]
        return values[index] if index < len(values) else None

    patient_id = _parse_patient_id(cell("patient_id"))
    if patient_id is None:
        errors.append(RowError(line, "patient_id", "is empty"))
    date, date_error = _parse_date(cell("date"))
    if date_error:
        errors.append(RowError(line, "date", date_error))
    amount, amount_error = _parse_amount(cell("amount"))
    if amount_error:
        errors.append(RowError(line, "amount", amount_error))
    if errors:
        result.errors.extend(errors)
        return
    assert patient_id is not None and date is not None and amount is not None
    result.rows.append(Transaction(patient_id, date, amount))


def _parse_patient_id(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a spreadsheet stores numeric ids as floats
    text = str(value).strip()
    return text or None


def _parse_date(value: object) -> tuple[dt.date | None, str | None]:
    if isinstance(value, dt.datetime):
        return value.date(), None
    if isinstance(value, dt.date):
        return value, None
    if value is None or not str(value).strip():
        return None, "is empty"
    text = str(value).strip()
    try:
        if len(text) > 10:
            return dt.datetime.fromisoformat(text).date(), None
        return dt.date.fromisoformat(text), None
    except ValueError:
        return None, f"{text!r} is not an ISO date (YYYY-MM-DD)"


def _parse_amount(value: object) -> tuple[Decimal | None, str | None]:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, "is empty"
    if isinstance(value, bool):
        return None, f"{value!r} is not a decimal number"
    text = repr(value) if isinstance(value, float) else str(value).strip()
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None, f"{text!r} is not a decimal number"
    if not amount.is_finite():
        return None, f"{text!r} is not a finite number"
    if amount < 0:
        return None, f"{text} is negative (refunds cannot be modelled; net them off the visit)"
    return amount, None
