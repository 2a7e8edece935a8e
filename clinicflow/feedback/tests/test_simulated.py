"""The simulator writes every sent survey through the feedback models: the answered ones with their
answer (the consultant and the consultation's expectation, improvement tags), complaints for
detractors; the organisation's default tags and review-site links per branch."""

from __future__ import annotations

import pytest

from clinicflow.clinical.models.consultations import Consultation
from clinicflow.core.models import Branch, Organization
from clinicflow.feedback.models import (
    DEFAULT_SETTLED_DAYS,
    Complaint,
    ComplaintEvent,
    ComplaintStatus,
    ImprovementTag,
    ReviewLink,
    Survey,
    SurveyAnswer,
)
from clinicflow.feedback.services.answers import detractor_reasons
from clinicflow.feedback.services.settings import DEFAULT_TAGS
from clinicflow.simulator.engine.visits import SETTLED_DAYS, TAGS
from clinicflow.simulator.runner import simulate_org
from clinicflow.simulator.scenario import load_scenario

SMALL = {"clinic": {"months": 3, "demand_factor": 1.0}}


def test_the_engine_uses_the_feedback_apps_defaults() -> None:
    assert {str(k): v for k, v in DEFAULT_SETTLED_DAYS.items()} == SETTLED_DAYS
    assert tuple(key for key, _label in DEFAULT_TAGS) == TAGS


@pytest.mark.django_db
def test_simulated_surveys_answers_and_complaints(org: Organization) -> None:
    result = simulate_org(org=org, scenario=load_scenario("mid", overrides=SMALL), seed=5)
    surveys = Survey.objects.for_org(org)
    answers = SurveyAnswer.objects.for_org(org)
    assert surveys.count() == result.rows["feedback.Survey"] > 2 * answers.count() > 100
    assert answers.count() == surveys.filter(answered_at__isnull=False).count()
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
    assert SurveyAnswer.objects.for_org(org).count() == (
        Survey.objects.for_org(org).filter(answered_at__isnull=False).count()
    )


@pytest.mark.django_db
def test_simulated_answers_carry_improvement_tags_and_branches_review_links(org: Organization) -> None:
    simulate_org(org=org, scenario=load_scenario("mid", overrides=SMALL), seed=5)
    tags = {str(t.pk): t.label for t in ImprovementTag.objects.for_org(org)}
    assert len(tags) == len(DEFAULT_TAGS)
    assert "Waiting time" in tags.values() or "Время ожидания" in tags.values()
    rows = list(SurveyAnswer.objects.for_org(org).values_list("nps", "result", "expectation", "tags"))
    assert all(set(t) <= set(tags) for *_x, t in rows)
    assert not any(t for nps, _r, _e, t in rows if nps >= 9)  # promoters tick nothing
    unhappy = [(r, e, set(t)) for nps, r, e, t in rows if nps <= 6]
    assert sum(1 for *_x, t in unhappy if t) > 0.5 * len(unhappy)
    # "the result" is ticked more often where the result fell below the expectation
    result_tag = next(k for k, v in tags.items() if v in ("The result", "Результат"))
    below = [result_tag in t for r, e, t in unhappy if e is not None and r < e - 1]
    other = [result_tag in t for r, e, t in unhappy if e is not None and r >= e]
    assert below and other and sum(below) / len(below) > sum(other) / len(other) + 0.2
    for branch in Branch.objects.for_org(org):
        links = ReviewLink.objects.for_org(org).filter(branch=branch)
        assert links.exists() and all(link.url.startswith("https://") for link in links)
