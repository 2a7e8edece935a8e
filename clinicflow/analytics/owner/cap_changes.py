"""Edits of the working hours reach the load facts (issue #17): the capacity facts (``capload_facts``)
and the day facts' available and booked seconds count the doctors' working windows and the rooms'
closures as they are now, so an edit of a weekly shift or break, or of a dated exception (a doctor's
day off or extra hours, a room's closure), changes the days it applies to. Each is recorded as
``FactsChange`` rows of those days (no patient; ``at``: the branch's local noon of the day;
``was_status``: ``LOAD``, a change of the load only), in the same transaction as the edit, and the
incremental update (``changes.apply_changes``) builds those days' load again.

The days: a dated exception's date (before and after the edit); a weekly shift's or break's weekday
(before and after) on every day of the span the facts cover (``DayFact``'s first to last day: the
current week applies to every day, as in ``capacity.compute_load``). Connected by ``signals.connect``.
Bulk writes send no signals (``clinicflow analytics rebuild`` after them)."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from typing import Any

from django.db.models import Max, Min
from django.db.models.signals import post_delete, post_init, post_save

from clinicflow.analytics.models import DayFact, FactsChange
from clinicflow.booking import availability as av
from clinicflow.booking.models import ScheduleBreak, ScheduleException, WorkingHours
from clinicflow.core.models import Branch

ORIGINAL = "_facts_original"
LOAD = "load"  # ``signals.LOAD`` (signals imports this module): the rows' mark of a change of the load
NOON = dt.time(12)
Place = tuple[uuid.UUID, Any]  # (branch, date or weekday)


def _state(instance: Any, when: str) -> tuple[Any, ...]:
    v = instance.__dict__
    return (v.get("branch_id"), v.get(when), v.get("doctor_id"), v.get("room_id"), v.get("kind"),
            v.get("start_time"), v.get("end_time"))  # fmt: skip


def _record(org_id: uuid.UUID, days: set[tuple[uuid.UUID, dt.date]]) -> None:
    if not days:  # no facts yet (a new organisation's first week)
        return
    branches = {b for b, _d in days}
    zones = dict(Branch.objects.filter(organization_id=org_id, pk__in=branches).values_list("pk", "timezone"))
    rows = [
        FactsChange(
            organization_id=org_id,
            branch_id=b,
            at=av.local_dt(day, NOON, zoneinfo.ZoneInfo(zones[b])),
            was_status=LOAD,  # a change of the load only (``changes.apply_changes`` builds just that)
        )
        for b, day in sorted(days, key=str)
        if b in zones
    ]
    FactsChange.objects.bulk_create(rows, batch_size=2000)


def _weekdays(org_id: uuid.UUID, places: set[Place]) -> set[tuple[uuid.UUID, dt.date]]:
    """Every day of the facts' span on the weekdays of ``places``."""
    span = DayFact.objects.filter(organization_id=org_id).aggregate(first=Min("day"), last=Max("day"))
    first, last = span["first"], span["last"]
    if first is None or last is None:
        return set()
    out: set[tuple[uuid.UUID, dt.date]] = set()
    for branch, weekday in places:
        day = first + dt.timedelta(days=(weekday - first.weekday()) % 7)
        while day <= last:
            out.add((branch, day))
            day += dt.timedelta(days=7)
    return out


def _receivers(when: str, weekly: bool) -> tuple[Any, Any, Any]:
    """(post_init, post_save, post_delete) receivers of a model whose rows apply to the ``when`` field's
    date (``weekly``: weekday) at their branch."""

    def remember(sender: Any, instance: Any, **kw: Any) -> None:
        setattr(instance, ORIGINAL, _state(instance, when))

    def record(instance: Any, was: tuple[Any, ...] | None, now: tuple[Any, ...] | None) -> None:
        setattr(instance, ORIGINAL, now)
        if was == now:
            return
        places: set[Place] = {(s[0], s[1]) for s in (was, now) if s is not None and None not in s[:2]}
        org_id = instance.organization_id
        _record(org_id, _weekdays(org_id, places) if weekly else places)

    def saved(sender: Any, instance: Any, created: bool, raw: bool = False, **kw: Any) -> None:
        if not raw:
            record(instance, None if created else getattr(instance, ORIGINAL, None), _state(instance, when))

    def deleted(sender: Any, instance: Any, **kw: Any) -> None:
        record(instance, getattr(instance, ORIGINAL, _state(instance, when)), None)

    return remember, saved, deleted


_RECEIVERS: list[Any] = []  # strong references: the signals hold weak ones


def connect() -> None:
    for model, when, weekly in (
        (WorkingHours, "weekday", True),
        (ScheduleBreak, "weekday", True),
        (ScheduleException, "date", False),
    ):
        label = model._meta.label_lower
        remember, saved, deleted = _receivers(when, weekly)
        _RECEIVERS.extend((remember, saved, deleted))
        post_init.connect(remember, sender=model, dispatch_uid=f"facts_{label}_init")
        post_save.connect(saved, sender=model, dispatch_uid=f"facts_{label}_save")
        post_delete.connect(deleted, sender=model, dispatch_uid=f"facts_{label}_delete")
