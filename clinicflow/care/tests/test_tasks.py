"""The task list (API and page): a person's and a role's tasks, today / overdue / done, outcomes, the
missed-call callbacks beside them, and 404 for another organisation's task."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from clinicflow.accounts.models import User
from clinicflow.acquisition.models import Call, CallbackTask
from clinicflow.care.models import FollowUpTask
from clinicflow.care.services.generation import followups_generate_for
from clinicflow.care.services.plans import plans_ensure_defaults
from clinicflow.care.tests.factories import done_visit, setup
from clinicflow.core.models import AuditEvent, Branch, Organization

pytestmark = pytest.mark.django_db


@pytest.fixture
def tasks(org: Organization, branch: Branch, users: dict[str, User]) -> list[FollowUpTask]:
    """Three tasks of one botulinum visit yesterday: the doctor's call (due today, Moscow), the front
    desk's check-up (in 13 days) and maintenance (in 4 months)."""
    service, doctor, patient = setup(org, branch)
    doctor.user = users["doctor"]
    doctor.save(update_fields=["user"])
    plans_ensure_defaults(org=org)
    # yesterday at noon on the branch's clock (late in the UTC evening, Moscow is already tomorrow)
    zone = ZoneInfo(branch.timezone)
    yesterday = timezone.now().astimezone(zone).date() - dt.timedelta(days=1)
    at = dt.datetime.combine(yesterday, dt.time(12, 0), tzinfo=zone)
    appt = done_visit(org, branch, patient, service, doctor, at)
    followups_generate_for(org=org, appointments=[appt])
    return list(FollowUpTask.objects.for_org(org).order_by("due_at"))


def _get(client: Client, url: str) -> dict[str, object]:
    response = client.get(url)
    assert response.status_code == 200, response.content
    body: dict[str, object] = response.json()
    return body


def test_the_doctor_sees_her_call_today_and_the_front_desk_the_role_tasks_upcoming(
    api: Callable[[str], Client], tasks: list[FollowUpTask]
) -> None:
    mine = _get(api("doctor"), "/api/v1/tasks?view=today")
    assert [i["id"] for i in mine["items"]] == [str(tasks[0].pk)]  # type: ignore[index]
    assert mine["items"][0]["script"].startswith("Introduce yourself")  # type: ignore[index]
    desk = _get(api("frontdesk"), "/api/v1/tasks?view=upcoming")
    assert [i["action"] for i in desk["items"]] == ["checkup", "maintenance"]  # type: ignore[index]
    assert _get(api("manager"), "/api/v1/tasks?who=all&view=upcoming")["count"] == 2


def test_outcomes_no_answer_keeps_the_task_open_booked_closes_it_and_a_second_is_refused(
    api: Callable[[str], Client], tasks: list[FollowUpTask], org: Organization
) -> None:
    client, url = api("doctor"), f"/api/v1/tasks/{tasks[0].pk}/outcome"
    r = client.post(url, json.dumps({"outcome": "no_answer"}), content_type="application/json")
    assert r.status_code == 200 and r.json()["status"] == "open"
    r = client.post(url, json.dumps({"outcome": "declined"}), content_type="application/json")
    assert r.status_code == 422 and r.json()["error"]["fields"] == {
        "reason": ["say why the patient declined"]
    }
    r = client.post(url, json.dumps({"outcome": "booked"}), content_type="application/json")
    assert (r.status_code, r.json()["status"], r.json()["outcome"]) == (200, "done", "booked")
    r = client.post(url, json.dumps({"outcome": "reached"}), content_type="application/json")
    assert r.status_code == 409
    task = FollowUpTask.objects.for_org(org).get(pk=tasks[0].pk)
    assert (task.outcome, task.attempts) == ("booked", 2)
    assert AuditEvent.objects.filter(organization=org, object_type="followup_task").count() == 2
    done = _get(client, "/api/v1/tasks?view=done")
    assert [i["id"] for i in done["items"]] == [str(task.pk)]  # type: ignore[index]


def test_another_organisations_task_is_404_and_unchanged(
    api: Callable[[str], Client], tasks: list[FollowUpTask], org: Organization
) -> None:
    url = f"/api/v1/tasks/{tasks[0].pk}/outcome"
    r = api("outsider").post(url, json.dumps({"outcome": "reached"}), content_type="application/json")
    assert r.status_code == 404
    assert FollowUpTask.objects.for_org(org).get(pk=tasks[0].pk).status == "open"
    assert _get(api("outsider"), "/api/v1/tasks?who=all&view=upcoming")["count"] == 0


def test_the_marketer_may_not_see_tasks(api: Callable[[str], Client], tasks: list[FollowUpTask]) -> None:
    assert api("marketer").get("/api/v1/tasks").status_code == 403


def test_missed_call_callbacks_join_the_front_desk_list_read_only(
    api: Callable[[str], Client], web: Callable[[str], Client], org: Organization, branch: Branch
) -> None:
    now = timezone.now()
    call = Call.objects.create(
        organization=org, provider="generic", provider_call_id="c1", branch=branch,
        caller_e164="+79160000001", started_at=now - dt.timedelta(hours=2), status="missed",
    )  # fmt: skip
    CallbackTask.objects.create(
        organization=org, call=call, branch=branch, phone="+79160000001", due_at=now - dt.timedelta(hours=1)
    )
    body = _get(api("frontdesk"), "/api/v1/tasks?view=overdue")
    assert [(i["kind"], i["url"]) for i in body["items"]] == [  # type: ignore[index]
        ("callback", f"/acquisition/calls/{call.pk}/")
    ]
    assert _get(api("doctor"), "/api/v1/tasks?view=overdue")["count"] == 0
    page = web("frontdesk").get("/care/tasks/?view=overdue")
    assert page.status_code == 200 and "+79160000001" in page.content.decode()


def test_the_task_page_lists_the_task_with_its_script_and_records_an_outcome(
    web: Callable[[str], Client], tasks: list[FollowUpTask], org: Organization
) -> None:
    client = web("doctor")
    page = client.get("/care/tasks/")
    html = page.content.decode()
    assert page.status_code == 200
    assert f'id="task-{tasks[0].pk}"' in html and f"/patients/{tasks[0].patient_id}/" in html
    r = client.post(f"/care/tasks/{tasks[0].pk}/outcome/", {"outcome": "reached", "back": "view=today"})
    assert r.status_code == 302 and r["Location"] == "/care/tasks/?view=today"
    assert FollowUpTask.objects.for_org(org).get(pk=tasks[0].pk).outcome == "reached"
    assert (
        web("outsider").post(f"/care/tasks/{tasks[0].pk}/outcome/", {"outcome": "reached"}).status_code == 404
    )


def test_the_task_list_answers_in_a_fixed_number_of_queries(
    api: Callable[[str], Client],
    tasks: list[FollowUpTask],
    django_assert_max_num_queries: Callable[..., object],
) -> None:
    client = api("manager")
    client.get("/api/v1/tasks?who=all&view=upcoming")  # warm the token
    with django_assert_max_num_queries(12):  # type: ignore[operator]
        client.get("/api/v1/tasks?who=all&view=upcoming")
