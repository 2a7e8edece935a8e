"""The simulator writes its answered surveys through the feedback models: surveys, answers with the
consultant and the consultation's expectation, complaints for detractors."""

from __future__ import annotations

import pytest

from clinicflow.clinical.models.consultations import Consultation
from clinicflow.core.models import Organization
from clinicflow.feedback.models import Complaint, ComplaintEvent, ComplaintStatus, Survey, SurveyAnswer
from clinicflow.feedback.services.answers import detractor_reasons
from clinicflow.simulator.runner import simulate_org
from clinicflow.simulator.scenario import load_scenario

SMALL = {"clinic": {"months": 3, "demand_factor": 1.0}}


@pytest.mark.django_db
def test_simulated_surveys_answers_and_complaints(org: Organization) -> None:
    result = simulate_org(org=org, scenario=load_scenario("mid", overrides=SMALL), seed=5)
    surveys = Survey.objects.for_org(org)
    answers = SurveyAnswer.objects.for_org(org)
    assert surveys.count() == answers.count() == result.rows["feedback.Survey"] > 100
    assert not surveys.filter(answered_at__isnull=True).exists()
    a = answers.filter(consultant__isnull=False).select_related("survey").first()
    assert a is not None and a.survey.patient_id == a.patient_id
    consultation = (
        Consultation.objects.for_org(org).filter(patient_id=a.patient_id).order_by("created_at").first()
    )
    assert consultation is not None
    assert consultation.doctor_id == a.consultant_id and consultation.expectation == a.expectation
    # the product's routing rule decides which answers have a complaint
    complained = set(Complaint.objects.for_org(org).values_list("answer_id", flat=True))
    for ans in answers.only("id", "nps", "csat", "result", "expectation"):
        routed = bool(
            detractor_reasons(nps=ans.nps, csat=ans.csat, result=ans.result, expectation=ans.expectation)
        )
        assert (ans.pk in complained) == routed
    resolved = Complaint.objects.for_org(org).filter(status=ComplaintStatus.RESOLVED)
    assert resolved.exists() and not resolved.filter(closed_at__isnull=True).exists()
    assert (
        ComplaintEvent.objects.for_org(org).count()
        == Complaint.objects.for_org(org).count() + resolved.count()
    )
    # a second run with reset leaves only the new run's rows
    simulate_org(org=org, scenario=load_scenario("mid", overrides=SMALL), seed=6, reset=True)
    assert Survey.objects.for_org(org).count() == SurveyAnswer.objects.for_org(org).count()
