"""Capacity reports: load (booked minutes / available minutes) per doctor, room and branch by day and
hour, the week's heat map (weekday × hour), no-show and late-cancellation rates, lost hours, and the
hours most often left empty.

Available minutes come from the doctors' working windows (weekly hours less breaks and exceptions,
on the branch's clock); a room is available while any doctor works at its branch and it is not
closed. Booked minutes are the live appointments (booked, confirmed, arrived, done) inside them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy as _

from clinicflow.analytics.reports.base import (
    ChartSpec,
    Column,
    Param,
    ReportContext,
    ReportResult,
    ReportSpec,
    ratio,
    register,
)
from clinicflow.analytics.reports.capacity_read import (
    compute_load_report,
    weekday_hours,
)  # on the facts (#17)
from clinicflow.booking import availability as av
from clinicflow.booking import selectors
from clinicflow.booking.models import HOLDING_STATUSES, Appointment, AppointmentStatus, Weekday
from clinicflow.core.models import Branch, Organization
from clinicflow.core.selectors import branch_list

Key = tuple[Any, ...]


def _minutes(a: dt.datetime, b: dt.datetime) -> float:
    return max(0.0, (b - a).total_seconds() / 60)


def _split_hours(interval: av.Interval, tz: Any) -> list[tuple[dt.date, int, float]]:
    """(local date, local hour, minutes) pieces of an interval."""
    out = []
    a, b = interval
    cur = a
    while cur < b:
        local = cur.astimezone(tz)
        nxt = (local.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)).astimezone(dt.UTC)
        end = min(nxt, b)
        out.append((local.date(), local.hour, _minutes(cur, end)))
        cur = end
    return out


@dataclass
class LoadData:
    branch: Branch
    available: dict[Key, float] = field(default_factory=lambda: defaultdict(float))  # (kind, id, date, hour)
    booked: dict[Key, float] = field(default_factory=lambda: defaultdict(float))
    names: dict[Key, str] = field(default_factory=dict)

    def _sum(self, kind: str, key_of: Any) -> list[dict[str, Any]]:
        avail: dict[Any, float] = defaultdict(float)
        book: dict[Any, float] = defaultdict(float)
        for (k, obj, day, hour), m in self.available.items():
            if k == kind:
                avail[key_of(obj, day, hour)] += m
        for (k, obj, day, hour), m in self.booked.items():
            if k == kind:
                book[key_of(obj, day, hour)] += m
        rows = []
        for key in sorted(set(avail) | set(book), key=str):
            rows.append(
                {
                    "key": key,
                    "available": avail.get(key, 0.0),
                    "booked": book.get(key, 0.0),
                    "load": ratio(book.get(key, 0.0), avail.get(key, 0.0)),
                }
            )
        return rows

    def by_doctor(self) -> list[dict[str, Any]]:
        rows = self._sum("doctor", lambda obj, d, h: obj)
        for r in rows:
            r["name"] = self.names.get(("doctor", r["key"]), "")
        return sorted(rows, key=lambda r: r["name"])

    def by_room(self) -> list[dict[str, Any]]:
        rows = self._sum("room", lambda obj, d, h: obj)
        for r in rows:
            r["name"] = self.names.get(("room", r["key"]), "")
        return sorted(rows, key=lambda r: r["name"])

    def total(self) -> dict[str, Any]:
        rows = self._sum("doctor", lambda obj, d, h: "all")
        return rows[0] if rows else {"available": 0.0, "booked": 0.0, "load": None}

    def heatmap(self) -> dict[str, Any]:
        cells = {r["key"]: r for r in self._sum("doctor", lambda obj, d, h: (d.weekday(), h))}
        hours = sorted({h for (_wd, h) in cells}) or list(range(9, 18))
        rows = []
        for wd, label in Weekday.choices:
            line = []
            for h in hours:
                c = cells.get((wd, h))
                load = c["load"] if c else None
                level = "none" if load is None else str(min(5, int(load * 5)))
                line.append({"hour": h, "load": load, "level": level})
            rows.append((label, line))
        return {"hours": hours, "rows": rows}


def compute_load(*, org: Organization, branch: Branch, date_from: dt.date, date_to: dt.date) -> LoadData:
    tz = branch.tz
    data = LoadData(branch=branch)
    doctors = selectors.doctor_list(org=org, branch=branch, active_only=False)
    rooms = selectors.room_list(org=org, branch=branch)
    for d in doctors:
        data.names[("doctor", d.pk)] = d.full_name
    for r in rooms:
        data.names[("room", r.pk)] = r.name
    schedules = selectors.schedules_load(
        org=org, branch=branch, doctor_ids=[d.pk for d in doctors], date_from=date_from, date_to=date_to
    )
    windows: dict[uuid.UUID, list[av.Interval]] = {}
    for d in doctors:
        windows[d.pk] = av.working_windows(schedules[d.pk], date_from, date_to)
        for day, hour, m in (p for w in windows[d.pk] for p in _split_hours(w, tz)):
            data.available[("doctor", d.pk, day, hour)] += m
    open_hours = av.merge(w for ws in windows.values() for w in ws)
    closures = selectors.room_closures(
        org=org, branch=branch, room_ids=[r.pk for r in rooms], date_from=date_from, date_to=date_to
    )
    room_windows = {r.pk: av.subtract(open_hours, closures.get(r.pk, [])) for r in rooms}
    for r in rooms:
        for day, hour, m in (p for w in room_windows[r.pk] for p in _split_hours(w, tz)):
            data.available[("room", r.pk, day, hour)] += m
    start, end = selectors.day_bounds(branch, date_from, date_to)
    for d_id, r_id, s, e in (
        Appointment.objects.for_org(org)
        .filter(branch=branch, status__in=HOLDING_STATUSES, start_at__gte=start, start_at__lt=end)
        .values_list("doctor_id", "room_id", "start_at", "end_at")
    ):
        for kind, obj, wins in (
            ("doctor", d_id, windows.get(d_id, [])),
            ("room", r_id, room_windows.get(r_id, [])),
        ):
            if obj is None:
                continue
            inside = av.subtract([(s, e)], av.subtract([(s, e)], wins)) if wins else []
            for w in inside:
                for day, hour, m in _split_hours(w, tz):
                    data.booked[(kind, obj, day, hour)] += m
    return data


def _branches(ctx: ReportContext) -> list[Branch]:
    return [ctx.branch] if ctx.branch is not None else branch_list(org=ctx.org)


def _hours(minutes: float) -> float:
    return round(minutes / 60, 2)


# --- registered reports --------------------------------------------------------------------------


def compute_heatmap_report(ctx: ReportContext) -> ReportResult:
    """Load per weekday and hour of all doctors of the branch (or chain), from the load facts."""
    avail: dict[tuple[int, int], float] = defaultdict(float)
    booked: dict[tuple[int, int], float] = defaultdict(float)
    for cells in weekday_hours(ctx, _branches(ctx)).values():
        for key, (a, b) in cells.items():
            avail[key] += a
            booked[key] += b
    hours = sorted({h for (_w, h) in avail})
    rows = []
    for wd, label in Weekday.choices:
        row: dict[str, Any] = {"weekday": str(label)}
        for h in hours:
            row[f"h{h:02d}"] = ratio(booked.get((wd, h), 0.0), avail.get((wd, h), 0.0))
        rows.append(row)
    return ReportResult(
        rows=rows, notes=[str(_("Each cell: booked minutes / available minutes of all doctors."))]
    )


HEATMAP_COLUMNS = (
    Column("weekday", _("Weekday")),
    *(Column(f"h{h:02d}", f"{h:02d}:00", "percent") for h in range(24)),
)


def compute_attendance(ctx: ReportContext) -> ReportResult:
    """No-show and late-cancellation rates, and the hours they lost, per doctor."""
    qs = Appointment.objects.for_org(ctx.org).filter(
        start_at__gte=ctx.start_utc(), start_at__lt=ctx.end_utc()
    )
    if ctx.branch is not None:
        qs = qs.filter(branch=ctx.branch)
    stats: dict[Any, dict[str, Any]] = {}
    for name, status, late, s, e in qs.values_list(
        "doctor__full_name", "status", "is_late_cancellation", "start_at", "end_at"
    ):
        row = stats.setdefault(
            name,
            {
                "name": name,
                "appointments": 0,
                "no_shows": 0,
                "late_cancellations": 0,
                "cancellations": 0,
                "lost_minutes": 0.0,
            },
        )
        row["appointments"] += 1
        if status == AppointmentStatus.NO_SHOW:
            row["no_shows"] += 1
            row["lost_minutes"] += _minutes(s, e)
        elif status == AppointmentStatus.CANCELLED:
            row["cancellations"] += 1
            if late:
                row["late_cancellations"] += 1
                row["lost_minutes"] += _minutes(s, e)
    rows = []
    tot = {"appointments": 0, "no_shows": 0, "late_cancellations": 0, "cancellations": 0, "lost_minutes": 0.0}
    for name in sorted(stats):
        r = stats[name]
        for k in tot:
            tot[k] += r[k]
        rows.append(_attendance_row(r))
    totals = _attendance_row({"name": str(_("Total")), **tot}) if rows else None
    return ReportResult(rows=rows, totals=totals)


def _attendance_row(r: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": r["name"],
        "appointments": r["appointments"],
        "no_shows": r["no_shows"],
        "no_show_rate": ratio(r["no_shows"], r["appointments"]),
        "late_cancellations": r["late_cancellations"],
        "late_cancellation_rate": ratio(r["late_cancellations"], r["appointments"]),
        "lost_hours": _hours(r["lost_minutes"]),
    }


def compute_empty(ctx: ReportContext) -> ReportResult:
    """The weekday-hours with the most available-but-unbooked doctor time (each branch's, summed), from
    the load facts."""
    empty: dict[tuple[int, int], float] = defaultdict(float)
    avail: dict[tuple[int, int], float] = defaultdict(float)
    for cells in weekday_hours(ctx, _branches(ctx)).values():
        for key, (a, b) in cells.items():
            empty[key] += max(0.0, a - b)
            avail[key] += a
    labels = dict(Weekday.choices)
    ranked = sorted(empty.items(), key=lambda kv: (-kv[1], kv[0]))[:20]
    rows = [
        {
            "slot": f"{labels[wd]} {h:02d}:00",
            "empty_hours": _hours(m),
            "empty_share": ratio(m, avail[(wd, h)]),
        }
        for (wd, h), m in ranked
    ]
    return ReportResult(rows=rows)


register(
    ReportSpec(
        name="capacity_load",
        title=_("Load"),
        description=_("Booked minutes / available minutes per doctor, room, branch, day or hour."),
        permission="reports.capacity",
        columns=(
            Column("name", _("Who / when")),
            Column("available_h", _("Available, h"), "float"),
            Column("booked_h", _("Booked, h"), "float"),
            Column("load", _("Load"), "percent"),
        ),
        compute=compute_load_report,
        chart=ChartSpec(type="bar", x="name", series=("load",)),
        params=(
            Param(
                name="by",
                label=_("By"),
                choices=(
                    ("doctor", _("Doctor")),
                    ("room", _("Room")),
                    ("branch", _("Branch")),
                    ("day", _("Day")),
                    ("hour", _("Hour")),
                ),
                default="doctor",
            ),
        ),
        default_days=28,
    )
)

register(
    ReportSpec(
        name="capacity_heatmap",
        title=_("Load heat map"),
        description=_(
            "Load by weekday and hour on the branch's clock. The booking capacity page shows it coloured."
        ),
        permission="reports.capacity",
        columns=HEATMAP_COLUMNS,
        compute=compute_heatmap_report,
        chart=None,
        default_days=28,
    )
)

register(
    ReportSpec(
        name="capacity_attendance",
        title=_("No-shows and late cancellations"),
        description=_("Per doctor: no-show and late-cancellation rates and the hours they lost."),
        permission="reports.capacity",
        columns=(
            Column("name", _("Doctor")),
            Column("appointments", _("Appointments"), "int"),
            Column("no_shows", _("No-shows"), "int"),
            Column("no_show_rate", _("No-show rate"), "percent"),
            Column("late_cancellations", _("Late cancellations"), "int"),
            Column("late_cancellation_rate", _("Late-cancellation rate"), "percent"),
            Column("lost_hours", _("Lost hours"), "float"),
        ),
        compute=compute_attendance,
        chart=ChartSpec(type="bar", x="name", series=("no_show_rate", "late_cancellation_rate")),
        default_days=90,
    )
)

register(
    ReportSpec(
        name="capacity_empty_slots",
        title=_("Hours most often left empty"),
        description=_("Weekday-hours with the most available but unbooked doctor time."),
        permission="reports.capacity",
        columns=(
            Column("slot", _("Weekday and hour")),
            Column("empty_hours", _("Empty, h"), "float"),
            Column("empty_share", _("Share empty"), "percent"),
        ),
        compute=compute_empty,
        chart=ChartSpec(type="bar", x="slot", series=("empty_hours",)),
        default_days=28,
    )
)
