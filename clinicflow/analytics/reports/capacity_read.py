"""The capacity load report (``capacity_load``) on the load facts (``CapacityFact``, issue #17): one
grouped statement over the day rows of the period (per branch, and per doctor, room or day as asked;
by hour: the branches' hour rows as they are) and one for the doctors' or rooms' names, instead of
every working window and appointment of every branch in Python (``capacity.compute_load``, the facts'
definition and the reference of the tests). The heat map and the hours most often left empty
(``capacity_heatmap``, ``capacity_empty_slots``) read the branches' hour rows grouped by weekday and
hour (``weekday_hours``). The facts cover the days up to the last one with raw data (``data_span``:
the last booking); the period's days after it (the weeks ahead beyond every booking, or a clinic whose
facts were never built) are computed from the working windows (``beyond``), so a period in the future
shows its available hours too. The facts are current after ``clinicflow analytics
rebuild`` and the incremental update (edits of working hours too: ``owner.cap_changes``)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db.models import Max, Sum
from django.db.models.functions import ExtractIsoWeekDay
from django.utils.translation import gettext_lazy as _

from clinicflow.analytics.owner.capload_models import DAY, CapacityFact
from clinicflow.analytics.reports.base import ReportContext, ReportResult, ratio
from clinicflow.booking import selectors
from clinicflow.core.models import Branch
from clinicflow.core.selectors import branch_list

GROUPS: dict[str, tuple[str, ...]] = {
    "doctor": ("doctor_id",),
    "room": ("room_id",),
    "branch": (),
    "day": ("day",),
    "hour": ("day", "hour"),
}


def _hours(minutes: float) -> float:
    return round(minutes / 60, 2)


KEYS: dict[str, Any] = {  # the level's key of a (kind, object, local day, hour) cell of ``compute_load``
    "doctor": lambda obj, d, h: obj,
    "room": lambda obj, d, h: obj,
    "branch": lambda obj, d, h: "all",
    "day": lambda obj, d, h: d,
    "hour": lambda obj, d, h: (d, h),
    "weekday": lambda obj, d, h: (d.weekday(), h),
}


def beyond(
    ctx: ReportContext, branches: list[Branch], level: str
) -> dict[Any, dict[Any, tuple[float, float]]]:
    """Per branch id and the level's key: the available and booked minutes of the period's days after
    the last day the load facts hold (none when they cover the period: one indexed statement), from the
    working windows (``capacity.compute_load``, the facts' definition)."""
    last = CapacityFact.objects.for_org(ctx.org).filter(hour=DAY).aggregate(d=Max("day"))["d"]
    start = ctx.date_from if last is None else max(ctx.date_from, last + dt.timedelta(days=1))
    out: dict[Any, dict[Any, tuple[float, float]]] = defaultdict(dict)
    if start > ctx.date_to or not branches:
        return out
    from clinicflow.analytics.reports.capacity import compute_load  # here: it imports this module

    kind, key_of = ("room" if level == "room" else "doctor"), KEYS[level]
    for branch in branches:
        data = compute_load(org=ctx.org, branch=branch, date_from=start, date_to=ctx.date_to)
        for r in data._sum(kind, key_of):
            out[branch.pk][r["key"]] = (r["available"], r["booked"])
    return out


def load_sums(
    ctx: ReportContext, branches: list[Branch], level: str
) -> dict[Any, list[tuple[Any, float, float]]]:
    """Per branch id: (key, available minutes, booked minutes) of the level's keys, by ``str(key)``."""
    fields = GROUPS[level]
    qs = CapacityFact.objects.for_org(ctx.org).filter(
        branch_id__in=[b.pk for b in branches], day__gte=ctx.date_from, day__lte=ctx.date_to
    )
    if level == "hour":  # the branch's hour rows: its doctors' sums
        qs = qs.filter(hour__gte=0, doctor_id__isnull=True, room_id__isnull=True)
    elif level == "room":
        qs = qs.filter(hour=DAY, room_id__isnull=False)
    else:
        qs = qs.filter(hour=DAY, doctor_id__isnull=False)
    out: dict[Any, list[tuple[Any, float, float]]] = defaultdict(list)
    if level == "hour":  # one row per branch, day and hour already: read as they are, not grouped
        for branch_id, day, hour, a, b in qs.order_by().values_list(
            "branch_id", "day", "hour", "available_seconds", "booked_seconds"
        ):
            out[branch_id].append(((day, hour), a / 60, b / 60))
    else:
        for row in (
            qs.order_by()
            .values("branch_id", *fields)
            .annotate(a=Sum("available_seconds"), b=Sum("booked_seconds"))
        ):
            key = tuple(row[f] for f in fields) if len(fields) > 1 else (row[fields[0]] if fields else "all")
            out[row["branch_id"]].append((key, (row["a"] or 0.0) / 60, (row["b"] or 0.0) / 60))
    for branch_id, cells in beyond(ctx, branches, level).items():  # days after the facts' last
        merged = {key: (a, b) for key, a, b in out[branch_id]}
        for key, (a, b) in cells.items():
            a0, b0 = merged.get(key, (0.0, 0.0))
            merged[key] = (a0 + a, b0 + b)
        out[branch_id] = [(key, a, b) for key, (a, b) in merged.items()]
    for rows in out.values():
        rows.sort(key=lambda r: str(r[0]))
    return out


def _names(ctx: ReportContext, level: str) -> dict[Any, str]:
    if level == "doctor":
        return {d.pk: d.full_name for d in selectors.doctor_list(org=ctx.org, active_only=False)}
    return {r.pk: r.name for r in selectors.room_list(org=ctx.org)}


def _items(
    level: str, branch: Branch, sums: list[tuple[Any, float, float]], names: dict[Any, str]
) -> list[dict[str, Any]]:
    if level == "branch":
        a, b = (sums[0][1], sums[0][2]) if sums else (0.0, 0.0)
        return [{"name": branch.display_name, "available": a, "booked": b, "load": ratio(b, a)}]
    items: list[dict[str, Any]] = []
    label = branch.display_name  # once: a translation lookup (the hour rows of a quarter: 20,000)
    for key, a, b in sums:
        if level == "day":
            name = f"{label} {key.isoformat()}"
        elif level == "hour":
            name = f"{label} {key[0].isoformat()} {key[1]:02d}:00"
        else:
            name = names.get(key, "")
        items.append({"name": name, "available": a, "booked": b, "load": ratio(b, a)})
    if level in ("doctor", "room"):
        items.sort(key=lambda r: str(r["name"]))
        for r in items:
            r["name"] = f"{r['name']} ({label})"
    return items


def compute_load_report(ctx: ReportContext) -> ReportResult:
    level = ctx.params.get("by", "doctor")
    level = level if level in GROUPS else "room"  # as before: any other choice, by room
    branches = [ctx.branch] if ctx.branch is not None else branch_list(org=ctx.org)
    sums = load_sums(ctx, branches, level) if branches else {}
    names = _names(ctx, level) if level in ("doctor", "room") and sums else {}
    rows: list[dict[str, Any]] = []
    total_a = total_b = 0.0
    for branch in branches:
        for r in _items(level, branch, sums.get(branch.pk, []), names):
            total_a += r["available"]
            total_b += r["booked"]
            rows.append(
                {
                    "name": r["name"],
                    "available_h": _hours(r["available"]),
                    "booked_h": _hours(r["booked"]),
                    "load": r["load"],
                }
            )
    totals = {
        "name": str(_("Total")),
        "available_h": _hours(total_a),
        "booked_h": _hours(total_b),
        "load": ratio(total_b, total_a),
    }
    return ReportResult(rows=rows, totals=totals if rows else None)


def weekday_hours(
    ctx: ReportContext, branches: list[Branch]
) -> dict[Any, dict[tuple[int, int], tuple[float, float]]]:
    """Per branch id and (weekday 0 = Monday, local hour): the available and booked minutes of its
    doctors over the period's local days (the branches' hour rows, one grouped statement)."""
    qs = CapacityFact.objects.for_org(ctx.org).filter(
        branch_id__in=[b.pk for b in branches],
        day__gte=ctx.date_from,
        day__lte=ctx.date_to,
        hour__gte=0,
        doctor_id__isnull=True,
        room_id__isnull=True,
    )
    rows = (
        qs.order_by()
        .annotate(wd=ExtractIsoWeekDay("day"))
        .values("branch_id", "wd", "hour")
        .annotate(a=Sum("available_seconds"), b=Sum("booked_seconds"))
    )
    out: dict[Any, dict[tuple[int, int], tuple[float, float]]] = defaultdict(dict)
    for r in rows:
        out[r["branch_id"]][(int(r["wd"]) - 1, int(r["hour"]))] = ((r["a"] or 0.0) / 60, (r["b"] or 0.0) / 60)
    for branch_id, cells in beyond(ctx, branches, "weekday").items():  # days after the facts' last
        for key, (a, b) in cells.items():
            a0, b0 = out[branch_id].get(key, (0.0, 0.0))
            out[branch_id][key] = (a0 + a, b0 + b)
    return out
