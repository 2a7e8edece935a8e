"""``[[changes]]``: levers that move from a given month of the run, the way the first-visit price
schedule does, so a plan can be checked against a simulation of the same clinic with the lever
changed (issue #18). The lever names are the what-if planner's ``--set`` names::

    [[changes]]
    month = 18
    set = { "channels.search_ads.monthly_spend" = 390000, "first_visit_price" = 2250 }

Levers: ``first_visit_price`` (merged into the price schedule), ``channels.<code>.monthly_spend``
(the channel's base monthly spend from that month; jitter and the spend trend still apply) and
``administrators.<name>.conversion`` (the share of handled first calls the administrator books;
``<name>`` as in the scenario, or its English name) and ``doctors.<name>.hours_share`` (the share of
the doctor's scheduled working minutes that can be booked from that month: 0.7 = 30% fewer hours;
the packer books nothing past that share of each shift; the written schedule says so too: an ``open``
schedule exception with the kept hours on each of the doctor's working days from that month, so the
load report counts the minutes the engine offers), ``recall.contact_share`` (the share of lapsed
patients each recall campaign reaches), ``recall.response`` (the share of reached patients who book
within two months: the week's and the two months' shares scaled together) and
``repeat_rate_factor`` (every doctor's repeat rate — the chance that a patient comes back for a new
episode — times this; 1 = as planted)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from clinicflow.simulator.scenario.model import Scenario, ScenarioError


@dataclass(frozen=True)
class Change:
    month: int
    lever: str  # the full lever name
    kind: str  # "price" | "spend" | "conversion" | "hours" | "reach" | "response" | "repeat"
    index: int  # the channel's, administrator's or doctor's position (-1 for the price)
    value: float


def lever(scn: Scenario, name: str, value: object, where: str) -> Change:
    """One lever by its name, checked against the scenario (month filled in by the caller)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScenarioError(f"{where}: {name} must be a number (got {value!r})")
    v = float(value)
    if name == "first_visit_price":
        if v <= 0:
            raise ScenarioError(f"{where}: first_visit_price must be positive")
        return Change(0, name, "price", -1, v)
    if name in ("recall.contact_share", "recall.response"):
        if not 0 <= v <= 1:
            raise ScenarioError(f"{where}: {name} must be between 0 and 1")
        return Change(0, name, "reach" if name == "recall.contact_share" else "response", -1, v)
    if name == "repeat_rate_factor":
        if not 0 <= v <= 5:
            raise ScenarioError(f"{where}: {name} must be between 0 and 5 (1 = the planted repeat rates)")
        return Change(0, name, "repeat", -1, v)
    head, _, rest = name.partition(".")
    middle, _, tail = rest.rpartition(".")
    parts = [head, middle, tail]  # a person's name may hold dots ("Dr. Anna Sokolova")
    if len(parts) == 3 and parts[0] == "channels" and parts[2] == "monthly_spend":
        codes = [c.code for c in scn.channels]
        if parts[1] not in codes:
            raise ScenarioError(f"{where}: no channel {parts[1]!r} (channels: {', '.join(codes)})")
        if v < 0:
            raise ScenarioError(f"{where}: {name} must not be negative")
        return Change(0, name, "spend", codes.index(parts[1]), v)
    if len(parts) == 3 and parts[0] == "administrators" and parts[2] == "conversion":
        i = _person([(a.name, a.name_en) for a in scn.administrators], parts[1], "administrator", where)
        if not 0 <= v <= 1:
            raise ScenarioError(f"{where}: {name} must be between 0 and 1")
        return Change(0, name, "conversion", i, v)
    if len(parts) == 3 and parts[0] == "doctors" and parts[2] == "hours_share":
        i = _person([(d.name, d.name_en) for d in scn.doctors], parts[1], "doctor", where)
        if not 0 <= v <= 2:
            raise ScenarioError(f"{where}: {name} must be between 0 and 2 (1 = the scheduled hours)")
        return Change(0, name, "hours", i, v)
    raise ScenarioError(
        f"{where}: unknown lever {name!r} (first_visit_price, channels.<code>.monthly_spend, "
        "administrators.<name>.conversion, doctors.<name>.hours_share, recall.contact_share, "
        "recall.response, repeat_rate_factor)"
    )


def _person(names: list[tuple[str, str]], wanted: str, what: str, where: str) -> int:
    for i, (name, name_en) in enumerate(names):
        if wanted in (name, name_en):
            return i
    raise ScenarioError(f"{where}: no {what} {wanted!r}")


REPEAT_CAP = 0.95  # a repeat rate moved by ``repeat_rate_factor`` stays below certainty


def apply_month(changes: tuple[Any, ...], m: int, staff: Any, day_minutes: Any, recall: Any = None) -> None:
    """The engine's hook at the start of month ``m``: an administrator's conversion, a doctor's
    bookable minutes per shift (``day_minutes``: each doctor's scheduled shift length), the doctors'
    repeat rates (``staff.doc_a["repeat"]``, from the scenario's), the recall campaigns' reach and
    response (``recall.reach``, ``recall.week``, ``recall.two_months``)."""
    for change in changes:
        if change.month != m:
            continue
        if change.kind == "conversion":
            staff.adm_conv[change.index] = change.value
        elif change.kind == "hours":
            staff.day_len[change.index] = round(float(day_minutes[change.index]) * change.value)
        elif change.kind == "repeat":
            planted = np.array([d.repeat_rate for d in staff.w.scn.doctors])
            staff.doc_a["repeat"] = np.minimum(planted * change.value, REPEAT_CAP)
        elif change.kind == "reach" and recall is not None:
            recall.reach = change.value
        elif change.kind == "response" and recall is not None:
            total = recall.week + recall.two_months
            share = recall.week / total if total > 0 else 0.4
            recall.week, recall.two_months = change.value * share, change.value * (1 - share)


def hours_exceptions(scn: Scenario, cal: Any, st: Any) -> dict[str, np.ndarray]:
    """The written side of ``doctors.<name>.hours_share``: for every working day of the doctor from the
    change's month (until the doctor's next hours change), the shift kept — from the scheduled start
    for the share of its minutes (``end`` capped at midnight; ``closed`` where none is kept)."""
    hours = sorted((c for c in scn.changes if c.kind == "hours"), key=lambda c: c.month)
    T = cal.total_days
    parts: list[tuple[np.ndarray, int, int, int]] = []
    for i, c in enumerate(hours):
        until = next((h.month for h in hours[i + 1 :] if h.index == c.index), None)
        a = int(cal.month_start[c.month])
        z = int(cal.month_start[until]) if until is not None else T
        days = np.arange(a, z, dtype=np.int32)
        days = days[st.doc_weekdays[c.index, cal.weekday[days]]]
        start = int(st.doc_start_min[c.index])
        kept = round(float(st.doc_end_min[c.index] - st.doc_start_min[c.index]) * c.value)
        parts.append((days, c.index, start, min(start + kept, 1440)))
    if not parts:
        return {}
    n = [p[0].size for p in parts]
    return {
        "day": np.concatenate([p[0] for p in parts]),
        "doctor": np.repeat([p[1] for p in parts], n).astype(np.int16),
        "start_min": np.repeat([p[2] for p in parts], n).astype(np.int32),
        "end_min": np.repeat([p[3] for p in parts], n).astype(np.int32),
    }


def with_changes(scn: Scenario, data: dict[str, Any]) -> Scenario:
    """The scenario with its ``[[changes]]`` table read: price changes merged into the schedule."""
    raw = data.get("changes", [])
    if not isinstance(raw, list):
        raise ScenarioError("changes: must be an array of tables ([[changes]])")
    changes: list[Change] = []
    for i, item in enumerate(raw):
        where = f"changes[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("set"), dict):
            raise ScenarioError(f"{where}: needs month = N and set = {{ lever = value }}")
        month = item.get("month")
        if isinstance(month, bool) or not isinstance(month, int) or not 0 <= month <= scn.months:
            raise ScenarioError(f"{where}.month: must be a whole month 0..{scn.months} (got {month!r})")
        for name, value in item["set"].items():
            changes.append(dataclasses.replace(lever(scn, str(name), value, where), month=month))
    if not changes:
        return scn
    schedule = dict(scn.price_schedule)
    for c in sorted((c for c in changes if c.kind == "price"), key=lambda c: c.month):
        schedule[c.month] = c.value
    return dataclasses.replace(scn, price_schedule=tuple(sorted(schedule.items())), changes=tuple(changes))
