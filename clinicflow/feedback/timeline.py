"""The feedback app's part of the patient card (``FeedbackConfig.timeline``): surveys sent, the
patient's answers (NPS, CSAT, the result against the expectation; the comment is clinical in
character) and complaints with their status.

Who sees what (``accounts.roles``): surveys and answers need ``feedback.view``, complaints
``complaints.manage``; an answer's comment is ``sensitive`` (shown with ``patients.view_clinical``).
Each kind is one query on an org-first ``(organization, patient, ...)`` index."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clinicflow.feedback.models import (
    DETRACTOR_MAX,
    PROMOTER_MIN,
    Complaint,
    ComplaintStatus,
    Survey,
    SurveyAnswer,
    SurveyKind,
)
from clinicflow.patients.timeline import EventQuery, Kind, TimelineEvent, TimelineSource

SURVEY, ANSWER, COMPLAINT = "survey", "survey_answer", "complaint"
TONES: dict[str, str] = {
    ComplaintStatus.NEW: "danger",
    ComplaintStatus.IN_PROGRESS: "warning",
    ComplaintStatus.RESOLVED: "success",
    ComplaintStatus.CLOSED: "secondary",
}


def _surveys(q: EventQuery) -> list[TimelineEvent]:
    qs = Survey.objects.for_org(q.org).filter(patient=q.patient)
    if q.before is not None:
        qs = qs.filter(created_at__lt=q.before)
    kinds = dict(SurveyKind.choices)
    return [
        TimelineEvent(
            at=s.created_at,
            kind=SURVEY,
            title=_("Survey sent: %(kind)s") % {"kind": kinds.get(s.kind, s.kind)},
            detail=s.doctor.full_name,
            status=_("Answered") if s.answered_at else (_("Expired") if s.is_expired() else _("Waiting")),
            tone="success" if s.answered_at else "secondary",
        )
        for s in qs.select_related("doctor").order_by("-created_at")[: q.limit]
    ]


def _tone(nps: int) -> str:
    return "success" if nps >= PROMOTER_MIN else ("danger" if nps <= DETRACTOR_MAX else "warning")


def _answers(q: EventQuery) -> list[TimelineEvent]:
    qs = SurveyAnswer.objects.for_org(q.org).filter(patient=q.patient)
    if q.before is not None:
        qs = qs.filter(answered_at__lt=q.before)
    clinical = q.viewer.clinical
    out = []
    for a in qs.select_related("doctor").order_by("-answered_at")[: q.limit]:
        parts = [f"NPS {a.nps}", f"CSAT {a.csat}"]
        if a.result is not None:
            parts.append(_("result %(result)s/10") % {"result": a.result})
        if clinical and a.comment:
            parts.append(a.comment[:140])
        out.append(
            TimelineEvent(
                at=a.answered_at,
                kind=ANSWER,
                title=_("Survey answer: %(doctor)s") % {"doctor": a.doctor.full_name},
                detail=" · ".join(parts),
                status=str(a.nps),
                tone=_tone(a.nps),
                sensitive=bool(clinical and a.comment),
            )
        )
    return out


def _complaints(q: EventQuery) -> list[TimelineEvent]:
    qs = Complaint.objects.for_org(q.org).filter(patient=q.patient)
    if q.before is not None:
        qs = qs.filter(created_at__lt=q.before)
    return [
        TimelineEvent(
            at=c.created_at,
            kind=COMPLAINT,
            title=_("Complaint: %(reason)s") % {"reason": c.reason},
            status=c.get_status_display(),
            tone=TONES.get(c.status, "secondary"),
            url=reverse("feedback:complaint", args=[c.pk]),
        )
        for c in qs.order_by("-created_at")[: q.limit]
    ]


def events(q: EventQuery) -> list[TimelineEvent]:
    out: list[TimelineEvent] = []
    if SURVEY in q.kinds:
        out += _surveys(q)
    if ANSWER in q.kinds:
        out += _answers(q)
    if COMPLAINT in q.kinds:
        out += _complaints(q)
    return out


source = TimelineSource(
    kinds={
        SURVEY: Kind(label=gettext_lazy("Surveys"), permissions=("feedback.view",), icon="forms"),
        ANSWER: Kind(label=gettext_lazy("Survey answers"), permissions=("feedback.view",), icon="mood-smile"),
        COMPLAINT: Kind(
            label=gettext_lazy("Complaints"), permissions=("complaints.manage",), icon="alert-triangle"
        ),
    },
    events=events,
)
