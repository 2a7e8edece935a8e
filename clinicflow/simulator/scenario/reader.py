"""Reading a scenario's TOML tables with the key path, so every error names the offending key
(``doctors[2].conversion: must be between 0 and 1 (got 1.4)``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from clinicflow.simulator.scenario.model import ScenarioError


class TableReader:
    """Reads one table with the key path for error messages."""

    def __init__(self, data: Any, path: str) -> None:
        if not isinstance(data, dict):
            raise ScenarioError(f"{path}: must be a table")
        self.data = data
        self.path = path

    def _key(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def has(self, key: str) -> bool:
        return key in self.data

    def raw(self, key: str, default: Any = ...) -> Any:
        if key not in self.data:
            if default is ...:
                raise ScenarioError(f"{self._key(key)}: is required")
            return default
        return self.data[key]

    def num(self, key: str, default: Any = ..., lo: float | None = None, hi: float | None = None) -> float:
        value = self.raw(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ScenarioError(f"{self._key(key)}: must be a number (got {value!r})")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            rng = (
                f"between {lo:g} and {hi:g}"
                if lo is not None and hi is not None
                else (f"at least {lo:g}" if lo is not None else f"at most {hi:g}")
            )
            raise ScenarioError(f"{self._key(key)}: must be {rng} (got {value!r})")
        return float(value)

    def rate(self, key: str, default: Any = ...) -> float:
        return self.num(key, default, 0.0, 1.0)

    def integer(self, key: str, default: Any = ..., lo: int | None = None, hi: int | None = None) -> int:
        value = self.raw(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ScenarioError(f"{self._key(key)}: must be an integer (got {value!r})")
        self.num(key, default, lo, hi)
        return int(value)

    def text(self, key: str, default: Any = ..., choices: tuple[str, ...] | None = None) -> str:
        value = self.raw(key, default)
        if not isinstance(value, str):
            raise ScenarioError(f"{self._key(key)}: must be a string (got {value!r})")
        if choices is not None and value not in choices:
            raise ScenarioError(f"{self._key(key)}: must be one of {', '.join(choices)} (got {value!r})")
        return value

    def flag(self, key: str, default: Any = ...) -> bool:
        value = self.raw(key, default)
        if not isinstance(value, bool):
            raise ScenarioError(f"{self._key(key)}: must be true or false (got {value!r})")
        return value

    def table(self, key: str) -> TableReader:
        return TableReader(self.raw(key, {}), self._key(key))

    def array(self, key: str, min_len: int = 0) -> list[Any]:
        value = self.raw(key)
        if not isinstance(value, list):
            raise ScenarioError(f"{self._key(key)}: must be an array")
        if len(value) < min_len:
            raise ScenarioError(f"{self._key(key)}: needs at least {min_len} entries")
        return value

    def tables(self, key: str, min_len: int = 1) -> list[TableReader]:
        return [TableReader(v, f"{self._key(key)}[{i}]") for i, v in enumerate(self.array(key, min_len))]

    def numbers(self, key: str, length: int | None = None, lo: float = 0.0) -> tuple[float, ...]:
        values = self.array(key)
        if length is not None and len(values) != length:
            raise ScenarioError(f"{self._key(key)}: needs exactly {length} numbers (got {len(values)})")
        for i, v in enumerate(values):
            if isinstance(v, bool) or not isinstance(v, int | float) or v < lo:
                raise ScenarioError(f"{self._key(key)}[{i}]: must be a number ≥ {lo:g} (got {v!r})")
        return tuple(float(v) for v in values)

    def mix(self, key: str, names: tuple[str, ...]) -> dict[str, float]:
        t = self.table(key)
        for k in t.data:
            if k not in names:
                raise ScenarioError(f"{t._key(k)}: unknown key (expected one of {', '.join(names)})")
        out = {n: t.num(n, 0.0, 0.0) for n in names}
        if sum(out.values()) <= 0:
            raise ScenarioError(f"{self._key(key)}: the shares must not all be zero")
        return out


def unique(items: list[str], path: str) -> None:
    seen: set[str] = set()
    for i, item in enumerate(items):
        if item in seen:
            raise ScenarioError(f"{path}[{i}]: duplicate {item!r}")
        seen.add(item)


def month_day(value: Any, path: str) -> tuple[int, int]:
    try:
        month, day = (int(x) for x in str(value).split("-"))
        dt.date(2000, month, day)
    except (ValueError, TypeError) as exc:
        raise ScenarioError(f"{path}: must be a month-day like '05-09' (got {value!r})") from exc
    return month, day
