"""The what-if planner's levers, named as the simulator's ``[[changes]]`` names them, so that a plan can
be checked against a simulation of the same clinic with the lever changed:

- ``first_visit_price`` — the first-visit price in every branch;
- ``channels.<code>.monthly_spend`` — a paid channel's monthly spend (all branches together);
- ``administrators.<name>.conversion`` — the share of an administrator's answered unique calls that
  book a first visit (0..1);
- ``doctors.<name>.hours_share`` — the share of a doctor's scheduled hours kept (0.7 = 30% fewer);
- ``recall.contact_share`` — the share of lapsed patients each recall campaign reaches (0..1);
- ``recall.response`` — the share of reached patients who book within two months (0..1);
- ``repeat_rate_factor`` — the chance that a patient comes back for a new treatment episode, times
  this (1 = as now, 1.2 = a fifth more returns).

``<name>`` is the person's full name (any case) or id."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Protocol

LEVER_NAMES = (
    "first_visit_price",
    "channels.<code>.monthly_spend",
    "administrators.<name>.conversion",
    "doctors.<name>.hours_share",
    "recall.contact_share",
    "recall.response",
    "repeat_rate_factor",
)


class LeverError(ValueError):
    """A lever the planner cannot use; ``field`` names it (the API answers 422)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Lever:
    name: str
    kind: str  # "price" | "spend" | "conversion" | "hours" | "reach" | "response" | "repeat"
    key: uuid.UUID | None
    value: Decimal


class Names(Protocol):
    """What the levers are checked against (the fitted plan model)."""

    @property
    def channel_codes(self) -> Mapping[str, uuid.UUID]: ...
    @property
    def admin_names(self) -> Mapping[str, uuid.UUID]: ...
    @property
    def doctor_names(self) -> Mapping[str, uuid.UUID]: ...


def _person(names: Mapping[str, uuid.UUID], wanted: str, what: str, field: str) -> uuid.UUID:
    key = wanted.strip().casefold()
    for name, pk in names.items():
        if name.casefold() == key or str(pk) == key:
            return pk
    raise LeverError(field, f"no {what} named {wanted!r}")


def _number(field: str, raw: object) -> Decimal:
    if isinstance(raw, bool):
        raise LeverError(field, "must be a number")
    try:
        value = Decimal(str(raw).strip().replace(" ", "").replace("\u00a0", ""))
    except InvalidOperation:
        raise LeverError(field, f"must be a number (got {raw!r})") from None
    if not value.is_finite():
        raise LeverError(field, "must be a finite number")
    return value


def parse_lever(names: Names, name: str, raw: object) -> Lever:
    field = name
    value = _number(field, raw)
    if name == "first_visit_price":
        if value <= 0:
            raise LeverError(field, "must be positive")
        return Lever(name, "price", None, value)
    if name in ("recall.contact_share", "recall.response"):
        if not 0 <= value <= 1:
            raise LeverError(field, "must be between 0 and 1")
        return Lever(name, "reach" if name == "recall.contact_share" else "response", None, value)
    if name == "repeat_rate_factor":
        if not 0 <= value <= 5:
            raise LeverError(field, "must be between 0 and 5 (1 = the repeat rate now)")
        return Lever(name, "repeat", None, value)
    head, _, rest = name.partition(".")
    middle, _, tail = rest.rpartition(".")
    parts = [head, middle, tail]  # a person's name may hold dots ("Dr. Anna Sokolova")
    if len(parts) == 3 and parts[0] == "channels" and parts[2] == "monthly_spend":
        if parts[1] not in names.channel_codes:
            codes = ", ".join(sorted(names.channel_codes)) or "none"
            raise LeverError(field, f"no paid channel {parts[1]!r} with a fitted curve (channels: {codes})")
        if value < 0:
            raise LeverError(field, "must not be negative")
        return Lever(name, "spend", names.channel_codes[parts[1]], value)
    if len(parts) == 3 and parts[0] == "administrators" and parts[2] == "conversion":
        pk = _person(names.admin_names, parts[1], "administrator", field)
        if not 0 <= value <= 1:
            raise LeverError(field, "must be between 0 and 1")
        return Lever(name, "conversion", pk, value)
    if len(parts) == 3 and parts[0] == "doctors" and parts[2] == "hours_share":
        pk = _person(names.doctor_names, parts[1], "doctor", field)
        if not 0 <= value <= 2:
            raise LeverError(field, "must be between 0 and 2 (1 = the scheduled hours)")
        return Lever(name, "hours", pk, value)
    raise LeverError(field, f"unknown lever (levers: {', '.join(LEVER_NAMES)})")


def parse_levers(names: Names, items: Mapping[str, object] | Iterable[tuple[str, object]]) -> list[Lever]:
    pairs = items.items() if isinstance(items, Mapping) else items
    out: dict[str, Lever] = {}
    for name, raw in pairs:
        lever = parse_lever(names, str(name).strip(), raw)
        out[lever.name] = lever
    return list(out.values())


def parse_assignments(raw: Iterable[str]) -> list[tuple[str, str]]:
    """``NAME=VALUE`` strings (the command's ``--set``)."""
    out = []
    for item in raw:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise LeverError("set", f"expected LEVER=VALUE, got {item!r}")
        out.append((name.strip(), value.strip()))
    return out
