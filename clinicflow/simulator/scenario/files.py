"""Scenario files: TOML merged over ``scenarios/default.toml`` (and optional overrides), then
parsed and validated."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path
from typing import Any

from clinicflow.simulator.scenario.changes import with_changes
from clinicflow.simulator.scenario.model import Scenario, ScenarioError
from clinicflow.simulator.scenario.parse import parse_scenario

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "scenarios"
DEFAULT_SCENARIO = SCENARIO_DIR / "default.toml"


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ScenarioError(f"scenario file not found: {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML: {exc}") from exc


def resolve_path(name: str | Path) -> Path:
    """A path, or the name of a bundled scenario (``chain-1m`` or ``chain-1m.toml``)."""
    path = Path(name)
    if path.exists():
        return path
    bundled = SCENARIO_DIR / (path.name if path.suffix == ".toml" else f"{path.name}.toml")
    if bundled.exists():
        return bundled
    raise ScenarioError(f"scenario file not found: {name}")


def load_scenario(
    path: str | Path | None = None,
    *,
    overrides: dict[str, Any] | None = None,
    today: dt.date | None = None,
) -> Scenario:
    """Read a scenario (default.toml when ``path`` is None), merged over the defaults, then
    ``overrides`` (a nested dict in the same shape) over that."""
    data = _read_toml(DEFAULT_SCENARIO)
    source = "default"
    if path is not None:
        resolved = resolve_path(path)
        if resolved.resolve() != DEFAULT_SCENARIO:
            data = _merge(data, _read_toml(resolved))
        source = resolved.name
    if overrides:
        data = _merge(data, overrides)
    return with_changes(parse_scenario(data, source=source, today=today), data)
