"""Answering a survey (the first answer is kept) and routing it: a detractor's answer opens a
complaint for the branch manager; a promoter is shown the branch's review links (the page does)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from clinicflow.core.errors import ValidationFailed
from clinicflow.core.models import Organization
from clinicflow.feedback.models import (
    CSAT_MAX,
    CSAT_MIN,
    DETRACTOR_MAX,
    PROMOTER_MIN,
    Survey,
    SurveyAnswer,
)
from clinicflow.feedback.selectors import settings as settings_sel
from clinicflow.feedback.selectors import surveys as selectors
from clinicflow.feedback.services.complaints import complaint_open

# A result rated this many points (or more) below the expectation recorded at the consultation is
# "far below": the answer is routed as a detractor's, whatever its NPS.
FAR_BELOW_EXPECTATION = 3
CSAT_UNHAPPY_MAX = 2
MAX_COMMENT = 2000


def is_promoter(nps: int) -> bool:
    return nps >= PROMOTER_MIN


def detractor_reasons(*, nps: int, csat: int, result: int | None, expectation: int | None) -> list[str]:
    """Why an answer is a detractor's (empty: it is not): NPS 0-6, CSAT ≤ 2, or the result at least
    ``FAR_BELOW_EXPECTATION`` points below the expectation."""
    reasons = []
    if nps <= DETRACTOR_MAX:
        reasons.append(f"NPS {nps}")
    if csat <= CSAT_UNHAPPY_MAX:
        reasons.append(f"CSAT {csat}")
    if result is not None and expectation is not None and expectation - result >= FAR_BELOW_EXPECTATION:
        reasons.append(f"result {result} / expected {expectation}")
    return reasons


def _int(data: dict[str, Any], name: str, lo: int, hi: int, *, required: bool = True) -> int | None:
    raw = data.get(name)
    if raw is None or raw == "":
        if required:
            raise ValidationFailed.field(name, "required")
        return None
    try:
        value = int(str(raw))
    except ValueError as exc:
        raise ValidationFailed.field(name, f"must be a whole number {lo}-{hi}") from exc
    if not lo <= value <= hi:
        raise ValidationFailed.field(name, f"must be a whole number {lo}-{hi}")
    return value


@dataclass
class Answered:
    answer: SurveyAnswer
    first: bool  # False: the survey was answered before, this is that first answer


def answer_submit(*, org: Organization, survey: Survey, data: dict[str, Any]) -> Answered:
    """Record the answer unless the survey was answered already (then the first answer, untouched).
    ``data``: nps 0-10, csat 1-5, result 0-10 (optional), tags (ids of active tags), comment."""
    nps = _int(data, "nps", 0, 10)
    csat = _int(data, "csat", CSAT_MIN, CSAT_MAX)
    result = _int(data, "result", 0, 10, required=False)
    comment = str(data.get("comment") or "").strip()
    if len(comment) > MAX_COMMENT:
        raise ValidationFailed.field("comment", f"at most {MAX_COMMENT} characters")
    active = {str(t.pk) for t in settings_sel.tag_list(org=org, active_only=True)}
    tags = [str(t) for t in data.get("tags") or []]
    unknown = [t for t in tags if t not in active]
    if unknown:
        raise ValidationFailed.field("tags", "unknown tag")
    assert nps is not None and csat is not None  # required above
    with transaction.atomic():
        locked = Survey.objects.select_for_update().get(pk=survey.pk, organization=org)
        if locked.answered_at is not None:
            first = selectors.answer_of(org=org, survey=locked)
            if first is not None:
                return Answered(first, first=False)
        now = timezone.now()
        consultation = selectors.consultation_before(org=org, patient_id=locked.patient_id, at=now)
        answer = SurveyAnswer.objects.create(
            organization=org,
            survey=locked,
            patient_id=locked.patient_id,
            doctor_id=locked.doctor_id,
            branch_id=locked.branch_id,
            service_id=locked.service_id,
            consultant_id=consultation.doctor_id if consultation else None,
            expectation=consultation.expectation if consultation else None,
            nps=nps,
            csat=csat,
            result=result,
            tags=sorted(set(tags)),
            comment=comment,
            answered_at=now,
        )
        locked.answered_at = now
        locked.save(update_fields=["answered_at"])
        reasons = detractor_reasons(nps=nps, csat=csat, result=result, expectation=answer.expectation)
        if reasons:
            complaint_open(
                org=org,
                patient_id=locked.patient_id,
                branch=locked.branch,
                doctor_id=locked.doctor_id,
                answer=answer,
                reason=", ".join(reasons),
            )
    return Answered(answer, first=True)
