"""Reads of surveys and answers."""

from __future__ import annotations

import datetime as dt
import uuid

from django.db.models import Exists, OuterRef, QuerySet

from clinicflow.booking.models import Appointment, AppointmentStatus
from clinicflow.booking.selectors.base import get_by_id
from clinicflow.clinical.models.consultations import Consultation
from clinicflow.clinical.selectors.consultations import consultation_list
from clinicflow.core.models import Organization
from clinicflow.feedback.models import Survey, SurveyAnswer, SurveyKind

SURVEY_RELATED = ("patient", "doctor", "branch", "service", "organization")


def survey_get(*, org: Organization, survey_id: object) -> Survey:
    """One of the organisation's surveys; ``NotFound`` for any other id."""
    return get_by_id(Survey.objects.for_org(org).select_related(*SURVEY_RELATED), survey_id, "survey")


def survey_by_token_hash(token_hash: str) -> Survey | None:
    """The survey whose token hashes to ``token_hash`` (the public page: the token is the only key,
    the organisation comes from the survey found)."""
    found: Survey | None = (
        Survey.objects.select_related(*SURVEY_RELATED).filter(token_hash=token_hash).first()
    )
    return found


def survey_for(*, org: Organization, appointment_id: uuid.UUID, kind: str) -> Survey | None:
    found: Survey | None = (
        Survey.objects.for_org(org).filter(appointment_id=appointment_id, kind=kind).first()
    )
    return found


def answer_of(*, org: Organization, survey: Survey) -> SurveyAnswer | None:
    found: SurveyAnswer | None = SurveyAnswer.objects.for_org(org).filter(survey=survey).first()
    return found


def appointments_due(
    *,
    org: Organization,
    kind: str,
    ended_from: dt.datetime,
    ended_to: dt.datetime,
    categories: list[str] | None,
) -> QuerySet[Appointment]:
    """Done appointments that ended in [ended_from, ended_to) without a survey of ``kind`` (of the given
    service groups when ``categories`` is not None), oldest first."""
    qs = Appointment.objects.for_org(org).filter(
        status=AppointmentStatus.DONE, end_at__gte=ended_from, end_at__lt=ended_to
    )
    if categories is not None:
        qs = qs.filter(service__category__in=categories)
    has = Survey.objects.filter(organization=org, appointment_id=OuterRef("pk"), kind=kind)
    return (
        qs.annotate(has_survey=Exists(has))
        .filter(has_survey=False)
        .select_related("patient", "doctor", "branch", "service")
        .order_by("end_at", "id")
    )


def consultation_before(*, org: Organization, patient_id: uuid.UUID, at: dt.datetime) -> Consultation | None:
    """The patient's latest consultation recorded up to ``at`` (the clinical selector's list)."""
    _count, page = consultation_list(org=org, patient_id=patient_id, limit=10)
    return next((c for c in page if c.created_at <= at), None)


def patient_surveys(*, org: Organization, patient_id: uuid.UUID, limit: int = 200) -> list[Survey]:
    return list(
        Survey.objects.for_org(org)
        .filter(patient_id=patient_id)
        .select_related("doctor", "service")
        .order_by("-created_at")[:limit]
    )


def patient_answers(*, org: Organization, patient_id: uuid.UUID, limit: int = 200) -> list[SurveyAnswer]:
    return list(
        SurveyAnswer.objects.for_org(org)
        .filter(patient_id=patient_id)
        .select_related("doctor", "survey")
        .order_by("-answered_at")[:limit]
    )


__all__ = [
    "SurveyKind",
    "answer_of",
    "appointments_due",
    "consultation_before",
    "patient_answers",
    "patient_surveys",
    "survey_by_token_hash",
    "survey_for",
    "survey_get",
]
