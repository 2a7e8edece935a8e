"""The care app's part of the patient card (``CareConfig.timeline``): worked and missed follow-up tasks
on the timeline, the open ones (overdue first) in the card's task block. Each is one query on the
tasks' (organization, patient, due_at) index."""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clinicflow.care.models import FollowUpTask, TaskStatus
from clinicflow.patients.timeline import CardFacts, CardItem, EventQuery, Kind, TimelineEvent, TimelineSource

FOLLOWUP = "followup"
OPEN_SHOWN = 5
TONES = {
    "reached": "success",
    "sent": "info",
    "booked": "success",
    "declined": "warning",
    "no_answer": "secondary",
}


def events(q: EventQuery) -> list[TimelineEvent]:
    if FOLLOWUP not in q.kinds:
        return []
    done, missed = Q(status=TaskStatus.DONE), Q(status=TaskStatus.MISSED)
    if q.before is not None:
        done &= Q(done_at__lt=q.before)
        missed &= Q(due_at__lt=q.before)
    qs = FollowUpTask.objects.for_org(q.org).filter(done | missed, patient=q.patient)
    out: list[TimelineEvent] = []
    for t in qs.select_related("done_by").order_by("-due_at", "-id")[: q.limit * 2]:
        at = t.done_at if t.status == TaskStatus.DONE and t.done_at else t.due_at
        is_done = t.status == TaskStatus.DONE
        out.append(
            TimelineEvent(
                at=at,
                kind=FOLLOWUP,
                title=_("Follow-up: %(action)s") % {"action": t.get_action_display()},
                detail=(f"{t.reason}" if t.reason else (str(t.done_by) if t.done_by else "")),
                status=t.get_outcome_display() if is_done else t.get_status_display(),
                tone=TONES.get(t.outcome, "secondary") if is_done else "danger",
            )
        )
    out.sort(key=lambda e: e.at, reverse=True)
    return out[: q.limit]


def card(q: EventQuery) -> CardFacts:
    facts = CardFacts()
    if FOLLOWUP not in q.kinds:
        return facts
    now = timezone.now()
    rows = (
        FollowUpTask.objects.for_org(q.org)
        .filter(patient=q.patient, status=TaskStatus.OPEN)
        .order_by("due_at", "id")[:OPEN_SHOWN]
    )
    for t in rows:
        facts.tasks.append(
            CardItem(
                at=t.due_at,
                title=t.get_action_display(),
                detail=t.get_assignee_role_display() or "",
                url="/care/tasks/?who=all",
                tone="danger" if t.due_at <= now else "info",
                overdue=t.due_at <= now,
            )
        )
    return facts


source = TimelineSource(
    kinds={
        FOLLOWUP: Kind(label=gettext_lazy("Follow-up tasks"), permissions=("tasks.view",), icon="checklist")
    },
    events=events,
    card=card,
)
