"""Messaging's part of the patient card (``MessagingConfig.timeline``): the messages written to the
patient, with their channel, kind and delivery status.

Who sees what (``accounts.roles``): the messages list is ``messaging.view``; on a card, a role that
may see the patient's contacts (``patients.view_contacts``: the front desk and the doctors too) sees
that a message went out and how. The text of a message about a visit (a confirmation, a reminder, a
thank-you, a survey, a recall: they name the service) is shown only with ``patients.view_clinical``;
a booking code's text never. No row shows the recipient's address. One query on the
``(organization, patient, created_at)`` index.
"""

from __future__ import annotations

from django.utils.text import Truncator
from django.utils.translation import gettext_lazy

from clinicflow.messaging.models import Channel, Kind, Message, Status
from clinicflow.patients.timeline import EventQuery, TimelineEvent, TimelineSource
from clinicflow.patients.timeline import Kind as EventKind

MESSAGE = "message"
# kinds whose text names a visit or a service: clinical character
CLINICAL_KINDS = frozenset(
    {
        Kind.APPOINTMENT_CONFIRMATION,
        Kind.APPOINTMENT_CHANGED,
        Kind.APPOINTMENT_CANCELLED,
        Kind.APPOINTMENT_REMINDER,
        Kind.THANK_YOU,
        Kind.SURVEY,
        Kind.RECALL,
    }
)
NO_TEXT_KINDS = frozenset({Kind.BOOKING_CODE})
TONES: dict[str, str] = {
    Status.QUEUED: "info",
    Status.SENDING: "info",
    Status.SENT: "success",
    Status.FAILED: "danger",
    Status.CANCELLED: "secondary",
    Status.UNKNOWN: "warning",
}
EXCERPT = 140


def _excerpt(kind: str, subject: str, body: str, clinical: bool) -> tuple[str, bool]:
    """(text, sensitive): the subject or the start of the text, when the viewer may read it."""
    if kind in NO_TEXT_KINDS:
        return "", False
    sensitive = kind in CLINICAL_KINDS
    if sensitive and not clinical:
        return "", False
    text = subject or body
    return Truncator(" ".join(text.split())).chars(EXCERPT), sensitive and bool(text)


def events(q: EventQuery) -> list[TimelineEvent]:
    if MESSAGE not in q.kinds:
        return []
    qs = Message.objects.for_org(q.org).filter(patient=q.patient)
    if q.before is not None:
        qs = qs.filter(created_at__lt=q.before)
    clinical = q.viewer.clinical
    columns = ("created_at", "kind", "channel", "status", "subject", "body_text")
    kinds, channels, statuses = dict(Kind.choices), dict(Channel.choices), dict(Status.choices)
    out = []
    for r in qs.order_by("-created_at").values(*columns)[: q.limit]:
        text, sensitive = _excerpt(r["kind"], r["subject"], r["body_text"], clinical)
        out.append(
            TimelineEvent(
                at=r["created_at"],
                kind=MESSAGE,
                title=str(kinds.get(r["kind"], r["kind"])),
                detail=" · ".join(x for x in (str(channels.get(r["channel"], r["channel"])), text) if x),
                status=str(statuses.get(r["status"], r["status"])),
                tone=TONES.get(r["status"], "secondary"),
                sensitive=sensitive,
            )
        )
    return out


source = TimelineSource(
    kinds={
        MESSAGE: EventKind(
            label=gettext_lazy("Messages"),
            permissions=("messaging.view", "patients.view_contacts"),
            icon="message",
        ),
    },
    events=events,
)
