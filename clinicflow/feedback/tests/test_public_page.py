"""The public survey page /s/<token>/: no data before the token checks out, clear pages for unknown
and expired links, the patient's language, CSRF, the rate limit, the promoter's review links."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.cache import caches
from django.test import Client
from django.utils import timezone

from clinicflow.feedback.models import Complaint, Survey, SurveyAnswer
from clinicflow.feedback.services.settings import review_link_add, tag_add
from clinicflow.feedback.services.surveys import survey_create
from clinicflow.feedback.tests.setup import Visit
from clinicflow.feedback.views.public import MISSES_PER_IP

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_limits() -> None:
    caches["default"].clear()


def _link(visit: Visit) -> str:
    _survey, token = survey_create(org=visit.org, actor=None, appointment=visit.appt, send=False)
    return f"/s/{token}/"


def test_unknown_token_shows_a_clear_page_without_any_data(visit: Visit, client: Client) -> None:
    r = client.get("/s/not-a-real-token-at-all/")
    assert r.status_code == 404
    body = r.content.decode()
    assert "Survey not found" in body
    for secret in (visit.patient.full_name, visit.doctor.full_name, visit.branch.name, "Demo Aesthetic"):
        assert secret not in body


def test_expired_token_is_a_clear_page(visit: Visit, client: Client) -> None:
    url = _link(visit)
    Survey.objects.for_org(visit.org).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    r = client.get(url)
    assert r.status_code == 404  # SECURITY CR-04, with the clear page
    assert "истёк" in r.content.decode()  # the patient's language (Russian)
    assert visit.patient.full_name not in r.content.decode()


def test_page_in_the_patients_language_with_labels(visit: Visit, client: Client) -> None:
    tag_add(org=visit.org, actor=None, label="Waiting time")
    r = client.get(_link(visit))
    body = r.content.decode()
    assert r.status_code == 200
    assert 'lang="ru"' in body
    assert 'for="nps-10"' in body and 'id="nps-10"' in body and "<legend" in body
    assert 'for="comment"' in body and "Waiting time" in body
    assert r["Cache-Control"] == "no-store"


def test_answer_then_second_answer_says_so(visit: Visit, client: Client) -> None:
    url = _link(visit)
    client.get(url)
    r = client.post(url, {"nps": "3", "csat": "2", "result": "4", "comment": "Долго ждала"})
    assert r.status_code == 200
    r2 = client.post(url, {"nps": "10", "csat": "5"})
    assert "первый ответ" in r2.content.decode()
    answer = SurveyAnswer.objects.for_org(visit.org).get()
    assert answer.nps == 3 and answer.comment == "Долго ждала"
    assert Complaint.objects.for_org(visit.org).count() == 1


def test_invalid_answer_redisplays_the_form(visit: Visit, client: Client) -> None:
    url = _link(visit)
    r = client.post(url, {"nps": "12", "csat": "2"})
    assert r.status_code == 422
    assert 'id="nps-error"' in r.content.decode()
    assert not SurveyAnswer.objects.for_org(visit.org).exists()


def test_post_without_csrf_token_is_refused(visit: Visit) -> None:
    url = _link(visit)
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(url, {"nps": "9", "csat": "5"}).status_code == 403
    page = strict.get(url)
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    assert found is not None
    token = found.group(1)
    assert strict.post(url, {"nps": "9", "csat": "5", "csrfmiddlewaretoken": token}).status_code == 200


def test_promoter_sees_the_branch_review_links(visit: Visit, client: Client) -> None:
    review_link_add(
        org=visit.org, actor=None, branch=visit.branch, site="Yandex Maps", url="https://yandex.ru/maps/org/1"
    )
    url = _link(visit)
    body = client.post(url, {"nps": "10", "csat": "5", "result": "9"}).content.decode()
    assert "https://yandex.ru/maps/org/1" in body and 'rel="noopener noreferrer"' in body


def test_passive_does_not_see_review_links(visit: Visit, client: Client) -> None:
    review_link_add(
        org=visit.org, actor=None, branch=visit.branch, site="Yandex Maps", url="https://yandex.ru/maps/org/1"
    )
    body = client.post(_link(visit), {"nps": "8", "csat": "4"}).content.decode()
    assert "yandex.ru" not in body


def test_guessing_tokens_is_rate_limited(visit: Visit, client: Client) -> None:
    url = _link(visit)
    limit = MISSES_PER_IP[0]
    codes = [client.get(f"/s/guess-{i}/").status_code for i in range(limit + 1)]
    assert codes[:limit] == [404] * limit and codes[-1] == 429
    # even the right link waits once the address guessed too often
    assert client.get("/s/guess-again/").status_code == 429
    assert client.get(url).status_code == 200  # a valid token is not a miss
