"""Hypothesis fuzzing of the CLV transactions reader (``analytics.clv.io``, the file a clinic hands to
``clinicflow clv``): any CSV or XLSX — undecodable, damaged, hand-made — gives rows and row errors or
``FileUnreadable``, never another exception (SECURITY.md SC-01)."""

from __future__ import annotations

import datetime as dt
import io
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from clinicflow.analytics.clv import io as clv_io

FUZZ = settings(
    max_examples=int(os.environ.get("HYPOTHESIS_MAX_EXAMPLES", "200")),
    deadline=None,
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=[HealthCheck.too_slow],
)
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
CELLS = st.one_of(
    st.none(),
    st.text(max_size=20),
    st.integers(min_value=-(10**15), max_value=10**15),
    st.floats(),
    st.dates(),
    st.datetimes(),
    st.booleans(),
    st.sampled_from(["2025-01-31", "2025-02-30", "1e999999", "NaN", "sNaN", "-0", "p1", "  "]),
)
ROWS = st.lists(st.lists(CELLS, max_size=5), max_size=6)
HEADER = ["patient_id", "date", "amount"]


def _xlsx(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:  # characters a worksheet cannot hold are dropped, as Excel would never write them
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", c) if isinstance(c, str) else c for c in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _with_sheet(xml: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(_xlsx([HEADER, ["p1", "2025-01-01", 5]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as book:
        for name in source.namelist():
            book.writestr(name, xml if name == "xl/worksheets/sheet1.xml" else source.read(name))
    return out.getvalue()


def _read(data: bytes, suffix: str) -> clv_io.ReadResult | None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"transactions{suffix}"
        path.write_bytes(data)
        try:
            return clv_io.read_transactions(path)
        except clv_io.FileUnreadable as exc:
            assert str(exc)
            return None


XML_TEXT = st.text(alphabet=st.characters(exclude_categories=["Cs", "Cc"]), max_size=10)
FILES = st.one_of(
    st.tuples(st.binary(max_size=300), st.sampled_from([".csv", ".xlsx"])),
    ROWS.map(lambda rows: (_xlsx([HEADER, *rows]), ".xlsx")),
    ROWS.map(lambda rows: ("\n".join(",".join(map(str, r)) for r in [HEADER, *rows]).encode(), ".csv")),
    st.lists(st.tuples(XML_TEXT, XML_TEXT, XML_TEXT), max_size=3).map(
        lambda cells: (
            _with_sheet(
                (
                    f'<worksheet xmlns="{MAIN_NS}"><sheetData>'
                    + "".join(f'<row r="{r}"><c r="{ref}"><v>{v}</v></c></row>' for r, ref, v in cells)
                    + "</sheetData></worksheet>"
                ).encode()
            ),
            ".xlsx",
        )
    ),
)


@FUZZ
@given(file=FILES)
@example(file=(_with_sheet(f'<worksheet xmlns="{MAIN_NS}"><sheetData><row r="x"/></sheetData></worksheet>'.encode()), ".xlsx"))  # fmt: skip
def test_any_transactions_file_gives_rows_and_errors_or_file_unreadable(file: tuple[bytes, str]) -> None:
    result = _read(*file)
    if result is not None:
        assert all(t.amount >= 0 and isinstance(t.date, dt.date) for t in result.rows)
        assert all(e.line >= 1 for e in result.errors)


@FUZZ
@given(rows=ROWS)
def test_parse_records_never_raises_past_the_header(rows: list[list[Any]]) -> None:
    result = clv_io.parse_records(enumerate([HEADER, *rows], start=1))
    assert len(result.rows) + len({e.line for e in result.errors}) <= len([r for r in rows if r])
