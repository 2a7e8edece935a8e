"""Cell values → Python: dates and times in the branch's zone, Decimal money, bounded text."""

from __future__ import annotations

import datetime as dt
import functools
import re
import zoneinfo
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from clinicflow.imports.files import MAX_CELL, cell_text


class RowProblem(ValueError):
    """One cell of one row is wrong: the field, the problem, the value."""

    def __init__(self, field: str, problem: str, value: Any = "") -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem
        self.value = cell_text(value)[:200]


_DMY = re.compile(r"^(\d{1,2})[./](\d{1,2})[./](\d{4})$")
_YMD = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_SPACES = re.compile(r"[\s\u00a0\u202f]")
_PLAIN_NUMBER = re.compile(r"-?\d{1,12}(?:\.\d{1,2})?\Z")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")


def text(field: str, value: Any, *, max_len: int, required: bool = False) -> str:
    """A cell as text, stored as it is (a leading = + - @ too: exports escape it)."""
    out = cell_text(value)
    if len(out) > min(max_len, MAX_CELL):
        raise RowProblem(field, f"is longer than {max_len} characters", value)
    if required and not out:
        raise RowProblem(field, "is required", value)
    return out


def date(field: str, value: Any, *, required: bool = True) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    raw = cell_text(value)
    if not raw:
        if required:
            raise RowProblem(field, "is required")
        return None
    raw = raw.split(" ", 1)[0].split("T", 1)[0]
    try:
        m = _DMY.match(raw)
        if m:
            return dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        m = _YMD.match(raw)
        if m:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        pass
    raise RowProblem(field, "is not a date (YYYY-MM-DD or DD.MM.YYYY)", value)


def time_of(field: str, value: Any) -> dt.time | None:
    if isinstance(value, dt.datetime):
        return value.time()
    if isinstance(value, dt.time):
        return value
    raw = cell_text(value)
    if not raw:
        return None
    m = _TIME.match(raw)
    if m and int(m.group(1)) < 24 and int(m.group(2)) < 60:
        return dt.time(int(m.group(1)), int(m.group(2)), int(m.group(3) or 0))
    raise RowProblem(field, "is not a time (HH:MM)", value)


def moment(field: str, value: Any, tz: zoneinfo.ZoneInfo, time_value: Any = None) -> dt.datetime:
    """An aware datetime: a date (+ time, or the time in the same cell) read on the branch's clock; an
    ISO value with an offset keeps its offset. Text cells are read through a cache (a visits file
    repeats its dates and times; a refused value raises again, it is never cached)."""
    if type(value) is str and (time_value is None or type(time_value) is str):
        return _moment_of_text(field, value, tz, time_value)
    return _moment(field, value, tz, time_value)


def _moment(field: str, value: Any, tz: zoneinfo.ZoneInfo, time_value: Any = None) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=tz)
    raw = cell_text(value)
    if "T" in raw or (raw[:4].isdigit() and "+" in raw[10:]):
        try:
            parsed = dt.datetime.fromisoformat(raw)
        except ValueError as exc:
            raise RowProblem(field, "is not a date and time", value) from exc
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)
    day = date(field, value)
    assert day is not None
    clock = time_of("time", time_value) if time_value not in (None, "") else None
    if clock is None and " " in raw:
        clock = time_of(field, raw.split(" ", 1)[1].strip())
    return dt.datetime.combine(day, clock or dt.time(0, 0), tzinfo=tz)


_moment_of_text = functools.lru_cache(maxsize=4096)(_moment)


def decimal(field: str, value: Any, *, required: bool = True, positive: bool = False) -> Decimal | None:
    """A number with a dot or a comma as the decimal separator and spaces between thousands."""
    if isinstance(value, bool):
        raise RowProblem(field, "is not a number", value)
    if isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    elif type(value) is str and _PLAIN_NUMBER.match(value):  # "1500" or "1500.00": most cells
        number = Decimal(value)
    else:
        raw = _SPACES.sub("", cell_text(value))
        if not raw:
            if required:
                raise RowProblem(field, "is required")
            return None
        if "," in raw and "." in raw:
            raw = raw.replace(",", "")
        raw = raw.replace(",", ".")
        try:
            number = Decimal(raw)
        except InvalidOperation as exc:
            raise RowProblem(field, "is not a number", value) from exc
    if not number.is_finite() or abs(number) >= Decimal("1e10"):
        raise RowProblem(field, "is out of range", value)
    if number != number.quantize(Decimal("0.01")):
        raise RowProblem(field, "has more than two decimals", value)
    if positive and number <= 0:
        raise RowProblem(field, "must be greater than zero", value)
    return number.quantize(Decimal("0.01"))


def integer(field: str, value: Any, *, default: int = 0) -> int:
    raw = cell_text(value).replace(" ", "")
    if not raw:
        return default
    try:
        number = int(raw)
    except ValueError as exc:
        raise RowProblem(field, "is not a whole number", value) from exc
    if number < 0 or number > 2_000_000_000:
        raise RowProblem(field, "is out of range", value)
    return number


def choice(field: str, value: Any, table: Mapping[str, str], default: str) -> str:
    raw = cell_text(value).lower()
    if not raw:
        return default
    if raw in table:
        return str(table[raw])
    raise RowProblem(field, f"is not one of {', '.join(sorted(set(table.values())))}", value)
