"""The API (surveys, complaints) and the staff pages (complaints, settings): permissions, tenant
isolation (404 for another organisation's ids), the status trail."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from clinicflow.booking.tests.factories import make_patient
from clinicflow.core.models import Branch, Organization
from clinicflow.feedback.models import Complaint, ComplaintStatus, ImprovementTag, ReviewLink, SettledDelay
from clinicflow.feedback.services.answers import answer_submit
from clinicflow.feedback.services.surveys import survey_create
from clinicflow.feedback.tests.setup import Visit, make_visit

pytestmark = pytest.mark.django_db
Api = Callable[[str], Client]


def _post(client: Client, url: str, data: dict[str, Any]) -> Any:
    return client.post(url, json.dumps(data), content_type="application/json")


def test_post_survey_answers_with_the_link_and_get_shows_the_answer(visit: Visit, api: Api) -> None:
    r = _post(api("frontdesk"), "/api/v1/surveys", {"appointment": str(visit.appt.pk), "send": False})
    assert r.status_code == 201, r.content
    body = r.json()
    assert "/s/" in body["link"] and body["answered_at"] is None
    token = body["link"].rstrip("/").rsplit("/", 1)[1]
    assert Client().post(f"/s/{token}/", {"nps": "9", "csat": "5", "result": "8"}).status_code == 200
    got = api("manager").get(f"/api/v1/surveys/{body['id']}").json()
    assert got["answer"]["nps"] == 9 and got["answer"]["expectation"] == 8
    assert "link" not in got
    again = _post(api("frontdesk"), "/api/v1/surveys", {"appointment": str(visit.appt.pk)})
    assert again.status_code == 409


def test_survey_api_refuses_a_not_done_visit_and_bad_kind(visit: Visit, api: Api) -> None:
    r = _post(api("owner"), "/api/v1/surveys", {"appointment": str(visit.appt.pk), "kind": "weekly"})
    assert r.status_code == 422 and "kind" in r.json()["error"]["fields"]


def test_marketer_may_not_create_surveys_or_see_complaints(visit: Visit, api: Api) -> None:
    assert _post(api("marketer"), "/api/v1/surveys", {"appointment": str(visit.appt.pk)}).status_code == 403
    assert api("marketer").get("/api/v1/complaints").status_code == 403
    assert api("doctor").get("/api/v1/complaints").status_code == 403


def _other_world(other_org: Organization, other_branch: Branch, users: Any) -> tuple[str, str, str]:
    other = make_visit(other_org, other_branch, {"manager": users["outsider"]}, phone="+8613912345678")
    survey, _token = survey_create(org=other_org, actor=None, appointment=other.appt, send=False)
    answer_submit(org=other_org, survey=survey, data={"nps": 0, "csat": 1})
    complaint = Complaint.objects.for_org(other_org).get()
    return str(survey.pk), str(complaint.pk), str(other.appt.pk)


def test_other_organisations_ids_answer_404(
    visit: Visit,
    other_org: Organization,
    other_branch: Branch,
    users: Any,
    api: Api,
    web: Callable[[str], Client],
) -> None:
    survey_id, complaint_id, appt_id = _other_world(other_org, other_branch, users)
    owner = api("owner")
    assert owner.get(f"/api/v1/surveys/{survey_id}").status_code == 404
    assert (
        _post(owner, f"/api/v1/complaints/{complaint_id}/status", {"status": "in_progress"}).status_code
        == 404
    )
    assert _post(owner, "/api/v1/surveys", {"appointment": appt_id}).status_code == 404
    assert owner.get("/api/v1/complaints?view=all").json()["count"] == 0
    assert web("owner").get(f"/feedback/complaints/{complaint_id}/").status_code == 404
    assert web("owner").post(f"/feedback/complaints/{complaint_id}/", {"status": "closed"}).status_code == 404
    assert Complaint.objects.for_org(other_org).get().status == ComplaintStatus.NEW


def test_complaint_api_list_and_status_trail(visit: Visit, api: Api) -> None:
    survey, _token = survey_create(org=visit.org, actor=None, appointment=visit.appt, send=False)
    answer_submit(org=visit.org, survey=survey, data={"nps": 4, "csat": 3})
    manager = api("manager")
    items = manager.get("/api/v1/complaints").json()["items"]
    assert len(items) == 1 and items[0]["owner"] == str(visit.manager.pk) and not items[0]["overdue"]
    cid = items[0]["id"]
    assert _post(manager, f"/api/v1/complaints/{cid}/status", {"status": "in_progress"}).json()["status"] == (
        "in_progress"
    )
    r = _post(manager, f"/api/v1/complaints/{cid}/status", {"status": "closed"})
    assert r.status_code == 422 and "note" in r.json()["error"]["fields"]
    r = _post(manager, f"/api/v1/complaints/{cid}/status", {"status": "resolved", "note": "Refunded"})
    assert r.json()["status"] == "resolved" and r.json()["resolution"] == "Refunded"
    assert _post(manager, f"/api/v1/complaints/{cid}/status", {"status": "new"}).status_code == 409
    assert manager.get("/api/v1/complaints?view=resolved").json()["count"] == 1


def test_complaints_page_lists_with_deadline_and_moves_status(
    visit: Visit, web: Callable[[str], Client]
) -> None:
    survey, _token = survey_create(org=visit.org, actor=None, appointment=visit.appt, send=False)
    answer_submit(org=visit.org, survey=survey, data={"nps": 2, "csat": 2})
    complaint = Complaint.objects.for_org(visit.org).get()
    page = web("manager").get("/feedback/complaints/")
    assert page.status_code == 200
    assert visit.patient.last_name in page.content.decode() and "NPS 2" in page.content.decode()
    assert web("frontdesk").get("/feedback/complaints/").status_code == 403
    r = web("manager").post(
        f"/feedback/complaints/{complaint.pk}/", {"status": "in_progress", "note": "Calling"}
    )
    assert r.status_code == 302
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.IN_PROGRESS
    detail = web("manager").get(f"/feedback/complaints/{complaint.pk}/").content.decode()
    assert "Calling" in detail


def test_settings_page_edits_tags_links_and_delays(visit: Visit, web: Callable[[str], Client]) -> None:
    client = web("manager")
    assert client.get("/feedback/settings/").status_code == 200
    client.post("/feedback/settings/", {"action": "tag_add", "label": "Waiting time"})
    client.post(
        "/feedback/settings/",
        {
            "action": "link_add",
            "branch": str(visit.branch.pk),
            "site": "2GIS",
            "url": "https://2gis.ru/firm/1",
        },
    )
    client.post(
        "/feedback/settings/",
        {"action": "link_add", "branch": str(visit.branch.pk), "site": "x", "url": "javascript:alert(1)"},
    )
    client.post("/feedback/settings/", {"action": "delay", "category": "laser", "days": "45"})
    client.post(
        "/feedback/settings/",
        {
            "action": "timings",
            "survey_valid_days": "7",
            "complaint_deadline_hours": "24",
            "after_visit_delay_hours": "1",
        },
    )
    assert list(ImprovementTag.objects.for_org(visit.org).values_list("label", flat=True)) == ["Waiting time"]
    assert list(ReviewLink.objects.for_org(visit.org).values_list("url", flat=True)) == [
        "https://2gis.ru/firm/1"
    ]
    assert SettledDelay.objects.for_org(visit.org).get(category="laser").days == 45
    assert web("frontdesk").get("/feedback/settings/").status_code == 403


def test_patient_card_timeline_shows_survey_answer_and_complaint(
    visit: Visit, web: Callable[[str], Client]
) -> None:
    survey, _token = survey_create(org=visit.org, actor=None, appointment=visit.appt, send=False)
    answer_submit(org=visit.org, survey=survey, data={"nps": 3, "csat": 2, "comment": "Private remark"})
    owner_page = web("owner").get(f"/patients/{visit.patient.pk}/").content.decode()
    assert "NPS 3" in owner_page and "Private remark" in owner_page and "Complaint" in owner_page
    frontdesk_page = web("frontdesk").get(f"/patients/{visit.patient.pk}/").content.decode()
    assert "NPS 3" in frontdesk_page and "Private remark" not in frontdesk_page
    marketer = web("marketer").get(f"/patients/{visit.patient.pk}/").content.decode()
    assert "NPS 3" not in marketer


def test_unused_patient_has_no_feedback_rows(
    org: Organization, web: Callable[[str], Client], users: Any
) -> None:
    patient = make_patient(org, phone="+79160000001")
    page = web("owner").get(f"/patients/{patient.pk}/").content.decode()
    assert "NPS" not in page
