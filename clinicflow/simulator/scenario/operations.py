"""The planted operations of a scenario: each doctor's working week (``[[doctors]]`` ``work_days``
and ``hours``), late cancellations and the same-day first procedure (``[appointments]``). Read by
:mod:`.parse`; every error names the key."""

from __future__ import annotations

from typing import Any

from clinicflow.simulator.scenario.model import CATEGORIES, Branch, Doctor, ScenarioError
from clinicflow.simulator.scenario.reader import TableReader


def work_days(d: TableReader) -> tuple[int, ...]:
    """``doctors[i].work_days``: the weekdays the doctor works (0 = Monday); empty = automatic."""
    days = d.raw("work_days", [])
    if not isinstance(days, list):
        raise ScenarioError(f"{d._key('work_days')}: must be a list of weekdays 0..6 (0 = Monday)")
    for i, wd in enumerate(days):
        if isinstance(wd, bool) or not isinstance(wd, int) or not 0 <= wd <= 6:
            raise ScenarioError(f"{d._key('work_days')}[{i}]: must be 0..6 (0 = Monday) (got {wd!r})")
    return tuple(sorted(set(days)))


def hours(d: TableReader) -> tuple[int, int] | None:
    """``doctors[i].hours = [from, until]``: the doctor's shift in the branch's local hours."""
    if not d.has("hours"):
        return None
    pair = d.raw("hours")
    if (
        not isinstance(pair, list)
        or len(pair) != 2
        or not all(isinstance(h, int) and not isinstance(h, bool) for h in pair)
        or not 0 <= pair[0] < pair[1] <= 24
    ):
        raise ScenarioError(f"{d._key('hours')}: must be [from, until], whole hours 0..24 (got {pair!r})")
    return int(pair[0]), int(pair[1])


def check_doctor(i: int, doc: Doctor, branch: Branch) -> None:
    """A planted shift lies inside the branch's opening hours."""
    if doc.hours is not None and not branch.open_hour <= doc.hours[0] < doc.hours[1] <= branch.close_hour:
        raise ScenarioError(
            f"doctors[{i}].hours: must lie within the branch's opening hours "
            f"{branch.open_hour}-{branch.close_hour} (got {list(doc.hours)})"
        )


def appointments(ap: TableReader) -> dict[str, Any]:
    """``late_cancellation``: the share of cancellations made less than 24 hours before the visit;
    ``same_day_procedure``: per service category, the probability that a first consultation which
    planned a treatment is followed by its first session the same day."""
    same_day = ap.table("same_day_procedure") if ap.has("same_day_procedure") else None
    rates = dict.fromkeys(CATEGORIES, 0.0)
    if same_day is not None:
        for k in same_day.data:
            if k not in CATEGORIES:
                raise ScenarioError(f"{same_day._key(k)}: unknown category (one of {', '.join(CATEGORIES)})")
        rates = {c: same_day.rate(c, 0.0) for c in CATEGORIES}
    return {
        "late_cancellation": ap.rate("late_cancellation", 0.0),
        "same_day_procedure": rates,
    }
