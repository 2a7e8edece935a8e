"""A scenario's names in its own language over the services and channels it inherits by code:
``[names.services]`` and ``[names.channels]`` (see other.toml); their English names stay."""

from __future__ import annotations

import dataclasses
from typing import TypeVar

from clinicflow.simulator.scenario.model import Channel, ScenarioError, Service
from clinicflow.simulator.scenario.reader import TableReader

Named = TypeVar("Named", Service, Channel)


def renamed(items: list[Named], top: TableReader, section: str) -> list[Named]:
    """The items with the names of ``[names.<section>]`` by code; an unknown code is an error naming
    the key."""
    names = top.table("names").table(section)
    codes = {x.code for x in items}
    for code in names.data:
        if code not in codes:
            raise ScenarioError(f"{names._key(code)}: no {section[:-1]} has this code")
    return [dataclasses.replace(x, name=names.text(x.code)) if x.code in names.data else x for x in items]
