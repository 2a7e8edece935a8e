"""The capacity load report (``capacity_load``) on the load facts (``CapacityFact``, issue #17): one
grouped statement over the day rows of the period (per branch, and per doctor, room or day as asked;
by hour: the branches' hour rows as they are) and one for the doctors' or rooms' names, instead of
every working window and appointment of every branch in Python (``capacity.compute_load``, the facts'
definition and the reference of the tests). The facts are current after ``clinicflow analytics
rebuild`` and the incremental update (edits of working hours too: ``owner.cap_changes``)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import Sum
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
