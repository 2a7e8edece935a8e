"""Surveys: created for a done appointment (after the visit, and when the result has settled), the
link sent through the outbox in the patient's language, and the periodic job that does both for
due visits. The link's token (128 random bits) is returned once; only its SHA-256 is stored."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone, translation

from clinicflow.accounts.models import User
from clinicflow.booking.models import Appointment, AppointmentStatus
from clinicflow.booking.services.notify import public_base_url
from clinicflow.core.audit import audit_record
from clinicflow.core.errors import Conflict, ValidationFailed, require_choice
from clinicflow.core.models import AuditAction, Organization
from clinicflow.feedback.models import Survey, SurveyKind
from clinicflow.feedback.selectors import settings as settings_sel
from clinicflow.feedback.selectors import surveys as selectors
from clinicflow.messaging.models import Channel, Kind
from clinicflow.messaging.rendering import language_for
from clinicflow.messaging.services import message_enqueue

TOKEN_BYTES = 16  # 128 bits
JOB_BATCH = 500  # surveys created per organisation and kind in one run of the job
AFTER_VISIT_LOOKBACK = dt.timedelta(days=3)  # a visit older than this gets no after-visit survey
SETTLED_LOOKBACK = dt.timedelta(days=7)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> tuple[str, str]:
    """(token, its hash): 128 random bits, URL-safe."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, token_hash(token)


def survey_url(token: str) -> str:
    return f"{public_base_url()}/s/{token}/"


def _context(survey: Survey, token: str) -> dict[str, Any]:
    with translation.override(survey.language):
        return {
            "survey_url": survey_url(token),
            "doctor": survey.doctor.full_name,
            "branch": survey.branch.display_name,
            "service": survey.service.display_name if survey.service else "",
        }


def survey_send(*, org: Organization, survey: Survey, token: str) -> bool:
    """Queue the link to the patient (SMS, else e-mail): a service message about their own visit, so
    no marketing consent is needed. False when the patient has neither address."""
    context = _context(survey, token)
    for channel in (Channel.SMS, Channel.EMAIL):
        message = message_enqueue(
            org=org,
            patient=survey.patient,
            channel=channel,
            kind=Kind.SURVEY,
            context=context,
            not_after=survey.expires_at,
            dedupe_key=f"survey:{survey.pk}:{token_hash(token)[:16]}",
        )
        if message is not None:
            survey.sent_at = timezone.now()
            survey.save(update_fields=["sent_at"])
            return True
    return False


def _new_survey(org: Organization, appt: Appointment, kind: str, now: dt.datetime) -> tuple[Survey, str]:
    conf = settings_sel.settings_for(org=org)
    token, hashed = new_token()
    survey = Survey(
        organization=org,
        appointment=appt,
        patient=appt.patient,
        doctor=appt.doctor,
        branch=appt.branch,
        service=appt.service,
        kind=kind,
        token_hash=hashed,
        language=language_for(appt.patient.preferred_language),
        created_at=now,
        expires_at=now + dt.timedelta(days=conf.survey_valid_days),
    )
    survey.save(force_insert=True)
    return survey, token


@transaction.atomic
def survey_create(
    *,
    org: Organization,
    actor: User | None,
    appointment: Appointment,
    kind: str = SurveyKind.AFTER_VISIT,
    send: bool = True,
    request: HttpRequest | None = None,
) -> tuple[Survey, str]:
    """A survey for a done appointment and its token (shown once). Asked again for an unanswered
    survey, the token is replaced (the old link stops working); an answered one is a Conflict."""
    require_choice("kind", kind, SurveyKind.values)
    if appointment.status != AppointmentStatus.DONE:
        raise ValidationFailed.field("appointment", "the visit is not done")
    now = timezone.now()
    survey = selectors.survey_for(org=org, appointment_id=appointment.pk, kind=kind)
    if survey is not None:
        survey = Survey.objects.select_for_update().get(pk=survey.pk)
        if survey.answered_at is not None:
            raise Conflict("the survey was answered already", code="survey_answered")
        token, survey.token_hash = new_token()
        conf = settings_sel.settings_for(org=org)
        survey.expires_at = now + dt.timedelta(days=conf.survey_valid_days)
        survey.save(update_fields=["token_hash", "expires_at"])
    else:
        survey, token = _new_survey(org, appointment, kind, now)
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.CREATE,
        object_type="survey",
        object_id=survey.pk,
        request=request,
    )
    if send:
        survey_send(org=org, survey=survey, token=token)
    return survey, token


def _create_due(org: Organization, kind: str, appts: list[Appointment]) -> int:
    made = 0
    now = timezone.now()
    for appt in appts:
        try:
            with transaction.atomic():
                survey, token = _new_survey(org, appt, kind, now)
                survey_send(org=org, survey=survey, token=token)
        except IntegrityError:  # another worker made it first: idempotent
            continue
        made += 1
    return made


def surveys_due_for_org(org: Organization, *, now: dt.datetime | None = None) -> tuple[int, int]:
    """Create and send the organisation's due surveys: after the visit (ended at least the settings'
    delay ago, at most ``AFTER_VISIT_LOOKBACK``) and settled (the service group's delay has passed,
    at most ``SETTLED_LOOKBACK`` ago). Bounded per run; a retry creates nothing twice."""
    now = now or timezone.now()
    conf = settings_sel.settings_for(org=org)
    delay = dt.timedelta(hours=conf.after_visit_delay_hours)
    after = list(
        selectors.appointments_due(
            org=org,
            kind=SurveyKind.AFTER_VISIT,
            ended_from=now - delay - AFTER_VISIT_LOOKBACK,
            ended_to=now - delay,
            categories=None,
        )[:JOB_BATCH]
    )
    made_after = _create_due(org, SurveyKind.AFTER_VISIT, after)
    made_settled = 0
    by_days: dict[int, list[str]] = {}
    for category, days in settings_sel.settled_days(org=org).items():
        by_days.setdefault(days, []).append(category)
    for days, categories in sorted(by_days.items()):
        end = now - dt.timedelta(days=days)
        due = list(
            selectors.appointments_due(
                org=org,
                kind=SurveyKind.SETTLED,
                ended_from=end - SETTLED_LOOKBACK,
                ended_to=end,
                categories=categories,
            )[:JOB_BATCH]
        )
        made_settled += _create_due(org, SurveyKind.SETTLED, due)
    return made_after, made_settled
