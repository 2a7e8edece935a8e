"""The retention job: per organisation, what has passed its period is pseudonymised or deleted, in
bounded batches; a dry run only counts. Each run is recorded (``RetentionRun``: the destruction act).

- call recordings: the link of a call older than the period is emptied (the call's row, times,
  status and attribution stay: the reports count them);
- web sessions: client ids, click ids, referrer and landing page of sessions last seen before the
  period (and not held) are emptied; channel and campaign stay;
- marketing data of lapsed patients (no visit within the period, card older than it): stored
  predictions are deleted; marketing messages older than the period lose recipient and text.

Medical and accounting records are never touched here: they are append-only and held for the
statutory period; the run counts those past it (``*_past_period``) for a manual destruction review."""

from __future__ import annotations

import datetime as dt

from django.db import models, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from clinicflow.acquisition.models import Call, WebSession
from clinicflow.booking.models import Appointment, Payment
from clinicflow.core.models import Organization
from clinicflow.messaging.models import Message, Purpose
from clinicflow.patients.models import Patient, PatientPrediction
from clinicflow.privacy.models import RetentionRun
from clinicflow.privacy.retention.periods import (
    ACCOUNTING,
    CALL_RECORDING,
    MARKETING,
    MEDICAL,
    WEB_SESSION,
    period_days,
)

BATCH = 5000


def _cutoff(org: Organization, kind: str, now: dt.datetime) -> dt.datetime:
    return now - dt.timedelta(days=period_days(org, kind))


def _apply(qs: models.QuerySet[models.Model], dry_run: bool, **values: object) -> int:
    if dry_run:
        return qs.count()
    ids = list(qs.values_list("pk", flat=True)[:BATCH])
    return qs.model._default_manager.filter(pk__in=ids).update(**values) if ids else 0


def _lapsed(org: Organization, cutoff: dt.datetime) -> models.QuerySet[Patient]:
    recent = Appointment.objects.for_org(org).filter(patient=OuterRef("pk"), start_at__gte=cutoff)
    return Patient.objects.for_org(org).filter(created_at__lt=cutoff).exclude(Exists(recent))


def retention_run(*, org: Organization, dry_run: bool, now: dt.datetime | None = None) -> RetentionRun:
    now = now or timezone.now()
    counts: dict[str, int] = {}
    with transaction.atomic():
        cut = _cutoff(org, CALL_RECORDING, now)
        calls = Call.objects.for_org(org).filter(started_at__lt=cut).exclude(recording_url="")
        counts["call_recording_links"] = _apply(calls, dry_run, recording_url="")
        cut = _cutoff(org, WEB_SESSION, now)
        sessions = (
            WebSession.objects.for_org(org)
            .filter(last_seen_at__lt=cut)
            .filter(Q(held_until__isnull=True) | Q(held_until__lt=now))
            .filter(~Q(client_id="") | ~Q(gclid="") | ~Q(yclid="") | ~Q(referrer=""))
        )
        counts["web_sessions"] = _apply(
            sessions, dry_run, client_id="", gclid="", yclid="", referrer="", landing_page=""
        )
        cut = _cutoff(org, MARKETING, now)
        lapsed = _lapsed(org, cut)
        predictions = PatientPrediction.objects.for_org(org).filter(patient__in=lapsed)
        if dry_run:
            counts["marketing_predictions"] = predictions.count()
        else:
            ids = list(predictions.values_list("pk", flat=True)[:BATCH])
            counts["marketing_predictions"] = PatientPrediction.objects.filter(pk__in=ids).delete()[0]
        messages = (
            Message.objects.for_org(org)
            .filter(purpose=Purpose.MARKETING, created_at__lt=cut, patient__in=lapsed)
            .exclude(body_text="")
        )
        counts["marketing_messages"] = _apply(
            messages, dry_run, to="", subject="", body_text="", body_html="", context={}
        )
        counts["medical_past_period"] = (
            Appointment.objects.for_org(org).filter(start_at__lt=_cutoff(org, MEDICAL, now)).count()
        )
        counts["accounting_past_period"] = (
            Payment.objects.for_org(org).filter(paid_at__lt=_cutoff(org, ACCOUNTING, now)).count()
        )
        run = RetentionRun.objects.create(organization=org, started_at=now, dry_run=dry_run, counts=counts)
    return run
