"""The open alerts on the role home ``/home/`` of owners and managers (issue #17): the newest five open
(new or seen) alerts, newest first, each in words, with a link to the alerts page; "No open alerts."
when there are none; in ``GET /api/v1/home`` too; nothing of them for the other roles or another
organisation; one query more than the home without them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clinicflow.analytics.models import OwnerAlert
from clinicflow.core.models import Branch, Organization

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 11, 29)


def _alert(org: Organization, n: int, state: str = "new", branch: Branch | None = None) -> OwnerAlert:
    return OwnerAlert.objects.create(
        organization=org,
        branch=branch,
        scope=str(branch.pk) if branch else "",
        metric="doctor_nps",
        subject=f"d{n}",
        subject_label=f"Dr Number{n}",
        source="threshold",
        period_start=DAY - dt.timedelta(days=27),
        period_end=DAY,
        value=Decimal("12.00"),
        threshold=Decimal("30.00"),
        count=25,
        state=state,
        created_at=timezone.now() - dt.timedelta(hours=50 - n),
    )


def test_the_owner_and_the_manager_see_the_five_newest_open_alerts(web, org, branch, other_org) -> None:
    for n in range(7):
        _alert(org, n, branch=branch if n % 2 else None)
    _alert(org, 8, state="dismissed")
    _alert(org, 9, state="seen")
    _alert(other_org, 10)
    for persona in ("owner", "manager"):
        html = web(persona).get("/home/").content.decode()
        block = html[html.index("cf-owner-alerts") :]
        block = block[: block.index("</ul>")]
        shown = [f"Dr Number{n}" for n in (9, 6, 5, 4, 3)]
        assert [label for label in shown if label in block] == shown
        positions = [block.index(f"Dr Number{n}:") for n in (9, 6, 5, 4, 3)]
        assert positions == sorted(positions)  # newest first
        for hidden in ("Dr Number8", "Dr Number2", "Dr Number10"):
            assert hidden not in html
        assert 'href="/analytics/owner/alerts/"' in block
        assert (
            "<strong>Doctor&#x27;s NPS</strong>, Dr Number6: 12.0 (2026-11-02 – 2026-11-29); the threshold is 30.0"
            in block
        )
        assert block.count('badge bg-danger">New') == 4  # the seen one has no badge


def test_no_open_alerts_says_so_and_other_roles_see_no_block(web, org, other_org) -> None:
    _alert(org, 1, state="dismissed")
    _alert(other_org, 2)
    html = web("owner").get("/home/").content.decode()
    assert "cf-owner-alerts" in html and "No open alerts." in html
    assert "Dr Number" not in html
    for persona in ("frontdesk", "doctor", "marketer"):
        assert "cf-owner-alerts" not in web(persona).get("/home/").content.decode()


def test_the_home_api_lists_the_same_alerts(api, org) -> None:
    alerts = [_alert(org, n) for n in range(3)]
    body = api("owner").get("/api/v1/home").json()["blocks"]["alerts"]
    assert [a["id"] for a in body] == [str(a.pk) for a in reversed(alerts)]
    assert body[0]["who"] == "Dr Number2" and body[0]["value"] == "12.0" and body[0]["state"] == "new"
    assert body[0]["metric"] == "doctor_nps" and body[0]["reference"] == "the threshold is 30.0"
    assert api("frontdesk").get("/api/v1/home?as=owner").json()["blocks"].get("alerts") is None


def test_the_block_costs_one_query_whatever_the_number_of_alerts(
    web, org, branch, django_assert_num_queries
) -> None:
    client = web("owner")
    client.get("/home/")  # the session's first request stores it
    with CaptureQueriesContext(connection) as empty:
        client.get("/home/")
    for n in range(8):
        _alert(org, n, branch=branch if n % 2 else None)
    with django_assert_num_queries(len(empty.captured_queries)):
        assert client.get("/home/").status_code == 200
    alert_queries = [q for q in empty.captured_queries if "analytics_owneralert" in q["sql"]]
    assert len(alert_queries) == 1
