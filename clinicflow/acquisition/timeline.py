"""Acquisition's part of the patient card (``AcquisitionConfig.timeline``): calls with their channel
and outcome, web sessions with their source and UTM tags, web-form leads and callbacks on the
timeline; the open callbacks in the card's tasks.

Who sees what (``accounts.roles``): calls, leads and callbacks are the front desk's work
(``calls.view``); a web session's source is marketing attribution, so ``acquisition.view`` shows it
too. No row shows a phone number, an e-mail or a lead's message. Each kind is one query on an
org-first ``(organization, patient)`` index (callbacks through their call) with its joins selected.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from clinicflow.acquisition.models import Call, CallbackTask, CallStatus, Lead, LeadMatch, WebSession
from clinicflow.core.names import localized
from clinicflow.patients.timeline import (
    CardFacts,
    CardItem,
    EventQuery,
    Kind,
    TimelineEvent,
    TimelineSource,
    url_maker,
)

CALL, WEB_SESSION, LEAD, CALLBACK = "call", "web_session", "lead", "callback"
CALL_TONES: dict[str, str] = {
    CallStatus.RINGING: "info",
    CallStatus.ANSWERED: "success",
    CallStatus.COMPLETED: "success",
    CallStatus.MISSED: "danger",
}
OPEN_TASKS = 10


def _joined(*parts: object) -> str:
    return " · ".join(str(p) for p in parts if p)


def _minutes(seconds: int | None) -> str:
    return f"{seconds // 60}:{seconds % 60:02d}" if seconds else ""


def _channel(r: dict[str, Any]) -> str:
    return localized(r["channel__name"], r["channel__name_i18n"]) if r["channel__name"] else ""


def _calls(q: EventQuery) -> list[TimelineEvent]:
    # plain rows rather than model instances: the card reads up to 51 calls
    qs = Call.objects.for_org(q.org).filter(patient=q.patient)
    if q.before is not None:
        qs = qs.filter(started_at__lt=q.before)
    columns = (
        "id",
        "started_at",
        "status",
        "duration",
        "source",
        "medium",
        "utm_campaign",
        "channel__name",
        "channel__name_i18n",
        "campaign__name",
    )
    labels = dict(CallStatus.choices)
    call_url = url_maker("acquisition:call_detail")
    out = []
    for r in qs.order_by("-started_at").values(*columns)[: q.limit]:
        source = " / ".join(x for x in (r["source"], r["medium"]) if x)
        out.append(
            TimelineEvent(
                at=r["started_at"],
                kind=CALL,
                title=_("Missed call") if r["status"] == CallStatus.MISSED else _("Call"),
                detail=_joined(
                    _channel(r), source, r["campaign__name"] or r["utm_campaign"], _minutes(r["duration"])
                ),
                status=str(labels.get(r["status"], r["status"])),
                tone=CALL_TONES.get(r["status"], "secondary"),
                url=call_url(r["id"]),
            )
        )
    return out


def _sessions(q: EventQuery) -> list[TimelineEvent]:
    qs = WebSession.objects.for_org(q.org).filter(patient=q.patient)
    if q.before is not None:
        qs = qs.filter(started_at__lt=q.before)
    columns = (
        "started_at",
        "source",
        "medium",
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "utm_content",
        "utm_term",
        "channel__name",
        "channel__name_i18n",
        "campaign__name",
    )
    out = []
    for r in qs.order_by("-started_at").values(*columns)[: q.limit]:
        source = " / ".join(x for x in (r["utm_source"] or r["source"], r["utm_medium"] or r["medium"]) if x)
        channel = _channel(r)
        out.append(
            TimelineEvent(
                at=r["started_at"],
                kind=WEB_SESSION,
                title=_("Website visit"),
                detail=_joined(
                    channel, source, r["campaign__name"] or r["utm_campaign"], r["utm_content"], r["utm_term"]
                ),
                tone="info",
            )
        )
    return out


def _leads(q: EventQuery) -> list[TimelineEvent]:
    qs = Lead.objects.for_org(q.org).filter(patient=q.patient)
    if q.before is not None:
        qs = qs.filter(created_at__lt=q.before)
    labels = dict(LeadMatch.choices)
    out = []
    for lead in qs.select_related("channel", "campaign").order_by("-created_at")[: q.limit]:
        source = " / ".join(x for x in (lead.source, lead.medium) if x)
        out.append(
            TimelineEvent(
                at=lead.created_at,
                kind=LEAD,
                title=_("Web form request"),
                detail=_joined(lead.channel, source, lead.campaign.name if lead.campaign else ""),
                status=str(labels.get(lead.match, lead.match)),
                tone="info",
                url=reverse("acquisition:leads"),
            )
        )
    return out


def _callback_state(task: CallbackTask) -> tuple[str, str]:
    if task.done_at is not None:
        return _("Done"), "success"
    if task.due_at < timezone.now():
        return _("Overdue"), "danger"
    return pgettext("callback state", "Open"), "warning"


def _callbacks(q: EventQuery) -> list[TimelineEvent]:
    # a callback belongs to the patient through its call: the call's (organization, patient) index
    qs = CallbackTask.objects.for_org(q.org).filter(call__organization=q.org, call__patient=q.patient)
    if q.before is not None:
        qs = qs.filter(created_at__lt=q.before)
    out = []
    call_url = url_maker("acquisition:call_detail")
    for task in qs.order_by("-created_at")[: q.limit]:
        status, tone = _callback_state(task)
        out.append(
            TimelineEvent(
                at=task.created_at,
                kind=CALLBACK,
                title=_("Callback of a missed call"),
                detail=task.outcome,
                status=status,
                tone=tone,
                url=call_url(task.call_id),
            )
        )
    return out


def events(q: EventQuery) -> list[TimelineEvent]:
    out: list[TimelineEvent] = []
    if CALL in q.kinds:
        out += _calls(q)
    if WEB_SESSION in q.kinds:
        out += _sessions(q)
    if LEAD in q.kinds:
        out += _leads(q)
    if CALLBACK in q.kinds:
        out += _callbacks(q)
    return out


def card(q: EventQuery) -> CardFacts:
    """The patient's open callbacks, earliest deadline first."""
    facts = CardFacts()
    if CALLBACK not in q.kinds:
        return facts
    now = timezone.now()
    open_tasks = (
        CallbackTask.objects.for_org(q.org)
        .filter(call__organization=q.org, call__patient=q.patient, done_at__isnull=True)
        .order_by("due_at", "pk")[:OPEN_TASKS]
    )
    call_url = url_maker("acquisition:call_detail")
    facts.tasks = [
        CardItem(
            at=task.due_at,
            title=_("Call back"),
            url=call_url(task.call_id),
            tone="danger" if task.due_at < now else "warning",
            overdue=task.due_at < now,
        )
        for task in open_tasks
    ]
    return facts


source = TimelineSource(
    kinds={
        CALL: Kind(label=gettext_lazy("Calls"), permissions=("calls.view",), icon="phone"),
        WEB_SESSION: Kind(
            label=gettext_lazy("Website visits"), permissions=("calls.view", "acquisition.view"), icon="world"
        ),
        LEAD: Kind(label=gettext_lazy("Web form requests"), permissions=("calls.view",), icon="forms"),
        CALLBACK: Kind(label=gettext_lazy("Callbacks"), permissions=("calls.view",), icon="phone-call"),
    },
    events=events,
    card=card,
)
