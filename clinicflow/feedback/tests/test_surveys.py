"""Surveys: the link, the outbox message in the patient's language, answering once, routing."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from clinicflow.booking.models import Appointment, AppointmentStatus
from clinicflow.core.errors import Conflict, ValidationFailed
from clinicflow.feedback.jobs import send_due_surveys
from clinicflow.feedback.models import (
    Complaint,
    ComplaintEvent,
    ComplaintStatus,
    Survey,
    SurveyAnswer,
    SurveyKind,
)
from clinicflow.feedback.services.answers import FAR_BELOW_EXPECTATION, answer_submit, detractor_reasons
from clinicflow.feedback.services.complaints import complaint_change
from clinicflow.feedback.services.surveys import survey_create, surveys_due_for_org, token_hash
from clinicflow.feedback.tests.setup import Visit
from clinicflow.messaging.models import Kind, Message, Purpose

pytestmark = pytest.mark.django_db


def test_survey_link_is_a_128_bit_token_stored_only_hashed(visit: Visit) -> None:
    survey, token = survey_create(org=visit.org, actor=None, appointment=visit.appt)
    assert len(token) >= 22 and re.fullmatch(r"[A-Za-z0-9_-]+", token)  # 16 bytes from secrets, URL-safe
    assert survey.token_hash == token_hash(token) and token not in survey.token_hash
    assert not Survey.objects.filter(token_hash=token).exists()
    assert survey.expires_at > timezone.now() + dt.timedelta(days=13)


def test_survey_goes_through_the_outbox_in_the_patients_language_as_a_service_message(visit: Visit) -> None:
    survey, token = survey_create(org=visit.org, actor=None, appointment=visit.appt)
    msg = Message.objects.for_org(visit.org).get(patient=visit.patient, kind=Kind.SURVEY)
    assert msg.purpose == Purpose.SERVICE
    assert f"/s/{token}/" in msg.body_text
    assert "Оцените" in msg.body_text  # Russian text for a Russian-speaking patient
    survey.refresh_from_db()
    assert survey.sent_at is not None and survey.language == "ru"


def test_survey_needs_a_done_visit(visit: Visit) -> None:
    Appointment.objects.filter(pk=visit.appt.pk).update(status=AppointmentStatus.BOOKED)
    visit.appt.refresh_from_db()
    with pytest.raises(ValidationFailed) as exc:
        survey_create(org=visit.org, actor=None, appointment=visit.appt)
    assert "appointment" in exc.value.fields


def test_second_answer_keeps_the_first(visit: Visit) -> None:
    survey, _token = survey_create(org=visit.org, actor=None, appointment=visit.appt, send=False)
    first = answer_submit(org=visit.org, survey=survey, data={"nps": 10, "csat": 5, "result": 9})
    second = answer_submit(org=visit.org, survey=survey, data={"nps": 0, "csat": 1, "result": 0})
    assert first.first and not second.first
    assert second.answer.pk == first.answer.pk and second.answer.nps == 10
    assert SurveyAnswer.objects.for_org(visit.org).count() == 1
    assert not Complaint.objects.for_org(visit.org).exists()


def test_answer_copies_the_consultation_expectation_and_consultant(visit: Visit) -> None:
    survey, _token = survey_create(org=visit.org, actor=None, appointment=visit.appt, send=False)
    answer = answer_submit(org=visit.org, survey=survey, data={"nps": 8, "csat": 4, "result": 7}).answer
    assert answer.expectation == 8 and answer.consultant_id == visit.doctor.pk


@pytest.mark.parametrize(
    ("data", "opens"),
    [
        ({"nps": 6, "csat": 4, "result": 8}, True),
        ({"nps": 7, "csat": 2, "result": 8}, True),
        ({"nps": 8, "csat": 4, "result": 8 - FAR_BELOW_EXPECTATION}, True),
        ({"nps": 8, "csat": 4, "result": 8 - FAR_BELOW_EXPECTATION + 1}, False),
        ({"nps": 7, "csat": 3}, False),
    ],
)
def test_detractor_opens_a_complaint_for_the_branch_manager(
    visit: Visit, data: dict[str, int], opens: bool
) -> None:
    survey, _token = survey_create(org=visit.org, actor=None, appointment=visit.appt, send=False)
    answer_submit(org=visit.org, survey=survey, data=data)
    complaint = Complaint.objects.for_org(visit.org).first()
    assert (complaint is not None) == opens
    if complaint is not None:
        assert complaint.owner_id == visit.manager.pk
        assert complaint.status == ComplaintStatus.NEW
        assert dt.timedelta(hours=47) < complaint.deadline - timezone.now() <= dt.timedelta(hours=48)
        assert ComplaintEvent.objects.for_org(visit.org).filter(complaint=complaint).count() == 1


def test_detractor_reasons_rules() -> None:
    assert detractor_reasons(nps=9, csat=5, result=None, expectation=9) == []
    assert detractor_reasons(nps=9, csat=5, result=2, expectation=None) == []
    assert detractor_reasons(nps=0, csat=1, result=0, expectation=10) == [
        "NPS 0",
        "CSAT 1",
        "result 0 / expected 10",
    ]


@pytest.mark.parametrize(
    "bad", [{"nps": 11, "csat": 3}, {"nps": 5, "csat": 0}, {"nps": "x", "csat": 3}, {"csat": 3}]
)
def test_answer_validation_names_the_field(visit: Visit, bad: dict[str, object]) -> None:
    survey, _token = survey_create(org=visit.org, actor=None, appointment=visit.appt, send=False)
    with pytest.raises(ValidationFailed) as exc:
        answer_submit(org=visit.org, survey=survey, data=bad)
    assert set(exc.value.fields) <= {"nps", "csat"} and exc.value.fields


def test_complaint_trail(visit: Visit) -> None:
    survey, _token = survey_create(org=visit.org, actor=None, appointment=visit.appt, send=False)
    answer_submit(org=visit.org, survey=survey, data={"nps": 2, "csat": 2})
    complaint = Complaint.objects.for_org(visit.org).get()
    complaint_change(
        org=visit.org, actor=visit.manager, complaint=complaint, status=ComplaintStatus.IN_PROGRESS
    )
    with pytest.raises(ValidationFailed):
        complaint_change(
            org=visit.org, actor=visit.manager, complaint=complaint, status=ComplaintStatus.RESOLVED
        )
    complaint_change(
        org=visit.org,
        actor=visit.manager,
        complaint=complaint,
        status=ComplaintStatus.RESOLVED,
        note="Free re-treatment",
    )
    with pytest.raises(Conflict):
        complaint_change(org=visit.org, actor=visit.manager, complaint=complaint, status=ComplaintStatus.NEW)
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.RESOLVED and complaint.resolution == "Free re-treatment"
    assert complaint.closed_at is not None and not complaint.is_overdue
    trail = list(
        ComplaintEvent.objects.for_org(visit.org)
        .filter(complaint=complaint)
        .values_list("status_to", flat=True)
    )
    assert trail == ["new", "in_progress", "resolved"]
    with pytest.raises(TypeError):
        ComplaintEvent.objects.for_org(visit.org).update(note="x")


def test_overdue_flag(visit: Visit) -> None:
    survey, _token = survey_create(org=visit.org, actor=None, appointment=visit.appt, send=False)
    answer_submit(org=visit.org, survey=survey, data={"nps": 1, "csat": 1})
    Complaint.objects.for_org(visit.org).update(deadline=timezone.now() - dt.timedelta(minutes=1))
    assert Complaint.objects.for_org(visit.org).get().is_overdue


def test_answered_survey_cannot_get_a_new_link(visit: Visit) -> None:
    survey, _token = survey_create(org=visit.org, actor=None, appointment=visit.appt, send=False)
    _again, token2 = survey_create(org=visit.org, actor=None, appointment=visit.appt, send=False)
    assert Survey.objects.get(pk=survey.pk).token_hash == token_hash(token2)  # the old link is replaced
    answer_submit(org=visit.org, survey=survey, data={"nps": 9, "csat": 5})
    with pytest.raises(Conflict):
        survey_create(org=visit.org, actor=None, appointment=visit.appt)


def test_job_sends_due_surveys_once(visit: Visit) -> None:
    summary = send_due_surveys()
    assert "2 after the visit" in summary  # the consultation (2 days ago) and the treatment (5 h ago)
    assert send_due_surveys().startswith("surveys sent: 0 after the visit, 0 settled")
    assert Survey.objects.for_org(visit.org).filter(kind=SurveyKind.AFTER_VISIT).count() == 2
    assert Message.objects.for_org(visit.org).filter(kind=Kind.SURVEY).count() == 2


def test_settled_survey_after_the_service_groups_delay(visit: Visit) -> None:
    now = timezone.now()
    assert surveys_due_for_org(visit.org, now=now + dt.timedelta(days=13)) == (0, 0)
    assert surveys_due_for_org(visit.org, now=now + dt.timedelta(days=14, hours=1)) == (
        0,
        1,
    )  # botulinum: 14 days
    assert surveys_due_for_org(visit.org, now=now + dt.timedelta(days=14, hours=2)) == (0, 0)
    settled = Survey.objects.for_org(visit.org).get(kind=SurveyKind.SETTLED)
    assert settled.appointment_id == visit.appt.pk
