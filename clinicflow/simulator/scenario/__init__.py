"""Scenario files: TOML with every planted parameter of the simulation, merged over
``scenarios/default.toml`` and validated. Every error names the offending key, e.g.
``doctors[2].conversion: must be between 0 and 1 (got 1.4)``.

:mod:`.model` holds the scenario and its vocabularies, :mod:`.reader` the key-path reader,
:mod:`.parse` the sections, :mod:`.files` the bundled files and the merge."""

from clinicflow.simulator.scenario.files import DEFAULT_SCENARIO, SCENARIO_DIR, load_scenario, resolve_path
from clinicflow.simulator.scenario.model import (
    CATEGORIES,
    CHANNEL_KINDS,
    COUNTRIES,
    MEMBERSHIP_KINDS,
    PAYMENT_METHODS,
    ROOM_TYPES,
    Administrator,
    Branch,
    Channel,
    Doctor,
    Scenario,
    ScenarioError,
    Service,
)
from clinicflow.simulator.scenario.parse import parse_scenario

__all__ = [
    "CATEGORIES",
    "CHANNEL_KINDS",
    "COUNTRIES",
    "DEFAULT_SCENARIO",
    "MEMBERSHIP_KINDS",
    "PAYMENT_METHODS",
    "ROOM_TYPES",
    "SCENARIO_DIR",
    "Administrator",
    "Branch",
    "Channel",
    "Doctor",
    "Scenario",
    "ScenarioError",
    "Service",
    "load_scenario",
    "parse_scenario",
    "resolve_path",
]
