"""The manager's plan page: defaults, a new step, removal; other roles and organisations refused."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from clinicflow.care.models import FollowUpPlan, FollowUpStep
from clinicflow.care.tests.factories import setup
from clinicflow.core.models import AuditEvent, Branch, Organization

pytestmark = pytest.mark.django_db


def test_the_manager_makes_default_plans_and_adds_a_step(
    org: Organization, branch: Branch, web: Callable[[str], Client]
) -> None:
    setup(org, branch)
    client = web("manager")
    assert client.post("/care/plans/defaults/").status_code == 302
    plan = FollowUpPlan.objects.for_org(org).get()
    r = client.post(
        f"/care/plans/{plan.pk}/steps/",
        {"action": "photo", "day_offset": "30", "months": "0", "role": "doctor", "script": "Photo day"},
    )
    assert r.status_code == 302
    page = client.get("/care/plans/")
    assert page.status_code == 200 and "Photo day" in page.content.decode()
    assert FollowUpStep.objects.for_org(org).filter(plan=plan, is_active=True).count() == 4
    step = FollowUpStep.objects.for_org(org).get(plan=plan, action="photo")
    assert client.post(f"/care/steps/{step.pk}/remove/").status_code == 302
    assert not FollowUpStep.objects.for_org(org).get(pk=step.pk).is_active
    assert AuditEvent.objects.filter(organization=org, object_type="followup_plan").count() == 2


def test_a_step_needs_a_role_or_a_person_and_a_sane_offset(
    org: Organization, branch: Branch, web: Callable[[str], Client]
) -> None:
    setup(org, branch)
    client = web("manager")
    client.post("/care/plans/defaults/")
    plan = FollowUpPlan.objects.for_org(org).get()
    client.post(f"/care/plans/{plan.pk}/steps/", {"action": "call", "day_offset": "2"})
    client.post(f"/care/plans/{plan.pk}/steps/", {"action": "call", "day_offset": "9999", "role": "doctor"})
    assert FollowUpStep.objects.for_org(org).filter(plan=plan).count() == 3


def test_plans_are_the_managers_and_not_another_organisations(
    org: Organization, other_org: Organization, branch: Branch, web: Callable[[str], Client]
) -> None:
    setup(org, branch)
    web("manager").post("/care/plans/defaults/")
    plan = FollowUpPlan.objects.for_org(org).get()
    assert web("frontdesk").get("/care/plans/").status_code == 403
    r = web("outsider").post(f"/care/plans/{plan.pk}/steps/", {"action": "call", "role": "doctor"})
    assert r.status_code == 404
    assert FollowUpStep.objects.for_org(org).filter(plan=plan).count() == 3
