"""When a visit is done its service's plan becomes tasks, and the patient gets a thank-you message.

Both are periodic jobs over recently done visits (``jobs``): booking records "done" in
``booking.services.appointment_mark`` and has no hook for other apps, so nothing runs inside it.
Idempotent: ``AftercareRun`` marks a handled visit, the tasks' (organisation, appointment, step)
constraint makes a retry that races past it insert nothing twice, and each thank-you message has an
outbox dedupe key per visit and channel."""

from __future__ import annotations

import calendar
import datetime as dt
import uuid
import zoneinfo
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from clinicflow.accounts.roles import Role
from clinicflow.booking.models import Appointment
from clinicflow.booking.services.notify import message_context
from clinicflow.care.models import AftercareRun, FollowUpStep, FollowUpTask, TaskStatus
from clinicflow.care.selectors.jobs import Visit
from clinicflow.core.ids import uuid7
from clinicflow.core.models import Organization
from clinicflow.core.rawsql import db_date, db_datetime, db_uuid
from clinicflow.core.signals import bulk_written
from clinicflow.messaging.selectors import messages_by_key
from clinicflow.messaging.services import EnqueueItem, message_enqueue_many

THANKS_WITHIN = dt.timedelta(hours=48)
THANKS_CHANNELS = ("sms", "email")


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus ``months`` calendar months (the 31st becomes the month's last day)."""
    if not months:
        return day
    total = day.month - 1 + months
    year, month = day.year + total // 12, total % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def steps_by_service(org: Organization, service_ids: set[uuid.UUID]) -> dict[uuid.UUID, list[FollowUpStep]]:
    out: dict[uuid.UUID, list[FollowUpStep]] = defaultdict(list)
    steps = (
        FollowUpStep.objects.for_org(org)
        .filter(plan__service_id__in=service_ids, plan__is_active=True, is_active=True)
        .select_related("plan")
        .order_by("position", "id")
    )
    for step in steps:
        if step.plan.service_id is not None:
            out[step.plan.service_id].append(step)
    return out


# Plain statements (fixed text, every value a parameter): the ORM's bulk_create costs ~1 ms of Python
# per row here, executemany a few microseconds. The conflict targets are the unique constraints.
CHUNK = 5000
INSERT_TASK = (
    "INSERT INTO care_followuptask (id, organization_id, appointment_id, step_id, patient_id, branch_id, "
    "doctor_id, action, day_offset, due_on, due_at, assignee_role, assignee_id, status, outcome, reason, "
    "done_at, done_by_id, attempts, created_at) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
    "ON CONFLICT (organization_id, appointment_id, step_id) DO NOTHING"
)
# PostgreSQL: the same rows as one array per column, one statement for all of them (executemany would
# make a round trip per row)
INSERT_TASK_PG = (
    "INSERT INTO care_followuptask (id, organization_id, appointment_id, step_id, patient_id, branch_id, "
    "doctor_id, action, day_offset, due_on, due_at, assignee_role, assignee_id, status, outcome, reason, "
    "done_at, done_by_id, attempts, created_at) "
    "SELECT * FROM unnest(%s::uuid[], %s::uuid[], %s::uuid[], %s::uuid[], %s::uuid[], %s::uuid[], "
    "%s::uuid[], %s::varchar[], %s::integer[], %s::date[], %s::timestamptz[], %s::varchar[], %s::uuid[], "
    "%s::varchar[], %s::varchar[], %s::varchar[], %s::timestamptz[], %s::uuid[], %s::integer[], "
    "%s::timestamptz[]) ON CONFLICT (organization_id, appointment_id, step_id) DO NOTHING"
)
INSERT_RUN_PG = (
    "INSERT INTO care_aftercarerun (id, organization_id, appointment_id, tasks, thanked, created_at) "
    "SELECT * FROM unnest(%s::uuid[], %s::uuid[], %s::uuid[], %s::integer[], %s::boolean[], "
    "%s::timestamptz[]) ON CONFLICT (organization_id, appointment_id) DO NOTHING"
)
INSERT_RUN = (
    "INSERT INTO care_aftercarerun (id, organization_id, appointment_id, tasks, thanked, created_at) "
    "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (organization_id, appointment_id) DO NOTHING"
)


def due_on_day(local_day: dt.date, tz: zoneinfo.ZoneInfo, step: FollowUpStep) -> tuple[dt.date, dt.datetime]:
    due_on = add_months(local_day, step.months) + dt.timedelta(days=step.day_offset)
    end = dt.datetime.combine(due_on + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return due_on, end.astimezone(dt.UTC)


def build_tasks(
    org: Organization,
    visits: Sequence[Visit],
    steps: dict[uuid.UUID, list[FollowUpStep]],
    now: dt.datetime,
    due: set[tuple[uuid.UUID, dt.datetime]] | None = None,
) -> tuple[list[tuple[Any, ...]], dict[uuid.UUID, int]]:
    """The rows of the visits' tasks (``INSERT_TASK``'s columns, adapted for the database) and the
    number of tasks per visit; ``due`` gathers each task's (branch, due moment)."""
    org_id, created = db_uuid(org.pk), db_datetime(now)
    rows: list[tuple[Any, ...]] = []
    per_visit: dict[uuid.UUID, int] = defaultdict(int)
    zones: dict[str, zoneinfo.ZoneInfo] = {}
    for v in visits:
        tz = zones.get(v.timezone) or zones.setdefault(v.timezone, zoneinfo.ZoneInfo(v.timezone))
        local_day = v.start_at.astimezone(tz).date()
        for step in steps.get(v.service_id, ()):
            due_on, due_at = due_on_day(local_day, tz, step)
            if due is not None:
                due.add((v.branch_id, due_at))
            assignee = step.assignee_id
            if assignee is None and step.assignee_role == Role.DOCTOR:
                assignee = v.doctor_user_id  # the doctor who did it, when they have an account
            per_visit[v.id] += 1
            rows.append(
                (
                    db_uuid(uuid7()), org_id, db_uuid(v.id), db_uuid(step.pk), db_uuid(v.patient_id),
                    db_uuid(v.branch_id), db_uuid(v.doctor_id), step.action, (due_on - local_day).days,
                    db_date(due_on), db_datetime(due_at), step.assignee_role,
                    db_uuid(assignee) if assignee else None, TaskStatus.OPEN, "", "", None, None, 0, created,
                )
            )  # fmt: skip
    return rows, per_visit


def followups_generate_for(
    *, org: Organization, appointments: Sequence[Appointment | Visit], now: dt.datetime | None = None
) -> int:
    """Make the tasks of done visits (once each: see the module); returns the number of tasks built
    (a retry builds them again and inserts none).

    One query for the plans' steps, then plain multi-row INSERTs for the tasks and the run markers:
    thousands of visits a second, with no model instance per row."""
    visits = [
        a if isinstance(a, Visit) else Visit.of(a)
        for a in appointments
        if isinstance(a, Visit) or (a.organization_id == org.id and a.status == "done")
    ]
    if not visits:
        return 0
    now = now or timezone.now()
    steps = steps_by_service(org, {v.service_id for v in visits})
    due: set[tuple[uuid.UUID, dt.datetime]] = set()
    rows, per_visit = build_tasks(org, visits, steps, now, due)
    org_id, created = db_uuid(org.pk), db_datetime(now)
    runs = [(db_uuid(uuid7()), org_id, db_uuid(v.id), per_visit[v.id], False, created) for v in visits]
    with transaction.atomic(), connection.cursor() as cur:
        if connection.vendor == "postgresql":
            for k in range(0, len(rows), CHUNK):
                cur.execute(INSERT_TASK_PG, [list(col) for col in zip(*rows[k : k + CHUNK], strict=True)])
            for k in range(0, len(runs), CHUNK):
                cur.execute(INSERT_RUN_PG, [list(col) for col in zip(*runs[k : k + CHUNK], strict=True)])
        else:
            cur.executemany(INSERT_TASK, rows)
            cur.executemany(INSERT_RUN, runs)
        # the tasks' due days (the customer-service scorecard's follow-ups on time): one moment per
        # branch and due time (a retry's rows, not inserted again, announce what is already there)
        moments = [(None, branch, at) for branch, at in sorted(due, key=str)]
        bulk_written.send(sender=FollowUpTask, organization_id=org.pk, moments=moments)
    return len(rows)


def thank_you_items(appt: Appointment) -> list[EnqueueItem]:
    context = message_context(appt)  # booking's: the service, doctor, branch, local time
    not_after = appt.end_at + THANKS_WITHIN
    return [
        {
            "channel": channel,
            "kind": "thank_you",
            "context": context,
            "not_after": not_after,  # never later than 48 h after the visit
            "dedupe_key": f"care:thanks:{appt.pk}:{channel}",
        }
        for channel in THANKS_CHANNELS
    ]


def thank_you_send(*, org: Organization, appointment: Appointment, now: dt.datetime) -> int:
    """Queue the thank-you message for a done visit, on each channel the patient can be reached on
    (a service message about their own visit: no marketing consent needed; the outbox skips a
    channel without an address and renders in the patient's language). Nothing after 48 h. Returns
    the number of messages queued (0 on a repeat: dedupe keys)."""
    if appointment.status != "done" or now > appointment.end_at + THANKS_WITHIN:
        return 0
    items = thank_you_items(appointment)
    keys = [str(i.get("dedupe_key")) for i in items]
    with transaction.atomic():
        queued_before = messages_by_key(org=org, keys=keys)
        made = message_enqueue_many(org=org, patient=appointment.patient, items=items)
        AftercareRun.objects.for_org(org).filter(appointment=appointment).update(thanked=True)
    return sum(1 for m in made if m is not None and m.dedupe_key not in queued_before)
