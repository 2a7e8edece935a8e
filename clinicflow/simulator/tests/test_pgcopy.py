"""The binary COPY encoder against a real PostgreSQL: every column type the simulator writes, NULLs,
non-ASCII text, negative and large amounts, read back exactly."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal

import numpy as np
import pytest
from django.db import connection

from clinicflow.simulator.writers import pgcopy
from clinicflow.simulator.writers.bulk import copy_binary


@pytest.fixture
def probe(db: None) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("binary COPY is PostgreSQL's")
    _table()


COLUMNS = {
    "u": "uuid",
    "ts": "timestamp with time zone",
    "d": "date",
    "amount": "numeric(14, 2)",
    "score": "numeric(5, 1)",
    "name": "varchar(40)",
    "note": "text",
    "payload": "jsonb",
    "flag": "boolean",
    "small": "smallint",
    "whole": "integer",
    "big": "bigint",
    "opens": "time",
    "ratio": "double precision",
}


def _table() -> None:
    cols = ", ".join(f"{k} {v}" for k, v in COLUMNS.items())
    with connection.cursor() as cur:
        cur.execute(f"CREATE TEMP TABLE copy_probe ({cols})")


def _copy(cells: list[pgcopy.Cells]) -> None:
    names = ", ".join(COLUMNS)
    connection.ensure_connection()
    copy_binary(
        connection.connection,
        f"COPY copy_probe ({names}) FROM STDIN WITH (FORMAT binary)",
        pgcopy.encode_rows(cells),
    )


def _read() -> list[tuple]:  # type: ignore[type-arg]
    with connection.cursor() as cur:
        cur.execute(f"SELECT {', '.join(COLUMNS)} FROM copy_probe ORDER BY big")
        # Django reads jsonb as text (its JSONField decodes it)
        return [(*r[:7], None if r[7] is None else json.loads(r[7]), *r[8:]) for r in cur.fetchall()]


@pytest.mark.postgres
def test_every_type_round_trips_with_nulls_and_unicode(probe: None) -> None:
    ids = [uuid.UUID("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"), uuid.uuid4(), uuid.uuid4()]
    id_bytes = np.stack([np.frombuffer(u.bytes, np.uint8) for u in ids])
    stamps = np.array([0, 1_795_390_242, 946_684_799], dtype=np.int64)  # 1970, 2026, 1999-12-31
    days = np.array([0, 20_414, 10_956], dtype=np.int64)
    cells = [
        pgcopy.column_cells("uuid", id_bytes),
        pgcopy.column_cells("timestamp with time zone", stamps).with_nulls(np.array([False, False, True])),
        pgcopy.column_cells("date", days),
        pgcopy.column_cells("numeric(14, 2)", np.array([123_456_789_012_34, -5, 0])),
        pgcopy.column_cells("numeric(5, 1)", np.array([850, 1000, -1234])),
        pgcopy.column_cells("varchar(40)", ["Мария Иванова", None, "张伟"]),
        pgcopy.column_cells("text", ["tab\there\nnewline \\ backslash", "", "x" * 300]),
        pgcopy.column_cells("jsonb", [{"a": 1, "имя": "Пётр"}, {}, None]),
        pgcopy.column_cells("boolean", np.array([True, False, True])),
        pgcopy.column_cells("smallint", np.array([-3, 0, 32_000])),
        pgcopy.column_cells("integer", [7, None, -2_000_000_000]),
        pgcopy.column_cells("bigint", np.array([1, 2, 3])),
        pgcopy.column_cells("time", ["08:00:00", dt.time(20, 30), "00:00"]),
        pgcopy.column_cells("double precision", np.array([0.5, -1e300, 3.0])),
    ]
    _copy(cells)
    rows = _read()
    utc = dt.UTC
    assert rows[0] == (
        ids[0],
        dt.datetime(1970, 1, 1, tzinfo=utc),
        dt.date(1970, 1, 1),
        Decimal("123456789012.34"),
        Decimal("8.5"),
        "Мария Иванова",
        "tab\there\nnewline \\ backslash",
        {"a": 1, "имя": "Пётр"},
        True,
        -3,
        7,
        1,
        dt.time(8, 0),
        0.5,
    )
    assert rows[1] == (
        ids[1],
        dt.datetime(2026, 11, 22, 23, 30, 42, tzinfo=utc),
        dt.date(2025, 11, 22),
        Decimal("-0.05"),
        Decimal("10.0"),
        None,
        "",
        {},
        False,
        0,
        None,
        2,
        dt.time(20, 30),
        -1e300,
    )
    assert rows[2][1] is None and rows[2][2] == dt.date(1999, 12, 31)
    assert rows[2][3] == Decimal("0.00") and rows[2][4] == Decimal("-12.3")
    assert rows[2][6] == "x" * 300 and rows[2][7] is None and rows[2][12] == dt.time(0, 0)


@pytest.mark.postgres
def test_scalars_repeat_for_every_row(probe: None) -> None:
    n = 4
    cells = [
        pgcopy.repeat(pgcopy.scalar_cells("uuid", uuid.UUID(int=5)), n),
        pgcopy.repeat(
            pgcopy.scalar_cells("timestamp with time zone", dt.datetime(2026, 1, 2, tzinfo=dt.UTC)), n
        ),
        pgcopy.repeat(pgcopy.scalar_cells("date", dt.date(2026, 3, 4)), n),
        pgcopy.repeat(pgcopy.scalar_cells("numeric(14, 2)", None), n),
        pgcopy.repeat(pgcopy.column_cells("numeric(5, 1)", np.array([250])), n),
        pgcopy.repeat(pgcopy.scalar_cells("varchar(40)", "generic"), n),
        pgcopy.repeat(pgcopy.scalar_cells("text", ""), n),
        pgcopy.repeat(pgcopy.scalar_cells("jsonb", {"k": [1, 2]}), n),
        pgcopy.repeat(pgcopy.scalar_cells("boolean", True), n),
        pgcopy.repeat(pgcopy.scalar_cells("smallint", 2), n),
        pgcopy.repeat(pgcopy.scalar_cells("integer", None), n),
        pgcopy.column_cells("bigint", np.arange(n)),
        pgcopy.repeat(pgcopy.scalar_cells("time", dt.time(9, 15)), n),
        pgcopy.repeat(pgcopy.scalar_cells("double precision", 1.25), n),
    ]
    _copy(cells)
    rows = _read()
    assert len(rows) == n
    assert all(
        r[:11] + r[12:]
        == (
            uuid.UUID(int=5),
            dt.datetime(2026, 1, 2, tzinfo=dt.UTC),
            dt.date(2026, 3, 4),
            None,
            Decimal("2.5"),
            "generic",
            "",
            {"k": [1, 2]},
            True,
            2,
            None,
            dt.time(9, 15),
            1.25,
        )
        for r in rows
    )
    assert [r[11] for r in rows] == [0, 1, 2, 3]


def test_an_amount_out_of_range_is_refused_before_the_database_sees_it() -> None:
    with pytest.raises(ValueError, match="amount out of range"):
        pgcopy.numeric_cells(np.array([10**14]))
    with pytest.raises(ValueError, match="no encoder for column type 'inet'"):
        pgcopy.column_cells("inet", np.array([1]))
